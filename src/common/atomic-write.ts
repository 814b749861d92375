import * as fs from 'node:fs';
import * as path from 'node:path';

// Write to a temporary file in the same directory, fsync, then rename: readers see the old
// content or the new one, never a torn file.
export function atomicWriteFileSync(file: string, data: string | Uint8Array, mode = 0o600): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  const fd = fs.openSync(tmp, 'w', mode);
  try {
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}
