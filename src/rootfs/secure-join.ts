// Reading a file inside a rootfs from the host side without following its symlinks out:
// each link is resolved as if the rootfs were "/" (the idea of runc's securejoin).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TsrunError } from '../common/errors';

export function secureJoin(root: string, unsafe: string): string {
  const parts = unsafe.split('/').filter(Boolean);
  const done: string[] = [];
  for (let hops = 0; parts.length;) {
    const p = parts.shift()!;
    if (p === '.') continue;
    if (p === '..') {
      done.pop();
      continue;
    }
    const full = path.join(root, ...done, p);
    let st: fs.Stats | undefined;
    try {
      st = fs.lstatSync(full);
    } catch {
      /* missing: keep the name */
    }
    if (st?.isSymbolicLink()) {
      if (++hops > 40) throw new Error(`too many symlinks resolving ${unsafe} in ${root}`);
      const target = fs.readlinkSync(full);
      if (target.startsWith('/')) done.length = 0;
      parts.unshift(...target.split('/').filter(Boolean));
      continue;
    }
    done.push(p);
  }
  return path.join(root, ...done);
}

/** /etc/passwd and /etc/group are KiBs; an image's file past this is not read. */
const MAX_READ_BYTES = 4 << 20;

/**
 * A file of an image's rootfs (/etc/passwd, /etc/group), or undefined when there is none. The
 * image is not trusted: a fifo there would block the reader and a device node (/dev/zero's
 * numbers) never end, so only a regular file of bounded size is read, opened without blocking.
 */
export function readInRoot(root: string, file: string): string | undefined {
  let fd: number;
  try {
    fd = fs.openSync(secureJoin(root, file), fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOFOLLOW);
  } catch {
    return undefined;
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new TsrunError('TSRUN_E_CONFIG', `the image's ${file} is not a regular file: refusing to read it`);
    if (st.size > MAX_READ_BYTES)
      throw new TsrunError('TSRUN_E_CONFIG', `the image's ${file} is ${st.size} bytes, more than ${MAX_READ_BYTES >> 20} MiB: refusing to read it`);
    return fs.readFileSync(fd, 'utf8');
  } finally {
    fs.closeSync(fd);
  }
}
