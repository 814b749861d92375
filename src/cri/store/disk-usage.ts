// Bytes and inodes below a directory, for ImageFsInfo and a container's writable layer.
import * as fs from 'node:fs';

export function diskUsage(dir: string): { bytes: bigint; inodes: bigint } {
  let bytes = 0n;
  let inodes = 0n;
  const walk = (d: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = `${d}/${e.name}`;
      inodes++;
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        try {
          bytes += BigInt(fs.lstatSync(p).blocks * 512);
        } catch {
          /* removed while we walked */
        }
      }
    }
  };
  walk(dir);
  return { bytes, inodes };
}
