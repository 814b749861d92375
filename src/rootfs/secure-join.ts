// Reading a file inside a rootfs from the host side without following its symlinks out:
// each link is resolved as if the rootfs were "/" (the idea of runc's securejoin).
import * as fs from 'node:fs';
import * as path from 'node:path';

export function secureJoin(root: string, unsafe: string): string {
  const parts = unsafe.split('/').filter(Boolean);
  const done: string[] = [];
  for (let hops = 0; parts.length; ) {
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

export function readInRoot(root: string, file: string): string | undefined {
  try {
    return fs.readFileSync(secureJoin(root, file), 'utf8');
  } catch {
    return undefined;
  }
}
