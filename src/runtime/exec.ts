// exec: a new process inside a running container. The native stage joins the init's
// namespaces (/proc/PID/ns/*), forks; we place the child in the container's cgroups.
import type { ChildProcess } from 'node:child_process';
import type { ProcessConfig } from '../../specs/oci/runtime-config';
import { emit, tracing } from '../events/bus';
import { logDebug, logWarn } from '../common/log';
import { loadCgroupManager } from '../cgroups/manager';
import { joinCgroupDirs, parseSubCgroupArgs, subCgroupDirs } from '../cgroups/sub-cgroups';
import { compileExecPlan, ownBoundingSet } from '../oci/compile-plan';
import { checkPassedFds } from './passed-fds';
import { writePidFile } from './pid-file';
import { forwardSignals } from './signals';
import { joinCgroups, selfJoinFor } from './cgroup-join';
import { spawnInit, type InitStdio } from './spawn';
import { StateDir } from './state-dir';
import { assertCanExec, hookState, liveStatus, loadRecord } from './state';
import { FrameType } from './sync';

export interface ExecOptions {
  root: string;
  id: string;
  process: ProcessConfig;
  detach: boolean;
  pidFile?: string;
  consoleSocket?: string;
  preserveFds?: number;
  /** fds 0-2 of the process (default: tsrun's own, as runc) */
  stdio?: InitStdio;
  /** the runtime stage was spawned: its stdio pipes (with stdio 'pipe') are there to read */
  onSpawned?: (child: ChildProcess) => void;
  /** the process runs, as `pid` on the host */
  onStarted?: (pid: number) => void;
  /** in the foreground, signals to this process go to the exec'd one (the CLI); not in a server */
  keepSignals?: boolean;
  /** exec into a paused container too (runc's --ignore-paused): the process starts frozen */
  ignorePaused?: boolean;
  /** runc's exec --cgroup values: join these existing sub-cgroups of the container's cgroup */
  subCgroups?: string[];
}

/** An exec of `args` with the container's own process settings (env, cwd, user...), as runc builds it. */
export function commandProcess(base: ProcessConfig, args: string[], terminal: boolean): ProcessConfig {
  const proc: ProcessConfig = structuredClone(base);
  proc.args = args;
  proc.terminal = terminal;
  return proc;
}

/** Returns the process's exit status (0 when detached). */
export async function execInContainer(opts: ExecOptions): Promise<number> {
  checkPassedFds(opts.preserveFds ?? 0);
  const dir = new StateDir(opts.root, opts.id);
  dir.lock();
  let unlocked = false;
  try {
    const rec = loadRecord(dir);
    const status = liveStatus(dir, rec);
    assertCanExec(opts.id, status === 'paused' && opts.ignorePaused ? 'running' : status);
    // Checked before anything starts: a bad --cgroup leaves no process behind.
    const subDirs = opts.subCgroups?.length ? subCgroupDirs(rec.cgroup, parseSubCgroupArgs(opts.subCgroups)) : undefined;
    const cgroup = loadCgroupManager(rec.cgroup);
    // Into a sub-cgroup (--cgroup) the runtime moves it, as runc does. On cgroup v2 an exec that
    // joins the container's cgroup namespace cannot be cloned into its cgroup: with nsdelegate
    // (as systemd mounts cgroup2) the kernel refuses a move from outside the namespace's root
    // (clone3 fails with ENOENT), so the runtime writes cgroup.procs from the host instead.
    const intoCgroupns = rec.cgroup.driver === 'v2' && rec.config.linux?.namespaces?.some((n) => n.type === 'cgroup');
    const cgroupJoin = subDirs || intoCgroupns ? undefined : selfJoinFor(rec.config, cgroup, status === 'paused');
    const { plan, warnings, notes } = compileExecPlan(rec.config, opts.process, rec.pid, {
      foreground: !opts.detach,
      consoleSocket: opts.consoleSocket,
      preserveFds: opts.preserveFds ?? 0,
      events: tracing(),
      hostBounding: ownBoundingSet(),
      cgroupJoin,
    });
    for (const w of warnings) logWarn(w);
    for (const n of notes) logDebug(n);
    const init = spawnInit(plan, opts.id, opts.stdio);
    opts.onSpawned?.(init.child);
    try {
      const pid = Number((await init.sync.expect(FrameType.Pid, 'reporting its pid')).toString());
      if (subDirs) joinCgroupDirs(subDirs, pid);
      else await joinCgroups(init, pid, cgroup, cgroupJoin, opts.id);
      // In the container's cgroup now, the process is reached by kill --all and delete: the lock
      // can go (a paused container's exec waits for a resume, which takes the lock).
      dir.unlock();
      unlocked = true;
      init.sync.send(FrameType.Continue, hookState(rec, status));
      await init.sync.expectExec();
      emit('started', `exec pid ${pid}`, 0, opts.id);
      if (opts.pidFile) writePidFile(opts.pidFile, pid);
      opts.onStarted?.(pid);
      if (opts.detach) return 0;
      const stop = opts.keepSignals ? () => {} : forwardSignals(pid);
      const code = await init.exited;
      stop();
      return code;
    } catch (e) {
      init.stop();
      throw e;
    }
  } finally {
    if (!unlocked) dir.unlock();
  }
}
