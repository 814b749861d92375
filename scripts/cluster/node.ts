// A node: its network namespace (made by network.ts), a mount namespace of its own that its
// kubelet, tsrun cri and kube-proxy share (the kubelet's volume mounts must reach the runtime),
// and those three processes, with every file under nodes/<node>/ laid out as the node's own
// disk would hold it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { KERNEL_TUNABLES } from '../../test/helpers/kubelet';
import { MNT_DETACH, umount } from '../../src/sys/native';
import { nodeCgroupRoot } from './cgroups';
import { mirrorsDir } from './control-plane';
import { daemonPid, logTail, startDaemon, stopDaemon } from './daemons';
import type { ClusterPlan, NodePlan } from './layout';
import { K8S_BIN, recordThen, TSRUN_BIN } from './layout';
import { kubectl } from './kube';
import { kubeletServingCert, nodeCaFile, nodeKubeconfig } from './pki';
import { run, waitFor } from './sh';
import { toYaml } from './yaml';

export const NODE_DAEMONS = ['tsrun-cri', 'kubelet', 'kube-proxy'] as const;
export type NodeDaemon = (typeof NODE_DAEMONS)[number];

export function daemonName(n: NodePlan, d: NodeDaemon): string {
  return `${n.name}/${d}`;
}

export function nodeLog(n: NodePlan, d: NodeDaemon): string {
  return path.join(n.root, 'var', 'log', `${d}.log`);
}

const p = (n: NodePlan, ...parts: string[]): string => path.join(n.root, ...parts);

export function criSocket(n: NodePlan): string {
  return path.join(n.runDir, 'tsrun', 'cri.sock');
}

/** Mount points in the host's mount namespace, from /proc/self/mountinfo. */
export function mountPoints(): string[] {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => (l.split(' ')[4] ?? '').replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter(Boolean);
}

/** Unmounts everything the host's mount namespace has mounted under `dir`, deepest first. */
export function unmountUnder(dir: string): string[] {
  const left: string[] = [];
  const under = mountPoints()
    .filter((m) => m === dir || m.startsWith(dir + '/'))
    .sort((a, b) => b.length - a.length);
  for (const m of under) {
    try {
      umount(m, MNT_DETACH);
    } catch (e) {
      left.push(`${m}: ${(e as Error).message}`);
    }
  }
  return left;
}

// Paths the kubelet uses whatever its --root-dir says: its device plugin socket and checkpoint
// (cleared at every start) and the legacy symlinks to container logs (garbage-collected when
// dangling). Shared, kubelets on one machine would delete each other's; each node gets its own.
const KUBELET_FIXED_DIRS = [
  ['/var/lib/kubelet/device-plugins', 'var/lib/kubelet/device-plugins'],
  ['/var/log/containers', 'var/log/containers'],
] as const;

/** mkdir -p, recording each directory it makes (down removes them again if they are empty). */
function hostDir(plan: ClusterPlan, dir: string): void {
  if (fs.existsSync(dir)) return;
  hostDir(plan, path.dirname(dir));
  recordThen(plan, { kind: 'dir', path: dir }, () => fs.mkdirSync(dir));
}

/**
 * The node's mount namespace, pinned by a bind mount of its nsfs file (as `ip netns` pins
 * network namespaces) in a private mount of the cluster's ns/ dir: a namespace file may only be
 * bound on a private mount. In it, the kernel tunables the kubelet would rewrite host-wide
 * (kernel.panic, vm.overcommit_memory, ...) are files holding the values it wants, so it finds
 * nothing to change, and the kubelet's fixed paths are the node's own dirs. Mounts made in it
 * never propagate to the host.
 */
function makeMountNamespace(plan: ClusterPlan, n: NodePlan): void {
  const nsDir = path.dirname(n.mntns);
  fs.mkdirSync(nsDir, { recursive: true });
  if (!mountPoints().includes(nsDir)) {
    run('mount', ['--bind', nsDir, nsDir]);
    run('mount', ['--make-private', nsDir]);
  }
  if (mountPoints().includes(n.mntns)) return;
  fs.writeFileSync(n.mntns, '');
  const tunables = p(n, 'etc', 'sysctl-for-kubelet');
  fs.mkdirSync(tunables, { recursive: true });
  const binds: string[] = [];
  for (const [name, value] of Object.entries(KERNEL_TUNABLES)) {
    const file = path.join(tunables, name.replace(/\//g, '.'));
    fs.writeFileSync(file, `${value}\n`);
    binds.push(`mount --bind ${file} /proc/sys/${name}`);
  }
  for (const [fixed, own] of KUBELET_FIXED_DIRS) {
    hostDir(plan, fixed);
    fs.mkdirSync(p(n, own), { recursive: true });
    binds.push(`mount --bind ${p(n, own)} ${fixed}`);
  }
  run('unshare', [`--mount=${n.mntns}`, '--propagation', 'slave', '--', 'sh', '-ec', binds.join('\n')]);
}

/** bridge + host-local on the node's pod CIDR, portmap for hostPorts; tsrun runs loopback itself. */
function cniConfig(n: NodePlan): object {
  return {
    cniVersion: '1.0.0',
    name: 'tsrun-cluster',
    plugins: [
      {
        type: 'bridge',
        bridge: 'cni0',
        isGateway: true,
        // No NAT between pods: other nodes' pod CIDRs are routed (network.ts).
        ipMasq: false,
        hairpinMode: true,
        ipam: { type: 'host-local', ranges: [[{ subnet: n.podCidr }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: p(n, 'var', 'lib', 'cni', 'networks') },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  };
}

function kubeletConfig(plan: ClusterPlan, n: NodePlan): string {
  const endpoint = `unix://${criSocket(n)}`;
  const serving = kubeletServingCert(n);
  const grace = plan.options.nodeMonitorGracePeriodSeconds;
  return toYaml({
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    address: n.ip,
    port: 10250,
    readOnlyPort: 0,
    healthzBindAddress: n.ip,
    healthzPort: 10248,
    tlsCertFile: serving.cert,
    tlsPrivateKeyFile: serving.key,
    authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: nodeCaFile(n) } },
    authorization: { mode: 'Webhook' },
    containerRuntimeEndpoint: endpoint,
    imageServiceEndpoint: endpoint,
    podLogsDir: p(n, 'var', 'log', 'pods'),
    clusterDomain: 'cluster.local',
    // No cluster DNS (no CoreDNS here) and no resolver of the host's: pods get no nameserver.
    resolvConf: '',
    cgroupDriver: 'cgroupfs',
    cgroupsPerQOS: true,
    cgroupRoot: nodeCgroupRoot(plan, n.name),
    // This host mounts cgroup v1 controllers; 1.34 still runs there when told to.
    failCgroupV1: false,
    // Every node sees the whole machine; capping kubepods at its size would change nothing.
    enforceNodeAllocatable: ['none'],
    failSwapOn: false,
    // Lowering its own oom_score_adj needs CAP_SYS_RESOURCE, which this host withholds.
    oomScoreAdj: 0,
    // The nodes share one disk with the rest of the machine: no eviction or image GC on its
    // fill level, which other work moves.
    evictionHard: { 'memory.available': '0%', 'nodefs.available': '0%', 'nodefs.inodesFree': '0%', 'imagefs.available': '0%', 'imagefs.inodesFree': '0%' },
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    serializeImagePulls: false,
    // Pod and container stats (the summary API, /metrics/cadvisor) from tsrun, through the CRI.
    featureGates: { PodAndContainerStatsFromCRI: true },
    // With a short grace period the node's lease is renewed more often (a quarter of its duration).
    ...(grace !== undefined ? { nodeLeaseDurationSeconds: Math.max(4, Math.min(40, Math.floor(grace / 2))), nodeStatusUpdateFrequency: '4s' } : {}),
  });
}

function kubeProxyConfig(plan: ClusterPlan, n: NodePlan): string {
  return toYaml({
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    clientConnection: { kubeconfig: nodeKubeconfig(n, 'kube-proxy') },
    hostnameOverride: n.name,
    mode: 'iptables',
    clusterCIDR: plan.clusterCidr,
    // NodePorts on the node's IP (upstream's advice), not on every local address: nothing on
    // 127.0.0.1, so no route_localnet either.
    nodePortAddresses: ['primary'],
    healthzBindAddress: `${n.ip}:10256`,
    metricsBindAddress: '127.0.0.1:10249',
    // nf_conntrack_max is one value for the whole machine: 0 leaves it (and the timeouts) alone.
    conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
    // A pod reaching a Service whose chosen pod is on its own bridge gets the answer back
    // through iptables only with br_netfilter; without it, Service traffic is masqueraded.
    ...(fs.existsSync('/proc/sys/net/bridge/bridge-nf-call-iptables') ? {} : { masqueradeAll: true }),
  });
}

/** The node's files and mount namespace; idempotent. */
export function prepareNode(plan: ClusterPlan, n: NodePlan): void {
  for (const d of [
    ['etc', 'cni', 'net.d'],
    ['var', 'lib', 'kubelet'],
    ['var', 'lib', 'kube-proxy'],
    ['var', 'lib', 'tsrun'],
    ['var', 'lib', 'cni', 'networks'],
    ['var', 'log', 'pods'],
    ['run', 'tsrun'],
  ])
    fs.mkdirSync(p(n, ...d), { recursive: true });
  // Searchable by all: containers in a pod's user namespace reach their rootfs below it.
  for (const d of [path.dirname(n.root), n.root, p(n, 'var'), p(n, 'var', 'lib'), p(n, 'var', 'lib', 'tsrun')]) fs.chmodSync(d, 0o711);
  fs.writeFileSync(p(n, 'etc', 'cni', 'net.d', '10-tsrun-cluster.conflist'), JSON.stringify(cniConfig(n), null, 2) + '\n');
  fs.writeFileSync(p(n, 'var', 'lib', 'kubelet', 'config.yaml'), kubeletConfig(plan, n));
  fs.writeFileSync(p(n, 'var', 'lib', 'kube-proxy', 'config.yaml'), kubeProxyConfig(plan, n));
  makeMountNamespace(plan, n);
}

/**
 * The Node object, made before its kubelet starts, with the pod CIDR the script routes (the
 * controller manager's allocator takes it as allocated). The node's CNI config is then in place
 * before its kubelet asks: no window in which the runtime reports a network that is not the
 * cluster's. The kubelet finds the Node registered and takes it over.
 */
export function registerNode(plan: ClusterPlan, n: NodePlan): void {
  const node = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: n.name, labels: { 'kubernetes.io/hostname': n.name } },
    spec: { podCIDR: n.podCidr, podCIDRs: [n.podCidr] },
  };
  if (kubectl(plan, ['get', 'nodes', '-o', 'name']).split('\n').includes(`node/${n.name}`)) return;
  kubectl(plan, ['create', '-f', '-'], JSON.stringify(node));
}

/** CAP_SYS_RESOURCE (bit 24) in the bounding set: what lowering an oom_score_adj needs. */
function canLowerOomScoreAdj(): boolean {
  const bnd = /^CapBnd:\s+([0-9a-f]+)/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1];
  return bnd !== undefined && ((BigInt(`0x${bnd}`) >> 24n) & 1n) === 1n;
}

function spec(plan: ClusterPlan, n: NodePlan, d: NodeDaemon): { bin: string; args: string[] } {
  const run_ = p(n, 'run', 'tsrun');
  switch (d) {
    case 'tsrun-cri':
      return {
        bin: process.execPath,
        args: [
          TSRUN_BIN,
          '--store',
          p(n, 'var', 'lib', 'tsrun'),
          'cri',
          '--listen',
          `unix://${criSocket(n)}`,
          '--state-dir',
          p(n, 'var', 'lib', 'tsrun', 'cri'),
          '--run-dir',
          path.join(run_, 'cri'),
          '--cni-conf-dir',
          p(n, 'etc', 'cni', 'net.d'),
          '--registry-config',
          mirrorsDir(plan),
          '--cgroup-parent',
          nodeCgroupRoot(plan, n.name),
          // A Guaranteed pod's -997 is refused where lowering oom_score_adj is not allowed.
          ...(canLowerOomScoreAdj() ? [] : ['--restrict-oom-score-adj']),
        ],
      };
    case 'kubelet':
      return {
        bin: path.join(K8S_BIN, 'kubelet'),
        args: [
          `--config=${p(n, 'var', 'lib', 'kubelet', 'config.yaml')}`,
          `--kubeconfig=${nodeKubeconfig(n, 'kubelet')}`,
          `--root-dir=${p(n, 'var', 'lib', 'kubelet')}`,
          `--cert-dir=${p(n, 'var', 'lib', 'kubelet', 'pki')}`,
          `--hostname-override=${n.name}`,
          `--node-ip=${n.ip}`,
          '--v=2',
        ],
      };
    case 'kube-proxy':
      return { bin: path.join(K8S_BIN, 'kube-proxy'), args: [`--config=${p(n, 'var', 'lib', 'kube-proxy', 'config.yaml')}`, '--v=2'] };
  }
}

async function startOne(plan: ClusterPlan, n: NodePlan, d: NodeDaemon): Promise<void> {
  if (daemonPid(plan, daemonName(n, d)) !== undefined) return;
  const s = spec(plan, n, d);
  await startDaemon(plan, { name: daemonName(n, d), ...s, netns: n.netns, mntns: n.mntns, log: nodeLog(n, d) });
}

function alive(plan: ClusterPlan, n: NodePlan, d: NodeDaemon): void {
  if (daemonPid(plan, daemonName(n, d)) === undefined) throw new Error(`${d} of ${n.name} exited; the end of ${nodeLog(n, d)}:\n${logTail(nodeLog(n, d))}`);
}

/** tsrun cri (waited for: the kubelet gives up on a runtime that is not there), the kubelet and kube-proxy. */
export async function startNode(plan: ClusterPlan, n: NodePlan): Promise<void> {
  await startOne(plan, n, 'tsrun-cri');
  await waitFor(
    `tsrun cri of ${n.name} to listen`,
    30_000,
    () => {
      alive(plan, n, 'tsrun-cri');
      return fs.existsSync(criSocket(n)) || 'no socket yet';
    },
    100,
  );
  await startOne(plan, n, 'kubelet');
  await startOne(plan, n, 'kube-proxy');
}

/** Checks the node's daemons still run; an exited one is reported with its log. */
export function checkNode(plan: ClusterPlan, n: NodePlan): void {
  for (const d of NODE_DAEMONS) alive(plan, n, d);
}

/** Stops the node's kubelet and tsrun cri (as a crash of both would); its pods keep running. */
export async function stopNode(plan: ClusterPlan, n: NodePlan): Promise<void> {
  await stopDaemon(plan, daemonName(n, 'kubelet'));
  await stopDaemon(plan, daemonName(n, 'tsrun-cri'));
}
