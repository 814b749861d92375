// delete: remove a stopped container (or, with --force, kill it first): poststop hooks, its
// cgroups, its state directory.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { TsrunError } from '../common/errors';
import { sleep } from '../common/sleep';
import { emit } from '../events/bus';
import { loadCgroupManager } from '../cgroups/manager';
import { detachSharedRoot } from '../rootfs/shared-mount-ns';
import { runHooks } from './hooks';
import { signalCgroup } from './kill';
import { isSameProcessAlive } from './proc';
import { StateDir } from './state-dir';
import { assertCanDelete, hookState, liveStatus, loadRecord, type ContainerRecord } from './state';

async function killAndWait(rec: ContainerRecord): Promise<void> {
  signalCgroup(rec, os.constants.signals.SIGKILL);
  for (let i = 0; i < 1000 && isSameProcessAlive(rec.pid, rec.pidStartTime); i++) await sleep(10);
  if (isSameProcessAlive(rec.pid, rec.pidStartTime)) throw new TsrunError('TSRUN_E_STATE', `container ${rec.id}: init ${rec.pid} did not die after SIGKILL`);
}

/** Resolves true when there was a container to delete (false: --force on an unknown id). */
export async function deleteContainer(root: string, id: string, force: boolean): Promise<boolean> {
  const dir = new StateDir(root, id);
  try {
    dir.lock();
  } catch (e) {
    if (force && e instanceof TsrunError && e.code === 'TSRUN_E_NOT_FOUND') return false;
    throw e;
  }
  if (!fs.existsSync(dir.stateFile)) {
    // An aborted create left only the directory.
    dir.remove();
    return true;
  }
  const rec = loadRecord(dir);
  const status = liveStatus(dir, rec);
  try {
    assertCanDelete(id, status, force);
    if (status !== 'stopped') await killAndWait(rec);
    runHooks(rec.config.hooks, 'poststop', hookState(rec, 'stopped'), id);
    await loadCgroupManager(rec.cgroup).destroy();
    detachSharedRoot(rec.rootfs, rec.sharedRootMount);
    dir.remove();
    emit('deleted', id, 0, id);
    return true;
  } finally {
    dir.unlock();
  }
}
