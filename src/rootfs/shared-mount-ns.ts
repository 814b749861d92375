// A container whose linux.namespaces has no "mount" shares the runtime's mount namespace (the
// runtime spec: it inherits the runtime's namespace of that type), as runc and crun allow. Its
// init binds the rootfs on itself, private (nothing below it propagates), mounts the config's
// mounts below that bind and chroots into it. runc and crun leave those mounts in the runtime's
// namespace when the container is gone; tsrun detaches the bind, and all below it, on delete
// (or when create fails), and only if the topmost mount on the rootfs is still the one its init made.
import * as fs from 'node:fs';
import type { RuntimeConfig } from '../../specs/oci/runtime-config';
import { umount } from '../sys/native';

const MNT_DETACH = 2;

export function sharesMountNamespace(config: RuntimeConfig): boolean {
  return !(config.linux?.namespaces ?? []).some((n) => n.type === 'mount');
}

const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

/** The id of the topmost mount on `dir` in this process's mount namespace, if `dir` is a mount point. */
export function topMountId(dir: string): number | undefined {
  let real: string;
  try {
    real = fs.realpathSync(dir);
  } catch {
    return undefined;
  }
  // Mounts stacked on one point: each one's parent is the one below it, so the top one is the
  // only mount there that is no other's parent.
  const here = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' '))
    .filter((f) => f.length > 4 && unescape(f[4]!) === real)
    .map((f) => ({ id: Number(f[0]), parent: Number(f[1]) }));
  return here.find((m) => !here.some((o) => o.parent === m.id))?.id;
}

/** The container's root mount in the runtime's namespace, watched from before its init starts. */
export class SharedRoot {
  private readonly before: number | undefined;

  constructor(private readonly rootfs: string) {
    this.before = topMountId(rootfs);
  }

  /** The mount the init made on the rootfs (once it reported ready), for the record. */
  made(): number | undefined {
    const now = topMountId(this.rootfs);
    return now !== this.before ? now : undefined;
  }

  /** A failed create: detach what the init had mounted, if it got that far. */
  undo(): void {
    detachSharedRoot(this.rootfs, this.made());
  }
}

/** Detaches the rootfs bind `id` (and every mount below it), if it is still the top mount there. */
export function detachSharedRoot(rootfs: string, id: number | undefined): void {
  if (id === undefined || topMountId(rootfs) !== id) return;
  umount(fs.realpathSync(rootfs), MNT_DETACH);
}
