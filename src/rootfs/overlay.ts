// An image's layers as a container's root: overlayfs with the layers as lower dirs (top
// first) and a per-container upper and work dir. In a pod's own user namespace the layers are
// idmapped into it and the upper dir belongs to its root, so the image's files keep their owners
// inside the pod and its root can write its rootfs.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TsrunError } from '../common/errors';
import { ensureDir, PRIVATE } from '../common/private-dir';
import { mount, mountIdmappedOverlay, MNT_DETACH, umount } from '../sys/native';

export interface OverlayDirs {
  /** lowest layer first, as an image lists them */
  layers: string[];
  /** upper and work sit in a directory of their own, which is made owner-only */
  upper: string;
  work: string;
  /** the user namespace the rootfs is seen from: its pinned file and the host ids of its root */
  idmap?: { userns: string; rootUid: number; rootGid: number };
}

export function mountOverlay(target: string, dirs: OverlayDirs): void {
  if (dirs.layers.length === 0) throw new TsrunError('TSRUN_E_UNSUPPORTED', 'an image without layers has no root filesystem');
  // What the container writes (setuid copies too) must not be reachable by other users through
  // the upper dir; the upper dir itself stays 0755, since the rootfs's / takes its mode.
  for (const d of new Set([path.dirname(dirs.upper), path.dirname(dirs.work)])) ensureDir(d, PRIVATE);
  for (const d of [dirs.upper, dirs.work, target]) fs.mkdirSync(d, { recursive: true, mode: 0o755 });
  if (dirs.idmap) return mountIdmapped(target, dirs, dirs.idmap);
  const lower = [...dirs.layers].reverse().join(':');
  const data = `lowerdir=${lower},upperdir=${dirs.upper},workdir=${dirs.work}`;
  if (data.length > 4000) throw new TsrunError('TSRUN_E_UNSUPPORTED', `overlay options for ${dirs.layers.length} layers exceed a page`);
  try {
    mount('overlay', target, 'overlay', 0, data);
  } catch (e) {
    throw new TsrunError('TSRUN_E_SYS', `mount overlay on ${target}: ${(e as Error).message}`);
  }
}

function mountIdmapped(target: string, dirs: OverlayDirs, idmap: NonNullable<OverlayDirs['idmap']>): void {
  // New files and copied-up ones land in the upper dir as host ids: its root is the pod's root.
  for (const d of [dirs.upper, dirs.work]) fs.chownSync(d, idmap.rootUid, idmap.rootGid);
  try {
    mountIdmappedOverlay(target, [...dirs.layers].reverse(), dirs.upper, dirs.work, idmap.userns, path.join(path.dirname(dirs.work), 'idmapped-layers'));
  } catch (e) {
    throw new TsrunError('TSRUN_E_SYS', `mount an idmapped overlay on ${target} for ${idmap.userns}: ${(e as Error).message}`);
  }
}

export function unmountOverlay(target: string): void {
  try {
    umount(target, MNT_DETACH);
  } catch (e) {
    if (!/EINVAL|not mounted|Invalid argument|No such file/.test((e as Error).message)) throw e;
  }
}

export function isMountpoint(dir: string): boolean {
  const abs = path.resolve(dir);
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[4] === abs);
}
