// Containers of a pod, split as containerd splits them: Create prepares (the image's overlay
// rootfs, config.json from the request, the record); Start makes the runtime's container (its
// monitor spawns the init, the server speaks the sync protocol in-process) and releases it;
// Stop signals it and waits, then kills. When the process exits, what the runtime made (the
// init's cgroup, its state, the rootfs mount) is released at once, as containerd's shim deletes
// the task at exit, so Remove only drops the record and hands the files to a background
// removal. The exit is learnt from the monitor's exit.json, so it is known even after a restart.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { removeTracked } from '../../cgroups/fs-ops';
import { newCgroupManager, type CgroupManager } from '../../cgroups/manager';
import { containerCgroupsPath } from '../cgroup-paths';
import { logDebug, logWarn } from '../../common/log';
import { ensureDir, PRIVATE } from '../../common/private-dir';
import { emit } from '../../events/bus';
import { addLease, hasLease, removeLease } from '../../image/gc';
import { parseSignal } from '../../oci/signals';
import { isMountpoint, unmountOverlay } from '../../rootfs/overlay';
import { mountImageRootfs } from '../../runtime/bundle';
import { readInRoot } from '../../rootfs/secure-join';
import type { CriContext } from '../context';
import { badState, invalid, notFound } from '../errors';
import { findCriImage, statusImageName } from '../images/lookup';
import { launchMonitor, monitorAlive, monitorOf, readExit, signalInit, watchExit, type StartedMonitor } from '../monitor';
import type { ContainerConfig } from '../proto';
import { getSandbox, podPidNamespace, podUserns, requireReady } from '../sandbox/lifecycle';
import { containerSpec } from '../specgen/container-spec';
import { checkName, logFile } from '../validate';
import { ensureShared, releaseShared } from './shared-mounts';
import { nowNs, type ContainerRecord } from '../store/types';

export function getContainer(ctx: CriContext, id: string): ContainerRecord {
  const c = ctx.containers.find(id);
  if (!c) throw notFound(`container ${JSON.stringify(id)} not found`);
  return c;
}

function event(ctx: CriContext, c: ContainerRecord, type: string): void {
  ctx.emitContainerEvent({ container_id: c.id, container_event_type: type as never, created_at: nowNs(), pod_sandbox_status: null, containers_statuses: [] });
}

export async function createContainer(ctx: CriContext, sandboxId: string, config: ContainerConfig): Promise<string> {
  const sandbox = getSandbox(ctx, sandboxId);
  requireReady(sandbox);
  const md = config.metadata;
  if (!md) throw invalid('config.metadata is required');
  checkName('config.metadata.name', md.name);
  if (!config.image?.image) throw invalid('config.image.image is required');
  const pmd = sandbox.config.metadata!;
  const name = `${md.name}_${pmd.name}_${pmd.namespace}_${pmd.uid}_${md.attempt}`;
  const image = findCriImage(ctx.opts.store, config.image.image);
  if (!image) throw notFound(`image ${JSON.stringify(config.image.image)} not found: pull it first`);
  const rec0 = image.records[0]!;
  const id = randomBytes(32).toString('hex');
  ctx.containerNames.reserve(name, id);
  const dir = ctx.containers.dir(id);
  const bundle = path.join(dir, 'bundle');
  const rootfs = path.join(bundle, 'rootfs');
  const sharedMounts: string[] = [];
  try {
    const idmap = podUserns(sandbox);
    bundleDir(bundle, idmap);
    // The record (written durably below) is what a restart takes the lease again from.
    const { config: imageConfig } = mountImageRootfs(ctx.opts.store, rec0, {
      bundle,
      upper: writableLayer(ctx, id),
      work: path.join(dir, 'fs', 'work'),
      idmap,
      durableLease: false,
    });
    const pidMode = config.linux?.security_context?.namespace_options?.pid ?? 'POD';
    let pidNamespace: string | undefined;
    if (pidMode === 'POD') pidNamespace = podPidNamespace(sandbox);
    if (pidMode === 'TARGET') {
      const target = ctx.containers.find(config.linux!.security_context!.namespace_options!.target_id);
      if (!target || target.state !== 'CONTAINER_RUNNING')
        throw invalid(`namespace_options.target_id ${JSON.stringify(config.linux?.security_context?.namespace_options?.target_id)}: no such running container`);
      pidNamespace = `/proc/${target.pid}/ns/pid`;
    }
    const cgroupsPath = containerCgroupsPath(sandbox, id);
    for (const m of config.mounts) {
      if (m.propagation !== 'PROPAGATION_BIDIRECTIONAL' || !m.host_path) continue;
      fs.mkdirSync(m.host_path, { recursive: true });
      const made = ensureShared(fs.realpathSync(m.host_path));
      if (made) sharedMounts.push(made);
    }
    const t0 = process.hrtime.bigint();
    // restrict_oom_score_adj: no lower than the server's own, which the host lets it keep.
    const minOomScoreAdj = ctx.opts.restrictOomScoreAdj ? Number(fs.readFileSync('/proc/self/oom_score_adj', 'utf8')) : undefined;
    const gen = containerSpec({
      id,
      sandbox,
      config,
      image: imageConfig,
      imageName: rec0.name,
      read: (f) => readInRoot(rootfs, f),
      cgroupsPath,
      pidNamespace,
      minOomScoreAdj,
    });
    emit(
      'container_spec',
      `${md.name} from ${rec0.name}: user ${gen.user.uid}:${gen.user.gid}, ${gen.spec.process?.capabilities?.effective?.length ?? 0} capabilities, seccomp ${gen.spec.linux?.seccomp ? gen.spec.linux.seccomp.defaultAction : 'none'}, args ${JSON.stringify(gen.spec.process?.args)}`,
      Number((process.hrtime.bigint() - t0) / 1000n),
      id,
    );
    fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(gen.spec, null, 1));
    const logPath = logFile(sandbox.config.log_directory, config.log_path);
    if (logPath) fs.mkdirSync(path.dirname(logPath), { recursive: true });
    const rec: ContainerRecord = {
      id,
      sandboxId: sandbox.id,
      name,
      config,
      imageName: statusImageName(config.image, image),
      imageId: image.id,
      imageDigest: image.repoDigests[0] ?? '',
      state: 'CONTAINER_CREATED',
      createdAt: nowNs(),
      startedAt: '0',
      pid: 0,
      logPath,
      bundle,
      cgroupsPath,
      ...(sandbox.systemdCgroup ? { systemdCgroup: true } : {}),
      mounts: gen.mounts,
      // The CRI reports the primary group among the supplementary ones, as `id -G` lists it.
      user: { uid: gen.user.uid, gid: gen.user.gid, supplementalGroups: [...new Set([gen.user.gid, ...gen.user.additionalGids])] },
      stopSignal: gen.stopSignal,
      sharedMounts,
    };
    ctx.containers.save(rec);
    event(ctx, rec, 'CONTAINER_CREATED_EVENT');
    return id;
  } catch (e) {
    releaseShared(sharedMounts);
    if (isMountpoint(rootfs)) unmountOverlay(rootfs);
    removeLease(ctx.opts.store, bundle);
    fs.rmSync(dir, { recursive: true, force: true });
    ctx.containerNames.release(name);
    throw e;
  }
}

/**
 * The runtime's container, made at start as containerd makes its task: the monitor spawns the
 * init (it stays as its parent), the server loads, validates and compiles config.json and
 * speaks the sync protocol. The record then names the init and its monitor.
 */
async function createInRuntime(ctx: CriContext, c: ContainerRecord): Promise<void> {
  const monitorDir = ctx.paths.monitorDir(c.id);
  const monitor = launchMonitor({
    id: c.id,
    dir: monitorDir,
    logPath: c.logPath || undefined,
    tty: c.config.tty,
    stdin: c.config.stdin,
    stdinOnce: c.config.stdin_once,
  });
  let started: StartedMonitor;
  try {
    started = await ctx.runtime.create(c.id, c.bundle, monitor, c.config.tty ? path.join(monitorDir, 'console.sock') : undefined);
  } catch (e) {
    fs.rmSync(monitorDir, { recursive: true, force: true });
    throw e;
  }
  emit('monitor_started', `monitor pid ${started.monitorPid}, container pid ${started.pid}${c.logPath ? `, log ${c.logPath}` : ''}`, 0, c.id);
  c.pid = started.pid;
  c.monitor = monitorOf(started);
  ctx.containers.save(c, { durable: false });
}

/**
 * The monitor is gone without an exit record (killed, or a reboot emptied the run dir): no one
 * will record how the container ended. As containerd does for a dead shim, what may still run
 * of it is killed and it is EXITED with code 255, reason Unknown, never RUNNING for ever.
 */
function lostMonitor(ctx: CriContext, c: ContainerRecord): true {
  c.state = 'CONTAINER_EXITED';
  c.exit = {
    exitCode: 255,
    finishedAt: nowNs(),
    reason: 'Unknown',
    message: "the container's monitor is gone and recorded no exit (killed, or the node restarted)",
  };
  ctx.containers.save(c);
  logWarn(`container ${c.id}: its monitor is gone: EXITED (255, Unknown)`);
  emit('container_exited', `${c.config.metadata?.name}: exit 255 (Unknown)`, 0, c.id);
  event(ctx, c, 'CONTAINER_STOPPED_EVENT');
  void releaseRuntime(ctx, c); // kills what may still run of it
  return true;
}

/** Folds the monitor's exit record into the container's; true when the state changed. */
export function refreshExit(ctx: CriContext, c: ContainerRecord): boolean {
  if (c.state !== 'CONTAINER_RUNNING' && c.state !== 'CONTAINER_CREATED') return false;
  // Created but never started: nothing runs, and no monitor is there to record anything yet.
  if (!c.monitor) return false;
  // A process that exits at once is seen (by the exit watch, a status call) while its start is
  // still in flight: StartContainer records RUNNING first and then the exit, in that order.
  if (ctx.starting.has(c.id)) return false;
  const dir = ctx.paths.monitorDir(c.id);
  // A monitor that ends writes exit.json first: read it again once the monitor is seen gone.
  const exit = readExit(dir) ?? (monitorAlive(dir, c.monitor) ? undefined : (readExit(dir) ?? null));
  if (exit === undefined) return false;
  if (exit === null) return lostMonitor(ctx, c);
  let oom = false;
  try {
    oom = containerCgroup(c).oomKills() > 0;
  } catch {
    /* cgroup gone */
  }
  const reason = oom ? 'OOMKilled' : exit.exitCode === 0 ? 'Completed' : 'Error';
  c.state = 'CONTAINER_EXITED';
  c.exit = { exitCode: exit.exitCode, finishedAt: exit.exitedAtNs, reason, message: exit.signal ? `killed by signal ${exit.signal}` : '' };
  ctx.containers.save(c);
  emit('container_exited', `${c.config.metadata?.name}: exit ${exit.exitCode} (${reason})`, 0, c.id);
  event(ctx, c, 'CONTAINER_STOPPED_EVENT');
  void releaseRuntime(ctx, c);
  return true;
}

/**
 * Releases what the runtime made for a container that has ended, as containerd's shim deletes
 * the task at exit: the runtime's delete (it kills what is left, such as an exec in a shared PID
 * namespace, and removes the cgroup and the runtime's state) and the rootfs mount. It starts as
 * soon as the exit is known, off any RPC's path; Stop and Remove wait for it. The writable layer
 * stays until Remove: the container's disk usage is still reported.
 */
export function releaseRuntime(ctx: CriContext, c: ContainerRecord): Promise<void> {
  const pending = ctx.releasing.get(c.id);
  if (pending) return pending;
  if (c.released) return Promise.resolve();
  const p = (async () => {
    if (c.monitor) {
      // The runtime's state may be gone with the run dir (a reboot): the cgroup is found by its path.
      if (!(await ctx.runtime.delete(c.id))) removeTracked(Object.values(containerCgroup(c).state.dirs));
    }
    unmountOverlay(path.join(c.bundle, 'rootfs'));
    c.released = true;
    if (ctx.containers.get(c.id) === c) ctx.containers.save(c, { durable: false });
  })()
    .catch((e: Error) => logWarn(`container ${c.id}: releasing what its runtime made: ${e.message}`))
    .finally(() => ctx.releasing.delete(c.id));
  ctx.releasing.set(c.id, p);
  return p;
}

export async function startContainer(ctx: CriContext, c: ContainerRecord): Promise<void> {
  refreshExit(ctx, c);
  if (c.state !== 'CONTAINER_CREATED') throw badState(`container ${c.id} is ${c.state.replace('CONTAINER_', '').toLowerCase()}, not created`);
  const sandbox = getSandbox(ctx, c.sandboxId);
  requireReady(sandbox);
  ctx.starting.add(c.id);
  let startedAt: string;
  try {
    if (!c.monitor) await createInRuntime(ctx, c);
    // Stamped before the fifo opens: the process cannot have started (nor exited) earlier, so
    // startedAt never follows finishedAt (whole milliseconds: the monitor's clock is the wall's).
    startedAt = String(BigInt(Date.now()) * 1_000_000n);
    await ctx.runtime.start(c.id);
  } catch (e) {
    c.state = 'CONTAINER_EXITED';
    c.exit = { exitCode: 128, finishedAt: nowNs(), reason: 'StartError', message: (e as Error).message };
    ctx.containers.save(c);
    void releaseRuntime(ctx, c);
    throw e;
  } finally {
    ctx.starting.delete(c.id);
  }
  c.state = 'CONTAINER_RUNNING';
  c.startedAt = startedAt;
  // A power cut ends the process anyway (the record then says CREATED, or names a lost monitor).
  ctx.containers.save(c, { durable: false });
  event(ctx, c, 'CONTAINER_STARTED_EVENT');
  // A process that exits at once may have gone before we saved RUNNING.
  refreshExit(ctx, c);
}

/** Waits up to `ms` for the monitor's exit record: a watch on its directory, no polling. */
async function waitExit(ctx: CriContext, c: ContainerRecord, ms: number): Promise<boolean> {
  if (refreshExit(ctx, c) || c.state === 'CONTAINER_EXITED') return true;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      stop();
      resolve();
    }, ms);
    const stop = watchExit(ctx.paths.monitorDir(c.id), () => {
      clearTimeout(timer);
      resolve();
    });
  });
  return refreshExit(ctx, c) || (c.state as string) === 'CONTAINER_EXITED'; // the server's own watch may have recorded it first
}

/**
 * The stop signal goes through the container's monitor, at once (it is the init's parent, so no
 * reused pid is signalled). A signal it cannot number, or a monitor that cannot answer, falls
 * back to the runtime's kill.
 */
async function sendStopSignal(ctx: CriContext, c: ContainerRecord): Promise<void> {
  let signo: number | undefined;
  try {
    signo = parseSignal(c.stopSignal);
  } catch {
    // not a name this runtime numbers: tsrun kill below refuses it too, and the warning says why
  }
  if (signo !== undefined) {
    try {
      await signalInit(ctx.paths.monitorDir(c.id), signo);
      emit('signal', `${c.stopSignal} -> ${c.pid} (by its monitor)`, 0, c.id);
      return;
    } catch (e) {
      logDebug(`stop ${c.id} through its monitor: ${(e as Error).message}; trying the runtime's kill`);
    }
  }
  try {
    await ctx.runtime.kill(c.id, c.stopSignal);
  } catch (e) {
    logWarn(`stop ${c.id}: ${(e as Error).message}`);
  }
}

/**
 * Signal, wait `timeout` seconds, then SIGKILL every process of the container; returns once the
 * exit is recorded and what the runtime made is released (as containerd's Stop returns after
 * its task is deleted).
 */
export async function stopContainer(ctx: CriContext, c: ContainerRecord, timeoutSec: number): Promise<void> {
  refreshExit(ctx, c);
  // Never started: nothing runs, and it stays CREATED, as containerd leaves it.
  if (c.state === 'CONTAINER_CREATED' && !c.monitor) return;
  if (c.state === 'CONTAINER_EXITED' || c.state === 'CONTAINER_UNKNOWN') return releaseRuntime(ctx, c);
  if (timeoutSec > 0 && c.state === 'CONTAINER_RUNNING') {
    await sendStopSignal(ctx, c);
    if (await waitExit(ctx, c, timeoutSec * 1000)) return releaseRuntime(ctx, c);
  }
  try {
    await ctx.runtime.kill(c.id, 'KILL', true);
  } catch (e) {
    logWarn(`stop ${c.id}: ${(e as Error).message}`);
  }
  if (!(await waitExit(ctx, c, 10_000))) throw badState(`container ${c.id} did not exit after SIGKILL`);
  await releaseRuntime(ctx, c);
}

/**
 * Drops the record and reserved name at once; the container's files (bundle, writable layer,
 * the monitor's directory) go to a background removal, as containerd's snapshots go to its
 * garbage collector, and what a crash leaves of them is swept at the next start-up.
 */
export async function removeContainer(ctx: CriContext, c: ContainerRecord): Promise<void> {
  refreshExit(ctx, c);
  await stopContainer(ctx, c, 0);
  await releaseRuntime(ctx, c);
  removeLease(ctx.opts.store, c.bundle);
  releaseShared(c.sharedMounts);
  ctx.trash.discard(ctx.paths.monitorDir(c.id));
  ctx.containers.delete(c.id);
  ctx.containerNames.release(c.name);
  event(ctx, c, 'CONTAINER_DELETED_EVENT');
}

/**
 * Takes the container's image lease again if a power cut lost it (it is written without fsync):
 * at start-up, before anything could collect the layers under its rootfs.
 */
export function keepLease(ctx: CriContext, c: ContainerRecord): void {
  if (hasLease(ctx.opts.store, c.bundle) || !fs.existsSync(c.bundle)) return;
  const image = findCriImage(ctx.opts.store, c.imageId);
  if (image) addLease(ctx.opts.store, c.bundle, image.records[0]!);
}

/** The container's writable layer (the overlay's upperdir): what its disk usage counts. */
export function writableLayer(ctx: CriContext, id: string): string {
  return path.join(ctx.containers.dir(id), 'fs', 'upper');
}

/**
 * The bundle is owner-only (its rootfs/ shows the image's setuid binaries), as containerd's is;
 * in a pod's own user namespace the pod's root must still pass through to reach rootfs/, so
 * its group is the pod root's group with search only (0710), as containerd does for userns.
 */
function bundleDir(bundle: string, idmap: { rootGid: number } | undefined): void {
  ensureDir(bundle, idmap ? 0o710 : PRIVATE);
  if (idmap) fs.chownSync(bundle, 0, idmap.rootGid);
}

/** The container's cgroup, for stats and updates. */
export function containerCgroup(c: ContainerRecord): CgroupManager {
  return newCgroupManager(c.id, c.cgroupsPath, { systemd: !!c.systemdCgroup });
}
