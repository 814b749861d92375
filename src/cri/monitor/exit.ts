// DIR/exit.json, written by the monitor (tmp + rename) when the container init has exited
// and its output is drained.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TsrunError, isErrnoError } from '../../common/errors';
import { MonitorFile } from './files';

export interface ExitRecord {
  pid: number;
  /** the exit status, or 128 + signal when a signal killed it */
  exitCode: number;
  /** the signal that killed it, 0 if it exited */
  signal: number;
  /** RFC 3339, nanoseconds, UTC */
  exitedAt: string;
  /** Unix time in nanoseconds, as a decimal string (beyond a double's precision) */
  exitedAtNs: string;
}

export function readExit(dir: string): ExitRecord | undefined {
  const file = path.join(dir, MonitorFile.exit);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if (isErrnoError(e, 'ENOENT')) return undefined;
    throw e;
  }
  let r: Partial<ExitRecord>;
  try {
    r = JSON.parse(text) as Partial<ExitRecord>;
  } catch {
    throw new TsrunError('TSRUN_E_STATE', `${file} is not JSON: ${text.slice(0, 80)}`);
  }
  const ints = [r.pid, r.exitCode, r.signal].every((n) => Number.isInteger(n));
  if (!ints || typeof r.exitedAt !== 'string' || typeof r.exitedAtNs !== 'string' || !/^\d+$/.test(r.exitedAtNs))
    throw new TsrunError('TSRUN_E_STATE', `${file} lacks pid, exitCode, signal, exitedAt or exitedAtNs: ${text.slice(0, 160)}`);
  return r as ExitRecord;
}

/**
 * Calls onExit once, as soon as DIR/exit.json exists (at once if it already does). Returns a
 * function that stops watching. The monitor renames the record into place, so fs.watch sees
 * a 'rename' for it.
 */
export function watchExit(dir: string, onExit: (r: ExitRecord) => void): () => void {
  let stopped = false;
  let watcher: fs.FSWatcher | undefined;
  const stop = (): void => {
    stopped = true;
    watcher?.close();
  };
  const check = (): void => {
    if (stopped) return;
    const r = readExit(dir);
    if (!r) return;
    stop();
    onExit(r);
  };
  try {
    watcher = fs.watch(dir, (_event, name) => {
      if (!name || name.toString() === MonitorFile.exit) check();
    });
    watcher.on('error', stop); // the directory went away: nothing more will appear in it
  } catch (e) {
    if (!isErrnoError(e, 'ENOENT')) throw e;
  }
  check(); // after the watch starts, so a record written in between is not missed
  return stop;
}

/** Resolves with the exit record once there is one. */
export function waitExit(dir: string): Promise<ExitRecord> {
  return new Promise((resolve) => watchExit(dir, resolve));
}
