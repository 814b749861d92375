// A pod's shared namespaces live without a process: new net/ipc/uts namespaces bind-mounted
// onto files in the pod's run directory (what ip netns does), joined by each container by path.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isErrnoError } from '../../common/errors';
import { MNT_DETACH, pinNamespaces, umount } from '../../sys/native';

export type PinnedType = 'user' | 'net' | 'ipc' | 'uts';

export function pinPodNamespaces(
  dir: string,
  types: PinnedType[],
  hostname: string | null,
  maps?: { uid: string; gid: string },
): Record<PinnedType, string | undefined> {
  const out: Record<PinnedType, string | undefined> = { user: undefined, net: undefined, ipc: undefined, uts: undefined };
  if (!types.length) return out;
  const nsDir = path.join(dir, 'ns');
  fs.mkdirSync(nsDir, { recursive: true, mode: 0o700 });
  const targets = types.map((t) => path.join(nsDir, t));
  for (const t of targets) fs.closeSync(fs.openSync(t, 'w', 0o444));
  try {
    pinNamespaces(types, targets, hostname, maps?.uid ?? null, maps?.gid ?? null);
  } catch (e) {
    unpinNamespaces(targets);
    throw e;
  }
  types.forEach((t, i) => (out[t] = targets[i]));
  return out;
}

/** Lazily unmounts and removes pinned files; missing ones are fine (idempotent). */
export function unpinNamespaces(files: (string | undefined)[]): void {
  for (const f of files) {
    if (!f) continue;
    try {
      umount(f, MNT_DETACH);
    } catch (e) {
      if (!isErrnoError(e) && !/EINVAL|ENOENT|not mounted|Invalid argument|No such file/.test(String(e))) throw e;
    }
    fs.rmSync(f, { force: true });
  }
}
