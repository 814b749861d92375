// kill: send a signal to the init, or with --all to every process in the container's cgroup.
import * as os from 'node:os';
import { TsrunError } from '../common/errors';
import { emit } from '../events/bus';
import { loadCgroupManager } from '../cgroups/manager';
import { StateDir } from './state-dir';
import { assertCanKill, liveStatus, loadRecord } from './state';

/** "TERM", "SIGTERM", "15" -> 15 */
export function parseSignal(s: string | undefined): number {
  if (s === undefined || s === '') return os.constants.signals.SIGTERM;
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (n >= 1 && n <= 64) return n;
  } else {
    const name = (s.toUpperCase().startsWith('SIG') ? s.toUpperCase() : `SIG${s.toUpperCase()}`) as NodeJS.Signals;
    const n = os.constants.signals[name];
    if (n !== undefined) return n;
  }
  throw new TsrunError('TSRUN_E_USAGE', `unknown signal ${JSON.stringify(s)}`);
}

function send(pid: number, sig: number): void {
  try {
    process.kill(pid, sig);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
  }
}

export function killContainer(root: string, id: string, signal: string | undefined, all: boolean): void {
  const sig = parseSignal(signal);
  const dir = new StateDir(root, id);
  dir.lock();
  try {
    const rec = loadRecord(dir);
    const status = liveStatus(dir, rec);
    if (!(all && status === 'stopped')) assertCanKill(id, status);
    const pids = all ? loadCgroupManager(rec.cgroup).pids() : [rec.pid];
    for (const pid of pids) send(pid, sig);
    emit('signal', `${sig} -> ${pids.join(' ')}`, 0, id);
  } finally {
    dir.unlock();
  }
}
