// Pod networking for the CRI server, with the CNI conventions of containerd/go-cni: loopback on
// "lo", then the default network (first config file) on eth0, K8S_POD_* in CNI_ARGS and the
// CRI's port mappings, bandwidth and IP ranges as runtimeConfig capabilities.
import { KeyedMutex } from '../../common/keyed-mutex';
import * as fs from 'node:fs';
import { TsrunError } from '../../common/errors';
import { PodCache, type Attachment, type PodRecord } from './cache';
import { compareVersions, loadDefaultNetwork, loopbackConflist, pluginStdin, type NetworkConfigList } from './config';
import { execPlugin, findPlugin, pluginVersions, type CniCommand } from './exec';
import { podAddresses, toPodNetworkResult, type PodNetworkResult } from './result';

export interface CniOptions {
  /** Network configs (*.conflist, *.conf, *.json); the first in lexical order is the pod network. */
  confDir: string;
  /** Where plugin executables are looked up, in order (also CNI_PATH for IPAM delegation). */
  binDirs: string[];
  /** Per-pod records of what was attached (tsrun's own, under <cacheDir>/pods). */
  cacheDir: string;
  /** Limit for one plugin execution; default 60 s. */
  pluginTimeoutMs?: number;
}

export interface PortMapping {
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp' | 'sctp';
  hostIP?: string;
}

/** The bandwidth plugin's runtimeConfig: rates in bits per second, bursts in bits. */
export interface BandwidthLimits {
  ingressRate?: number;
  ingressBurst?: number;
  egressRate?: number;
  egressBurst?: number;
}

/** host-local's ipRanges capability: a list of range sets, one per address family. */
export interface IpRange {
  subnet: string;
  rangeStart?: string;
  rangeEnd?: string;
  gateway?: string;
}

export interface PodNetworkRequest {
  /** The sandbox id: CNI_CONTAINERID and K8S_POD_INFRA_CONTAINER_ID. */
  podId: string;
  /** Path of the pod's network namespace (e.g. /run/netns/x); for tearDown it may be gone or ''. */
  netns: string;
  /** Interface for the pod network; default eth0. */
  ifName?: string;
  namespace: string;
  name: string;
  uid: string;
  portMappings?: PortMapping[];
  bandwidth?: BandwidthLimits;
  ipRanges?: IpRange[][];
}

export interface CniStatus {
  ready: boolean;
  /** CRI condition reason when not ready. */
  reason?: string;
  message?: string;
  /** The network pods get, when there is one. */
  network?: string;
  confFile?: string;
}

export type { PodNetworkResult } from './result';

const DEFAULT_TIMEOUT_MS = 60_000;
// libcni's rule for container ids, which become file names here too.
const CONTAINER_ID_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const NSFS_MAGIC = 0x6e736673;

function validateIfName(ifName: string): void {
  // The kernel's limits (IFNAMSIZ, no '/', ':' or spaces), as libcni checks before ADD.
  if (!ifName || ifName.length > 15 || ifName === '.' || ifName === '..' || /[/:\s]/.test(ifName))
    throw new TsrunError('TSRUN_E_CNI', `invalid interface name ${JSON.stringify(ifName)}: 1-15 characters without / : or spaces`);
}

function validatePodId(podId: string): void {
  if (!CONTAINER_ID_RE.test(podId))
    throw new TsrunError('TSRUN_E_CNI', `invalid pod id ${JSON.stringify(podId)} for CNI: letters, digits, _ . - and starting with a letter or digit`);
}

/** A mounted network namespace (nsfs): a path left over after `ip netns del` is not one. */
export function isNetns(p: string): boolean {
  if (!p) return false;
  try {
    return fs.statfsSync(p).type === NSFS_MAGIC;
  } catch {
    return false;
  }
}

function cniArgs(req: PodNetworkRequest): [string, string][] {
  const args: [string, string][] = [
    // Plugins that do not know a K8S_* key must ignore it rather than fail.
    ['IgnoreUnknown', '1'],
    ['K8S_POD_NAMESPACE', req.namespace],
    ['K8S_POD_NAME', req.name],
    ['K8S_POD_INFRA_CONTAINER_ID', req.podId],
    ['K8S_POD_UID', req.uid],
  ];
  for (const [k, v] of args)
    if (/[;=]/.test(v)) throw new TsrunError('TSRUN_E_CNI', `${k} ${JSON.stringify(v)} cannot be passed in CNI_ARGS: it contains ';' or '='`);
  return args;
}

function capabilityArgs(req: PodNetworkRequest): Record<string, unknown> {
  const caps: Record<string, unknown> = {};
  // Like the CRI plugins: a mapping without a host port is only informational.
  const pms = (req.portMappings ?? []).filter((p) => p.hostPort > 0);
  for (const p of pms) {
    const proto = String(p.protocol).toLowerCase();
    if (!['tcp', 'udp', 'sctp'].includes(proto))
      throw new TsrunError('TSRUN_E_CNI', `port mapping ${p.hostPort}->${p.containerPort}: protocol ${JSON.stringify(p.protocol)} is not tcp, udp or sctp`);
    for (const port of [p.hostPort, p.containerPort])
      if (!Number.isInteger(port) || port < 1 || port > 65535)
        throw new TsrunError('TSRUN_E_CNI', `port mapping ${p.hostPort}->${p.containerPort}: ${port} is not a port number`);
  }
  if (pms.length)
    caps.portMappings = pms.map((p) => ({
      hostPort: p.hostPort,
      containerPort: p.containerPort,
      protocol: String(p.protocol).toLowerCase(),
      ...(p.hostIP ? { hostIP: p.hostIP } : {}),
    }));
  if (req.bandwidth && Object.values(req.bandwidth).some((v) => typeof v === 'number' && v > 0)) caps.bandwidth = req.bandwidth;
  if (req.ipRanges?.length) caps.ipRanges = req.ipRanges;
  return caps;
}

export class CniManager {
  private readonly cache: PodCache;
  private readonly timeoutMs: number;
  // Operations on one pod run one after the other; different pods run concurrently.
  private readonly locks = new KeyedMutex();
  // VERSION answers by plugin file identity, so status() stays cheap after the first call.
  private readonly versionCache = new Map<string, string[] | string>();

  constructor(private readonly o: CniOptions) {
    this.cache = new PodCache(o.cacheDir);
    this.timeoutMs = o.pluginTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** CRI NetworkReady: a valid default network whose plugins (and loopback) exist and speak its version. */
  status(): CniStatus {
    let list: NetworkConfigList;
    try {
      list = loadDefaultNetwork(this.o.confDir);
    } catch (e) {
      return { ready: false, reason: 'NetworkPluginNotReady', message: (e as Error).message };
    }
    const problem = this.pluginProblem(list) ?? this.pluginProblem(loopbackConflist());
    if (problem) return { ready: false, reason: 'NetworkPluginNotReady', message: problem, network: list.name, confFile: list.source };
    return { ready: true, network: list.name, confFile: list.source };
  }

  /** Attaches the pod: loopback on lo, then the default network on ifName. */
  setUp(req: PodNetworkRequest): Promise<PodNetworkResult> {
    return this.locked(req.podId, () => this.doSetUp(req));
  }

  /** Detaches everything the cache records for the pod; nothing recorded means nothing to do. */
  tearDown(req: PodNetworkRequest): Promise<void> {
    return this.locked(req.podId, () => this.doTearDown(req));
  }

  /** CHECK every attachment whose config version has it (>= 0.4.0) and does not disable it. */
  check(req: PodNetworkRequest): Promise<void> {
    return this.locked(req.podId, () => this.doCheck(req));
  }

  /** The pod network's result as cached at setUp. */
  result(podId: string): PodNetworkResult | undefined {
    if (!CONTAINER_ID_RE.test(podId)) return undefined;
    let rec: PodRecord | undefined;
    try {
      rec = this.cache.read(podId);
    } catch {
      return undefined;
    }
    // The pod network is the attachment not on lo (setUp refuses "lo" for it).
    const main = rec?.attachments.find((a) => a.ifName !== 'lo');
    return main?.result !== undefined ? toPodNetworkResult(main.list.name, main.result) : undefined;
  }

  /** The pod's addresses (no prefix), IPv4 first. */
  podIps(podId: string): string[] {
    const r = this.result(podId);
    return r ? podAddresses(r) : [];
  }

  /** The pod's primary address, for PodSandboxStatus. */
  podIp(podId: string): string | undefined {
    return this.podIps(podId)[0];
  }

  private locked<T>(podId: string, fn: () => Promise<T>): Promise<T> {
    return this.locks.run(podId, fn);
  }

  private pluginPath(type: string, list: NetworkConfigList): string {
    const p = findPlugin(type, this.o.binDirs);
    if (!p)
      throw new TsrunError(
        'TSRUN_E_CNI',
        `CNI plugin ${JSON.stringify(type)} of network ${JSON.stringify(list.name)} (${list.source}) not found in ${this.o.binDirs.join(', ')}`,
      );
    return p;
  }

  /** Why the list cannot run here (missing plugin or version), or undefined. */
  private pluginProblem(list: NetworkConfigList): string | undefined {
    const types = new Set<string>();
    for (const p of list.plugins) {
      types.add(p.type);
      if (typeof p.ipam?.type === 'string' && p.ipam.type) types.add(p.ipam.type);
    }
    for (const type of types) {
      const file = findPlugin(type, this.o.binDirs);
      if (!file) return `CNI plugin ${JSON.stringify(type)} of network ${JSON.stringify(list.name)} (${list.source}) not found in ${this.o.binDirs.join(', ')}`;
      const versions = this.versionsOf(file);
      if (typeof versions === 'string') return versions;
      if (!versions.includes(list.cniVersion))
        return `CNI plugin ${file} does not support cniVersion ${list.cniVersion} of network ${JSON.stringify(list.name)} (${list.source}); it speaks ${versions.join(', ')}`;
    }
    return undefined;
  }

  private versionsOf(file: string): string[] | string {
    let st: fs.Stats;
    try {
      st = fs.statSync(file);
    } catch (e) {
      return `CNI plugin ${file}: ${(e as Error).message}`;
    }
    const key = `${file}:${st.ino}:${st.size}:${st.mtimeMs}`;
    let v = this.versionCache.get(key);
    if (v === undefined) {
      v = pluginVersions(file, Math.min(this.timeoutMs, 10_000));
      // Failures are not remembered: a plugin being replaced may answer on the next call.
      if (typeof v !== 'string') this.versionCache.set(key, v);
    }
    return v;
  }

  /** One plugin run of `command` for the attachment. */
  private run(
    command: CniCommand,
    rec: PodRecord,
    att: Attachment,
    pluginIdx: number,
    prevResult: unknown,
    netns: string,
  ): Promise<Record<string, unknown> | undefined> {
    const list = att.list;
    const plugin = list.plugins[pluginIdx]!;
    return execPlugin(this.pluginPath(plugin.type, list), pluginStdin(list, plugin, prevResult, rec.capabilityArgs), {
      command,
      containerId: rec.podId,
      netns,
      ifName: att.ifName,
      args: rec.cniArgs,
      binDirs: this.o.binDirs,
      timeoutMs: this.timeoutMs,
      network: list.name,
    });
  }

  /** DEL the list in reverse; prevResult from the ADD (spec >= 0.4.0 only), netns '' when gone. */
  private async delList(rec: PodRecord, att: Attachment, prevResult: unknown, netns: string): Promise<void> {
    const prev = compareVersions(att.list.cniVersion, '0.4.0') >= 0 ? prevResult : undefined;
    for (let i = att.list.plugins.length - 1; i >= 0; i--) await this.run('DEL', rec, att, i, prev, netns);
  }

  private async doSetUp(req: PodNetworkRequest): Promise<PodNetworkResult> {
    validatePodId(req.podId);
    const ifName = req.ifName ?? 'eth0';
    validateIfName(ifName);
    if (ifName === 'lo') throw new TsrunError('TSRUN_E_CNI', 'the pod network cannot use "lo": the loopback plugin owns it');
    if (!isNetns(req.netns)) throw new TsrunError('TSRUN_E_CNI', `pod ${req.podId}: ${JSON.stringify(req.netns)} is not a network namespace (nsfs mount)`);
    const existing = this.cache.read(req.podId);
    if (existing) throw new TsrunError('TSRUN_E_CNI', `pod ${req.podId} already has networking set up (or a setup was interrupted): tear it down first`);

    // Everything that can be refused is checked before the first plugin runs.
    const list = loadDefaultNetwork(this.o.confDir);
    const lo = loopbackConflist();
    for (const l of [lo, list]) {
      const problem = this.pluginProblem(l);
      if (problem) throw new TsrunError('TSRUN_E_CNI', problem);
    }
    const rec: PodRecord = {
      kind: 'tsrunCniPodV1',
      podId: req.podId,
      netns: req.netns,
      cniArgs: cniArgs(req),
      capabilityArgs: capabilityArgs(req),
      attachments: [
        { ifName: 'lo', list: lo },
        { ifName, list },
      ],
    };
    // Recorded before ADD: after a crash mid-ADD, tearDown still knows what to DEL.
    this.cache.write(rec);
    let a = 0;
    let partial: unknown; // the result so far within the list being added
    try {
      for (; a < rec.attachments.length; a++) {
        const att = rec.attachments[a]!;
        partial = undefined;
        for (let i = 0; i < att.list.plugins.length; i++) {
          partial = await this.run('ADD', rec, att, i, partial, rec.netns);
          if (partial === undefined)
            throw new TsrunError(
              'TSRUN_E_CNI',
              `CNI plugin ${att.list.plugins[i]!.type} printed no result for ADD on network ${JSON.stringify(att.list.name)}`,
            );
        }
        att.result = partial;
        this.cache.write(rec);
      }
    } catch (e) {
      // Spec: after a failed ADD, DEL the whole list in reverse (plugins tolerate a DEL for what
      // they never added), so the failing plugin's half-done work goes too; then the lists before.
      try {
        for (let j = a; j >= 0; j--) {
          const att = rec.attachments[j]!;
          await this.delList(rec, att, j === a ? partial : att.result, rec.netns);
        }
        this.cache.remove(req.podId);
      } catch (de) {
        // The record stays, so a tearDown can finish the job.
        throw new TsrunError('TSRUN_E_CNI', `${(e as Error).message}; undoing the partial setup also failed (tearDown will retry): ${(de as Error).message}`);
      }
      throw e;
    }
    return toPodNetworkResult(list.name, rec.attachments[1]!.result);
  }

  private async doTearDown(req: PodNetworkRequest): Promise<void> {
    validatePodId(req.podId);
    const rec = this.cache.read(req.podId);
    if (!rec) return;
    // Spec: CNI_NETNS may be empty on DEL when the namespace no longer exists; plugins then
    // release what lives outside it (IPAM leases, portmap and firewall rules). Known gap in
    // bridge (containernetworking/plugins#810): without a netns it cannot learn the pod address,
    // so its ipMasq rule stays; the CRI server avoids this by tearing down before removing the netns.
    const netns = [req.netns, rec.netns].find(isNetns) ?? '';
    const errors: string[] = [];
    for (let i = rec.attachments.length - 1; i >= 0; i--) {
      const att = rec.attachments[i]!;
      try {
        await this.delList(rec, att, att.result, netns);
        rec.attachments.splice(i, 1);
      } catch (e) {
        errors.push((e as Error).message);
      }
    }
    if (errors.length) {
      // Keep what still needs a DEL so the next tearDown retries just that.
      this.cache.write(rec);
      throw new TsrunError('TSRUN_E_CNI', `pod ${req.podId} network teardown failed: ${errors.join('; ')}`);
    }
    this.cache.remove(req.podId);
  }

  private async doCheck(req: PodNetworkRequest): Promise<void> {
    validatePodId(req.podId);
    const rec = this.cache.read(req.podId);
    if (!rec) throw new TsrunError('TSRUN_E_CNI', `pod ${req.podId} has no network set up`);
    const netns = [req.netns, rec.netns].find(isNetns);
    if (!netns) throw new TsrunError('TSRUN_E_CNI', `pod ${req.podId}: its network namespace ${rec.netns} is gone`);
    for (const att of rec.attachments) {
      if (att.result === undefined) throw new TsrunError('TSRUN_E_CNI', `pod ${req.podId}: network ${att.list.name} setup did not complete`);
      if (compareVersions(att.list.cniVersion, '0.4.0') < 0 || att.list.disableCheck) continue;
      for (let i = 0; i < att.list.plugins.length; i++) await this.run('CHECK', rec, att, i, att.result, netns);
    }
  }
}
