// A bidirectional volume propagates mounts both ways only if its host path sits on a shared
// mount. Hosts whose / is private (as on this project's machines) get the path bind-mounted
// onto itself and made shared, once; the container's removal undoes what it made.
import * as fs from 'node:fs';
import { MS } from '../../oci/mount-options';
import { MNT_DETACH, mount, umount } from '../../sys/native';

/** The mountinfo line of the mount that holds `p` (the longest mount point prefix). */
function mountOf(p: string): { point: string; shared: boolean } {
  let best = { point: '/', shared: false };
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const f = line.split(' ');
    const point = (f[4] ?? '').replace(/\\040/g, ' ');
    if (!point || !(p === point || p.startsWith(point.endsWith('/') ? point : point + '/'))) continue;
    if (point.length >= best.point.length) best = { point, shared: line.split(' - ')[0]!.includes(' shared:') };
  }
  return best;
}

/** Makes hostPath's mount shared if it is not; returns the path when a bind was made. */
export function ensureShared(hostPath: string): string | undefined {
  if (mountOf(hostPath).shared) return undefined;
  mount(hostPath, hostPath, null, MS.BIND | MS.REC, null);
  mount(null, hostPath, null, MS.SHARED | MS.REC, null);
  return hostPath;
}

export function releaseShared(paths: string[] | undefined): void {
  for (const p of paths ?? []) {
    try {
      umount(p, MNT_DETACH);
    } catch {
      /* already gone */
    }
  }
}
