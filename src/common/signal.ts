// The one way tsrun signals a process. kill(2) with pid 0 signals the caller's own process
// group and -1 every process it may signal: a record read before its pid was known (0) or a
// torn pid file (NaN -> 0) must never get that far, so anything but a positive pid is refused.
import { TsrunError } from './errors';

function checkPid(pid: number, what: string): void {
  if (!Number.isSafeInteger(pid) || pid <= 0) throw new TsrunError('TSRUN_E_STATE', `refusing to signal ${what} ${pid}: not a process id`);
}

/** Signals `pid`; false when it no longer exists. */
export function signalPid(pid: number, sig: NodeJS.Signals | number): boolean {
  checkPid(pid, 'pid');
  return send(pid, sig);
}

/** Signals the process group led by `pgid` (never 1, init's, nor our own). */
export function signalGroup(pgid: number, sig: NodeJS.Signals | number): boolean {
  checkPid(pgid, 'process group');
  if (pgid === 1 || pgid === process.pid) throw new TsrunError('TSRUN_E_STATE', `refusing to signal process group ${pgid}`);
  return send(-pgid, sig);
}

function send(target: number, sig: NodeJS.Signals | number): boolean {
  try {
    process.kill(target, sig);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw e;
  }
}
