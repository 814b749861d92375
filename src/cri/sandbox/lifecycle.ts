// Pod sandboxes: RunPodSandbox reserves the name, then pins the pod's namespaces, mounts its
// /dev/shm, runs CNI ADD, writes hosts/resolv.conf/hostname, limits a pod cgroup it made (no
// kubelet parent) to the pod's resources, and (when the pod shares a PID namespace) starts the
// infra process. Every finished step is undone if a later one fails.
// Stop tears the network down and stops every container; Remove deletes what is left.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { removeTracked } from '../../cgroups/fs-ops';
import { newCgroupManager } from '../../cgroups/manager';
import { podCgroupParent, podSlicePath } from '../cgroup-paths';
import { logWarn } from '../../common/log';
import { UndoStack } from '../../common/undo';
import { emit, step } from '../../events/bus';
import { MS } from '../../oci/mount-options';
import { isMountpoint } from '../../rootfs/overlay';
import { MNT_DETACH, mount, umount } from '../../sys/native';
import type { CriContext } from '../context';
import { badState, invalid, notFound } from '../errors';
import { launchMonitor, monitorAlive, monitorOf, readExit } from '../monitor';
import type { LinuxContainerResources, PodSandboxConfig } from '../proto';
import { ociResources } from '../specgen/resources';
import { nowNs, type SandboxRecord } from '../store/types';
import { writePodFiles } from './files';
import { checkName, checkPath } from '../validate';
import { writeInfraBundle } from './infra';
import { pinPodNamespaces, unpinNamespaces, type PinnedType } from './namespaces';

export function sandboxName(config: PodSandboxConfig): string {
  const md = config.metadata;
  if (!md) throw invalid('config.metadata is required');
  for (const k of ['name', 'namespace', 'uid'] as const) {
    checkName(`config.metadata.${k}`, md[k]);
    // They travel to the CNI plugins in CNI_ARGS (K=V;K=V), and Kubernetes never makes such names.
    if (/[;=\s]/.test(md[k])) throw invalid(`config.metadata.${k} ${JSON.stringify(md[k])}: must not contain ';', '=' or spaces`);
  }
  return `${md.name}_${md.namespace}_${md.uid}_${md.attempt}`;
}

/**
 * The pod's user namespace maps (userns_options): NODE (or none) is the host's; POD is one
 * new namespace for the pod, given exactly one uid and one gid mapping that include id 0.
 */
function podIdMaps(config: PodSandboxConfig): { uid: string; gid: string } | undefined {
  const uo = config.linux?.security_context?.namespace_options?.userns_options;
  if (!uo || uo.mode === 'NODE') return undefined;
  if (uo.mode !== 'POD') throw invalid(`userns_options.mode ${uo.mode}: only NODE and POD user namespaces are supported`);
  const text = (kind: 'uids' | 'gids'): string => {
    const m = uo[kind];
    if (m.length !== 1) throw invalid(`userns_options.${kind}: exactly one mapping is supported, got ${m.length}`);
    const { container_id, host_id, length } = m[0]!;
    if (container_id !== 0) throw invalid(`userns_options.${kind}: container id 0 must be mapped (the mapping starts at ${container_id})`);
    if (!length) throw invalid(`userns_options.${kind}: the mapping has length 0`);
    return `${container_id} ${host_id} ${length}\n`;
  };
  return { uid: text('uids'), gid: text('gids') };
}

/** What RunPodSandbox checks of a request before it makes anything: the pod's name and id maps. */
export function checkSandboxRequest(config: PodSandboxConfig, handler: string): { name: string; maps: { uid: string; gid: string } | undefined } {
  const name = sandboxName(config);
  if (handler && handler !== 'tsrun' && handler !== 'runc')
    throw invalid(`runtime_handler ${JSON.stringify(handler)}: this server has only the default handler`);
  if (config.log_directory) checkPath('config.log_directory', config.log_directory);
  if (config.hostname.length > 64) throw invalid(`config.hostname ${JSON.stringify(config.hostname)}: longer than the kernel's 64 bytes`);
  return { name, maps: podIdMaps(config) };
}

export async function runSandbox(ctx: CriContext, config: PodSandboxConfig, handler: string): Promise<string> {
  const { name, maps } = checkSandboxRequest(config, handler);
  const id = randomBytes(32).toString('hex');
  ctx.podNames.reserve(name, id);
  const undo = new UndoStack();
  undo.push('release the pod name', () => ctx.podNames.release(name));
  try {
    const nsOpts = config.linux?.security_context?.namespace_options;
    const hostNetwork = nsOpts?.network === 'NODE';
    const hostIpc = nsOpts?.ipc === 'NODE';
    const hostPid = nsOpts?.pid === 'NODE';
    // Without a hostname, the pod name stands in, cut to a DNS label as the kubelet cuts it.
    const hostname = config.hostname || (hostNetwork ? os.hostname() : config.metadata!.name.slice(0, 63).replace(/[-.]+$/, ''));
    const runDir = ctx.paths.sandboxRun(id);
    fs.mkdirSync(runDir, { recursive: true, mode: 0o711 });
    undo.push('remove the pod run dir', () => fs.rmSync(runDir, { recursive: true, force: true }));

    const types: PinnedType[] = maps ? ['user'] : [];
    if (!hostNetwork) types.push('net', 'uts');
    if (!hostIpc) types.push('ipc');
    const pinned = step(
      'pod_namespaces',
      `${types.join(',') || 'none (host)'} -> ${runDir}/ns${maps ? ` (uid map ${maps.uid.trim()})` : ''}`,
      () => pinPodNamespaces(runDir, types, hostNetwork ? null : hostname, maps),
      id,
    );
    undo.push('unpin the pod namespaces', () => unpinNamespaces([pinned.net, pinned.ipc, pinned.uts, pinned.user]));

    let shm = '/dev/shm';
    if (!hostIpc) {
      shm = path.join(runDir, 'shm');
      fs.mkdirSync(shm, { recursive: true });
      step('pod_shm', `tmpfs ${shm}`, () => mount('shm', shm, 'tmpfs', MS.NOSUID | MS.NODEV | MS.NOEXEC, 'mode=1777,size=65536k'), id);
      undo.push('unmount the pod /dev/shm', () => umount(shm, MNT_DETACH));
    }

    let ip: string | undefined;
    const additionalIps: string[] = [];
    const netReq = {
      podId: id,
      netns: pinned.net ?? '',
      namespace: config.metadata!.namespace,
      name: config.metadata!.name,
      uid: config.metadata!.uid,
      portMappings: config.port_mappings.map((p) => ({
        hostPort: p.host_port,
        containerPort: p.container_port,
        protocol: (p.protocol ?? 'TCP').toLowerCase() as 'tcp' | 'udp' | 'sctp',
        hostIP: p.host_ip || undefined,
      })),
    };
    if (!hostNetwork) {
      const t0 = Date.now();
      const result = await ctx.cni.setUp(netReq);
      undo.push('tear the pod network down', () => ctx.cni.tearDown(netReq));
      const ips = result.ips.map((i) => i.address.split('/')[0]!);
      ip = result.ips.find((i) => i.version === '4')?.address.split('/')[0] ?? ips[0];
      additionalIps.push(...ips.filter((a) => a !== ip));
      emit(
        'pod_network',
        `${result.network} ${ips.join(' ')} in ${pinned.net}${netReq.portMappings.length ? ` ports ${netReq.portMappings.map((p) => `${p.hostPort}->${p.containerPort}`).join(',')}` : ''}`,
        (Date.now() - t0) * 1000,
        id,
      );
    }
    const files = step(
      'pod_files',
      `hostname ${hostname}, hosts, resolv.conf in ${runDir}`,
      () => writePodFiles(runDir, hostname, config.dns_config, ip, hostNetwork),
      id,
    );
    const ownCgroupParent = !config.linux?.cgroup_parent;
    const cgroupParent = podCgroupParent(ctx.opts, config.linux?.cgroup_parent, id);
    const rec: SandboxRecord = {
      id,
      name,
      config,
      runtimeHandler: handler,
      state: 'SANDBOX_READY',
      createdAt: nowNs(),
      netns: pinned.net,
      userns: pinned.user,
      ipcns: pinned.ipc,
      utsns: pinned.uts,
      hostNetwork,
      hostIpc,
      hostPid,
      ip,
      additionalIps,
      networkAttached: !hostNetwork,
      cgroupParent,
      ownCgroupParent,
      ...(ctx.opts.systemdCgroup ? { systemdCgroup: true } : {}),
      hostname,
      shm,
      files,
    };
    if (ownCgroupParent && config.linux?.resources) {
      await applyPodResources(rec);
      undo.push('remove the pod cgroup', () => removePodCgroup(rec));
    }
    // Containers of a pod that shares its PID namespace need a PID 1 to join.
    if (!hostPid && (nsOpts?.pid ?? 'POD') === 'POD') {
      const bundle = writeInfraBundle(runDir, rec);
      const started = await ctx.runtime.create(id, bundle, launchMonitor({ id, dir: ctx.paths.monitorDir(id) }));
      undo.push('delete the infra container', () => ctx.runtime.delete(id));
      await ctx.runtime.start(id);
      rec.infra = { id, pid: started.pid, monitor: monitorOf(started) };
      emit('pod_infra', `tsrun-pause pid ${started.pid}`, 0, id);
    }
    ctx.sandboxes.save(rec);
    return id;
  } catch (e) {
    await undo.run();
    throw e;
  }
}

export function getSandbox(ctx: CriContext, id: string): SandboxRecord {
  const s = ctx.sandboxes.find(id);
  if (!s) throw notFound(`pod sandbox ${JSON.stringify(id)} not found`);
  return s;
}

export function requireReady(s: SandboxRecord): void {
  if (s.state !== 'SANDBOX_READY') throw badState(`pod sandbox ${s.id} is not ready (stopped)`);
}

/**
 * The pod's own user namespace and the host ids of its root (container id 0, which podIdMaps
 * requires to be mapped), for the containers' idmapped rootfs; undefined for the host's.
 */
export function podUserns(s: SandboxRecord): { userns: string; rootUid: number; rootGid: number } | undefined {
  const uo = s.config.linux?.security_context?.namespace_options?.userns_options;
  if (!s.userns || !uo?.uids[0] || !uo.gids[0]) return undefined;
  return { userns: s.userns, rootUid: uo.uids[0].host_id, rootGid: uo.gids[0].host_id };
}

/** The pod's PID namespace, for containers that join it. */
/**
 * At start-up: a READY pod whose pinned network namespace is gone (the run dir emptied by a
 * reboot) or whose shared-PID pause lost its monitor is NOTREADY, as containerd finds a pod
 * whose pause task is gone. Its network is torn down, and all else removed, by Stop/Remove.
 */
export function reconcileSandbox(ctx: CriContext, s: SandboxRecord): void {
  if (s.state !== 'SANDBOX_READY') return;
  const netnsGone = !!s.netns && !isMountpoint(s.netns);
  const infraGone = !!s.infra && (!!readExit(ctx.paths.monitorDir(s.infra.id)) || !monitorAlive(ctx.paths.monitorDir(s.infra.id), s.infra.monitor));
  if (!netnsGone && !infraGone) return;
  s.state = 'SANDBOX_NOTREADY';
  ctx.sandboxes.save(s);
  logWarn(`pod ${s.id}: ${netnsGone ? `its network namespace ${s.netns} is gone` : 'its pause process is gone'}: NOTREADY`);
}

export function podPidNamespace(s: SandboxRecord): string | undefined {
  return s.infra ? `/proc/${s.infra.pid}/ns/pid` : undefined;
}

async function stopInfra(ctx: CriContext, s: SandboxRecord): Promise<void> {
  if (!s.infra) return;
  if (!readExit(ctx.paths.monitorDir(s.infra.id))) {
    try {
      await ctx.runtime.kill(s.infra.id, 'KILL', true);
    } catch {
      /* gone already */
    }
  }
  await ctx.runtime.delete(s.infra.id);
}

/** Stops every container of the pod, the infra process, and the network. Idempotent. */
export async function stopSandbox(ctx: CriContext, s: SandboxRecord, stopContainer: (id: string) => Promise<void>): Promise<void> {
  for (const c of ctx.containers.all().filter((c) => c.sandboxId === s.id)) await stopContainer(c.id);
  await stopInfra(ctx, s);
  // A pod found lost at start-up (a reboot) is NOTREADY already but still holds its address.
  if (!s.hostNetwork && (s.state === 'SANDBOX_READY' || s.networkAttached)) {
    await ctx.cni.tearDown({
      podId: s.id,
      netns: s.netns ?? '',
      namespace: s.config.metadata!.namespace,
      name: s.config.metadata!.name,
      uid: s.config.metadata!.uid,
    });
  }
  s.networkAttached = false;
  s.state = 'SANDBOX_NOTREADY';
  ctx.sandboxes.save(s);
  emit('pod_stopped', s.config.metadata?.name ?? s.id, 0, s.id);
}

export async function removeSandbox(
  ctx: CriContext,
  s: SandboxRecord,
  removeContainer: (id: string) => Promise<void>,
  stopContainer: (id: string) => Promise<void>,
): Promise<void> {
  if (s.state === 'SANDBOX_READY') await stopSandbox(ctx, s, stopContainer);
  for (const c of ctx.containers.all().filter((c) => c.sandboxId === s.id)) await removeContainer(c.id);
  unpinNamespaces([s.netns, s.ipcns, s.utsns, s.userns]);
  if (!s.hostIpc && isMountpoint(s.shm)) umount(s.shm, MNT_DETACH);
  ctx.trash.discard(ctx.paths.sandboxRun(s.id));
  if (s.infra) ctx.trash.discard(ctx.paths.monitorDir(s.infra.id));
  if (s.ownCgroupParent) {
    try {
      await removePodCgroup(s);
    } catch (e) {
      logWarn(`pod ${s.id}: removing cgroup ${s.cgroupParent}: ${(e as Error).message}`);
    }
  }
  ctx.sandboxes.delete(s.id);
  ctx.podNames.release(s.name);
  emit('pod_removed', s.config.metadata?.name ?? s.id, 0, s.id);
}

/** The pod's own cgroup directories, in every hierarchy (its containers' are gone by then); systemd: its slice. */
async function removePodCgroup(s: SandboxRecord): Promise<void> {
  if (s.systemdCgroup) return newCgroupManager(`pod-${s.id}`, podSlicePath(s), { systemd: true }).destroy();
  removeTracked(Object.values(newCgroupManager(`pod-${s.id}`, s.cgroupParent).state.dirs));
}

/**
 * Limits for a pod cgroup that tsrun made (no cgroup_parent from a kubelet, which sizes its own):
 * the containers' sum plus the pod overhead, as the kubelet sizes a pod cgroup.
 */
export async function applyPodResources(s: SandboxRecord): Promise<void> {
  const r = s.config.linux?.resources;
  if (!s.ownCgroupParent || !r) return;
  const o = s.config.linux?.overhead;
  const plus = (a: string | number, b: string | number | undefined): string => (Number(a) > 0 ? String(Number(a) + Math.max(0, Number(b ?? 0))) : String(a));
  const total: LinuxContainerResources = {
    ...r,
    memory_limit_in_bytes: plus(r.memory_limit_in_bytes, o?.memory_limit_in_bytes),
    cpu_quota: plus(r.cpu_quota, o?.cpu_quota),
    cpu_shares: plus(r.cpu_shares, o?.cpu_shares),
  };
  const cg = s.systemdCgroup ? newCgroupManager(`pod-${s.id}`, podSlicePath(s), { systemd: true }) : newCgroupManager(`pod-${s.id}`, s.cgroupParent);
  step('cgroup_created', cg.state.path, () => cg.create(), s.id);
  await cg.apply(ociResources(total), (controller, writes, us) => emit('cgroup_limits', `${controller}: ${writes.join(', ')}`, us, s.id));
}
