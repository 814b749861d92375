// --pid-file: the container's (or an exec's) pid, for the caller that asked, as runc writes it.
import { atomicWriteFileSync } from '../common/atomic-write';

export function writePidFile(file: string, pid: number): void {
  atomicWriteFileSync(file, String(pid), { mode: 0o644 });
}
