// start: open the exec fifo for reading; the init, blocked opening it for writing, writes one
// byte and goes on to execve. Then the fifo is removed (the container is running).
import * as fs from 'node:fs';
import { TsrunError } from '../common/errors';
import { sleep, sleepSync } from '../common/sleep';
import { loadCgroupManager } from '../cgroups/manager';
import { emit } from '../events/bus';
import { runHooks } from './hooks';
import { isSameProcessAlive } from './proc';
import { StateDir } from './state-dir';
import { assertCanStart, hookState, liveStatus, loadRecord, type ContainerRecord } from './state';

function refuseFrozen(rec: ContainerRecord): void {
  const frozen = loadCgroupManager(rec.cgroup).frozenBy();
  if (frozen) throw new TsrunError('TSRUN_E_STATE', `cannot start container ${rec.id}: its cgroup is frozen (${frozen}); resume it first`);
}

async function releaseInit(dir: StateDir, rec: ContainerRecord): Promise<void> {
  // A frozen init never writes its byte: say so rather than wait for ever (runc waits).
  refuseFrozen(rec);
  const fd = fs.openSync(dir.execFifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  try {
    const buf = Buffer.alloc(1);
    const gotByte = (): boolean => {
      try {
        return fs.readSync(fd, buf, 0, 1, null) === 1;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
        return false;
      }
    };
    for (let tries = 0; ; tries++) {
      if (gotByte()) return;
      // Nothing yet: the init has not reopened the fifo. It must still be alive to do so,
      // unless it wrote its byte and its program ran to the end since the read just above.
      if (!isSameProcessAlive(rec.pid, rec.pidStartTime)) {
        if (gotByte()) return;
        throw new TsrunError('TSRUN_E_STATE', `cannot start container ${rec.id}: its init exited before start`);
      }
      if (tries % 100 === 99) refuseFrozen(rec);
      // The init writes its byte microseconds after our open: wait for it closely (10 ms at
      // most, so a server's loop is held no longer), then at a millisecond's pace.
      if (tries < 200) sleepSync(0.05);
      else await sleep(1);
    }
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * After the fifo, the init runs startContainer hooks, then execve. poststart hooks must run
 * after the execve: wait until the process no longer runs the init's sealed memfd.
 */
async function waitForExec(rec: ContainerRecord): Promise<void> {
  for (;;) {
    if (!isSameProcessAlive(rec.pid, rec.pidStartTime)) return;
    let exe: string;
    try {
      exe = fs.readlinkSync(`/proc/${rec.pid}/exe`);
    } catch {
      return;
    }
    if (!exe.startsWith('/memfd:tsrun-init')) return;
    await sleep(1);
  }
}

export async function startContainer(root: string, id: string): Promise<void> {
  const dir = new StateDir(root, id);
  dir.lock();
  try {
    const rec = loadRecord(dir);
    assertCanStart(id, liveStatus(dir, rec));
    const t0 = process.hrtime.bigint();
    await releaseInit(dir, rec);
    // Told at once, while the init is still on its way to execve: the program's first output
    // then follows the step (a learner reads them in that order), as it does happen.
    emit('started', `${id} pid ${rec.pid}`, Number((process.hrtime.bigint() - t0) / 1000n), id);
    await waitForExec(rec);
    fs.rmSync(dir.execFifo, { force: true });
    runHooks(rec.config.hooks, 'poststart', hookState(rec, 'running'), id);
  } finally {
    dir.unlock();
  }
}
