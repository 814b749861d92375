// start: open the exec fifo for reading; the init, blocked opening it for writing, writes one
// byte and goes on to execve. Then the fifo is removed (the container is running).
import * as fs from 'node:fs';
import { TsrunError } from '../common/errors';
import { sleepSync } from '../common/sleep';
import { step } from '../events/bus';
import { runHooks } from './hooks';
import { isSameProcessAlive } from './proc';
import { StateDir } from './state-dir';
import { assertCanStart, hookState, liveStatus, loadRecord, type ContainerRecord } from './state';

function releaseInit(dir: StateDir, rec: ContainerRecord): void {
  const fd = fs.openSync(dir.execFifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  try {
    const buf = Buffer.alloc(1);
    for (;;) {
      let n = 0;
      try {
        n = fs.readSync(fd, buf, 0, 1, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      }
      if (n === 1) return;
      // Nothing yet: the init has not reopened the fifo. It must still be alive to do so.
      if (!isSameProcessAlive(rec.pid, rec.pidStartTime)) throw new TsrunError('TSRUN_E_STATE', `cannot start container ${rec.id}: its init exited before start`);
      sleepSync(1);
    }
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * After the fifo, the init runs startContainer hooks, then execve. poststart hooks must run
 * after the execve: wait until the process no longer runs the init's sealed memfd.
 */
function waitForExec(rec: ContainerRecord): void {
  for (;;) {
    if (!isSameProcessAlive(rec.pid, rec.pidStartTime)) return;
    let exe = '';
    try {
      exe = fs.readlinkSync(`/proc/${rec.pid}/exe`);
    } catch {
      return;
    }
    if (!exe.startsWith('/memfd:tsrun-init')) return;
    sleepSync(1);
  }
}

export function startContainer(root: string, id: string): void {
  const dir = new StateDir(root, id);
  dir.lock();
  try {
    const rec = loadRecord(dir);
    assertCanStart(id, liveStatus(dir, rec));
    step('started', `${id} pid ${rec.pid}`, () => {
      releaseInit(dir, rec);
      waitForExec(rec);
    }, id);
    fs.rmSync(dir.execFifo, { force: true });
    runHooks(rec.config.hooks, 'poststart', hookState(rec, 'running'), id);
  } finally {
    dir.unlock();
  }
}
