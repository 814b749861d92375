// kill: send a signal to the init, or with --all to every process in the container's cgroup.
import * as os from 'node:os';
import { signalPid } from '../common/signal';
import { emit } from '../events/bus';
import { loadCgroupManager } from '../cgroups/manager';
import { parseSignal } from '../oci/signals';
import { StateDir } from './state-dir';
import { assertCanKill, containerProcesses, liveStatus, loadRecord, type ContainerRecord } from './state';

/**
 * Signals every process of a container's cgroup: SIGKILL through cgroup.kill where the kernel
 * has it (it reaches tasks that are forking), else each pid; a frozen cgroup is thawed after a
 * SIGKILL, since frozen tasks only die once thawed. Returns what was signalled, for the trace.
 */
export function signalCgroup(rec: ContainerRecord, sig: number): string {
  const cg = loadCgroupManager(rec.cgroup);
  let what: string;
  if (sig === os.constants.signals.SIGKILL && cg.killAll()) what = 'cgroup.kill';
  else {
    // A record whose init never reported its pid has 0 here: only real pids are signalled.
    const pids = new Set([rec.pid, ...containerProcesses(rec)].filter((p) => p > 0));
    for (const pid of pids) signalPid(pid, sig);
    what = [...pids].join(' ');
  }
  if (sig === os.constants.signals.SIGKILL && cg.isFrozen()) cg.freeze(false);
  return what;
}

export function killContainer(root: string, id: string, signal: string | undefined, all: boolean): void {
  const sig = parseSignal(signal, true);
  const dir = new StateDir(root, id);
  dir.lock();
  try {
    const rec = loadRecord(dir);
    const status = liveStatus(dir, rec);
    if (!(all && status === 'stopped')) assertCanKill(id, status);
    if (!all) {
      signalPid(rec.pid, sig);
      emit('signal', `${sig} -> ${rec.pid}`, 0, id);
      return;
    }
    emit('signal', `${sig} -> ${signalCgroup(rec, sig)}`, 0, id);
  } finally {
    dir.unlock();
  }
}
