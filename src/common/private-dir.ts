// Directories other local users must not enter. Image layers hold setuid binaries and device
// nodes exactly as the image ships them (and a container's writable layer whatever it made):
// a path into them open to every user would hand out root (containerd's CVE-2021-41103).
// The mode is set on an existing directory too, so a store made by an older tsrun is closed.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Owner only: layers, blobs, a container's writable layer. */
export const PRIVATE = 0o700;
/** Searchable, not listable: a parent a container's userns root must pass to reach its rootfs. */
export const PASSAGE = 0o711;

/** Makes `dir` (its missing parents with the usual 0755) and gives it `mode`. */
export function ensureDir(dir: string, mode: number): string {
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  try {
    fs.mkdirSync(dir, { mode });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  // mkdir's mode passes through the umask, and an existing directory keeps its old one.
  if ((fs.statSync(dir).mode & 0o7777) !== mode) fs.chmodSync(dir, mode);
  return dir;
}
