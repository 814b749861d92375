// create: bundle -> a container whose init waits on the exec fifo.
//   load + validate -> reserve state dir -> cgroup -> compile plan -> spawn init ->
//   PID: join cgroup, createRuntime/prestart hooks -> CONTINUE -> READY -> created.
// Any failure undoes every finished step in reverse.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RuntimeConfig } from '../../specs/oci/runtime-config';
import { writePidFile } from './pid-file';
import { TsrunError } from '../common/errors';
import { logDebug, logWarn } from '../common/log';
import { signalPid } from '../common/signal';
import { claimDirs, isSystemdPath, newCgroupManager } from '../cgroups/manager';
import { emit, step, tracing } from '../events/bus';
import { loadBundle } from '../oci/load-bundle';
import { checkSecurityModules } from '../oci/lsm';
import { compileCreatePlan, ownBoundingSet } from '../oci/compile-plan';
import { withMountPath } from '../oci/mount-errors';
import type { Plan } from '../oci/plan';
import { UndoStack } from '../common/undo';
import { SharedRoot, sharesMountNamespace } from '../rootfs/shared-mount-ns';
import { checkSpecialMountTargets } from '../rootfs/special-mounts';
import { mkfifo } from '../sys/native';
import { runHooks } from './hooks';
import { checkPassedFds } from './passed-fds';
import { readProcStat } from './proc';
import { joinCgroups, selfJoinFor } from './cgroup-join';
import { isRootless, rootlessIdMaps } from './rootless';
import { spawnInit, type InitProcess } from './spawn';
import { StateDir } from './state-dir';
import { hookState, ownerName, saveRecord, type ContainerRecord } from './state';
import { FrameType } from './sync';

export interface CreateOptions {
  root: string;
  id: string;
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  preserveFds?: number;
  noPivot?: boolean;
  /** run: the native runtime stage stays and exits with the container's status */
  foreground?: boolean;
  /** starts the init with the compiled plan; by default as our own child (the CLI) */
  spawn?: (plan: Plan) => InitProcess;
  /** runc's --rootless: true, false or auto (default: not real root) */
  rootless?: string;
  /** the systemd cgroup driver (--systemd-cgroup) */
  systemdCgroup?: boolean;
}

export interface Created {
  record: ContainerRecord;
  stateDir: StateDir;
  init: InitProcess;
}

export async function createContainer(opts: CreateOptions): Promise<Created> {
  checkPassedFds(opts.preserveFds ?? 0);
  const stateDir = new StateDir(opts.root, opts.id);
  const bundle = step('config_loaded', opts.bundle, () => loadBundle(opts.bundle), opts.id);
  const config: RuntimeConfig = bundle.config;
  checkSecurityModules(config);
  checkSpecialMountTargets(config, bundle.rootfs);
  if (config.process?.terminal && !opts.consoleSocket && !opts.foreground)
    throw new TsrunError('TSRUN_E_USAGE', 'process.terminal is true: a detached container needs --console-socket');
  if (!config.process?.terminal && opts.consoleSocket)
    throw new TsrunError('TSRUN_E_USAGE', '--console-socket was given but process.terminal is false in config.json');
  const rootless = isRootless(opts.rootless);
  // Which driver the path is for is known here, not in the config's validation.
  const cgroupsPath = config.linux?.cgroupsPath;
  if (!opts.systemdCgroup && cgroupsPath !== undefined && isSystemdPath(cgroupsPath))
    throw new TsrunError(
      'TSRUN_E_CONFIG',
      `${path.join(bundle.dir, 'config.json')}: linux.cgroupsPath: ${JSON.stringify(cgroupsPath)} is a systemd slice path ("slice:prefix:name"); the cgroupfs driver needs a directory path: pass --systemd-cgroup to have systemd make the cgroup`,
    );
  // An ordinary user's checks and id-map helpers (root of a user namespace writes maps itself).
  const idMaps = rootlessIdMaps(config);

  const undo = new UndoStack();
  step('state_reserved', stateDir.dir, () => stateDir.reserve(), opts.id);
  undo.push('remove state dir', () => stateDir.remove());
  let init: InitProcess | undefined;
  try {
    const cgroup = newCgroupManager(opts.id, config.linux?.cgroupsPath, { rootless, systemd: opts.systemdCgroup });
    claimDirs(cgroup.state);
    const record: ContainerRecord = {
      version: 1,
      id: opts.id,
      bundle: bundle.dir,
      rootfs: bundle.rootfs,
      created: new Date().toISOString(),
      owner: ownerName(),
      status: 'creating',
      pid: 0,
      config,
      cgroup: cgroup.state,
    };
    saveRecord(stateDir, record);
    // The init reopens the fifo for writing after switching to the container's user (as runc:
    // owned by the container's root, mode 0622); the state dir (0711) keeps its path private.
    mkfifo(stateDir.execFifo, 0o622);
    fs.chmodSync(stateDir.execFifo, 0o622);
    const root = containerRootIds(config);
    try {
      fs.chownSync(stateDir.execFifo, root.uid, root.gid);
    } catch (e) {
      // Rootless, container root mapped to a subordinate id: not ours to give; 0622 lets it write.
      if (!rootless || (e as NodeJS.ErrnoException).code !== 'EPERM') throw e;
    }
    step('cgroup_created', cgroup.state.path, () => cgroup.create(), opts.id);
    undo.push('remove cgroup', () => cgroup.destroy());
    saveRecord(stateDir, record);
    // An init placed in a frozen cgroup would never report back: refuse it, as runc does.
    const frozen = cgroup.frozenBy();
    if (frozen)
      throw new TsrunError('TSRUN_E_CGROUP', `container's cgroup unexpectedly frozen (${frozen}): thaw it, or give the container another linux.cgroupsPath`);
    // One step per controller, naming each file written: the limits are those files.
    await cgroup.apply(config.linux?.resources, (controller, writes, us) => emit('cgroup_limits', `${controller}: ${writes.join(', ')}`, us, opts.id));

    const cgroupJoin = selfJoinFor(config, cgroup);
    const { plan, warnings, notes } = compileCreatePlan(config, {
      rootfs: bundle.rootfs,
      execFifo: stateDir.execFifo,
      noPivot: !!opts.noPivot,
      cgroup: cgroup.state,
      foreground: !!opts.foreground,
      consoleSocket: opts.consoleSocket,
      preserveFds: opts.preserveFds ?? 0,
      events: tracing(),
      hostBounding: ownBoundingSet(),
      cgroupJoin,
      idMaps,
    });
    for (const w of warnings) logWarn(w);
    for (const n of notes) logDebug(n);

    // No mount namespace: the init's mounts land in ours, below a bind it makes on the rootfs.
    const sharedRoot = sharesMountNamespace(config) ? new SharedRoot(bundle.rootfs) : undefined;
    if (sharedRoot) undo.push('detach the container root', () => sharedRoot.undo());
    init = opts.spawn ? opts.spawn(plan) : spawnInit(plan, opts.id);
    const spawned = init;
    undo.push('stop the init', () => {
      if (record.pid > 0) signalPid(record.pid, 'SIGKILL');
      spawned.sync.close();
      spawned.stop();
    });
    const pid = Number((await init.sync.expect(FrameType.Pid, 'reporting its pid')).toString());
    record.pid = pid;
    record.pidStartTime = readProcStat(pid)?.startTime;
    emit('init_spawned', `pid ${pid}`, 0, opts.id);
    await joinCgroups(init, pid, cgroup, cgroupJoin, opts.id);
    saveRecord(stateDir, record);

    const state = hookState(record, 'creating');
    runHooks(config.hooks, 'createRuntime', state, opts.id);
    runHooks(config.hooks, 'prestart', state, opts.id);
    init.sync.send(FrameType.Continue, state);
    await init.sync.expect(FrameType.Ready, 'becoming ready');
    if (!opts.foreground) init.sync.close();

    record.status = 'created';
    record.sharedRootMount = sharedRoot?.made();
    saveRecord(stateDir, record);
    if (opts.pidFile) writePidFile(opts.pidFile, pid);
    emit('created', `${opts.id} pid ${pid}`, 0, opts.id);
    stateDir.unlock();
    return { record, stateDir, init };
  } catch (e) {
    await undo.run();
    // Reap the runtime stage, but never wait on it for long (an unref'd timer does not hold the CLI open).
    if (init) await Promise.race([init.exited, new Promise((r) => setTimeout(r, 2000).unref())]);
    throw withMountPath(config, e);
  }
}

/** The host ids that uid/gid 0 of the container map to. */
function containerRootIds(config: RuntimeConfig): { uid: number; gid: number } {
  const find = (maps: { containerID: number; hostID: number; size: number }[] | undefined): number => maps?.find((m) => m.containerID === 0)?.hostID ?? 0;
  const userns = config.linux?.namespaces?.some((n) => n.type === 'user' && !n.path);
  return userns ? { uid: find(config.linux?.uidMappings), gid: find(config.linux?.gidMappings) } : { uid: 0, gid: 0 };
}
