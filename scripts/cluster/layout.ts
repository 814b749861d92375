// One cluster's names, addresses and paths, decided once at `up` and kept in its cluster.json,
// so `down` (or the next `up` after a crash) removes exactly what was made, by name.
//
// /var/lib/tsrun-cluster/<name>/            the cluster's own dir
//   cluster.json                            this plan, and what has been made so far
//   control-plane/etc/kubernetes/           kubeadm's layout: admin.conf, controller-manager.conf,
//                                           scheduler.conf, pki/ (CA, API server, service accounts)
//   control-plane/var/lib/etcd, var/log/    etcd's data, the components' logs
//   registry/                               the stand-in images the nodes pull, and their mirrors
//   nodes/<node>/                           what a node's own disk would hold: etc/kubernetes,
//                                           etc/cni/net.d, var/lib/{kubelet,kube-proxy,tsrun,cni}, var/log
//   ns/                                     the nodes' pinned mount namespaces
import * as fs from 'node:fs';
import * as path from 'node:path';
import { atomicWriteFileSync } from '../../src/common/atomic-write';

export const K8S_VERSION = 'v1.34.4';
export const K8S_BIN = path.join('/var/cache/tsrun-kubernetes', K8S_VERSION, 'bin');
export const CLUSTERS_DIR = '/var/lib/tsrun-cluster';
export const DEFAULT_NAME = 'tsrun';
export const REPO_DIR = path.resolve(__dirname, '..', '..', '..');
export const TSRUN_BIN = path.join(REPO_DIR, 'bin', 'tsrun');

// Interface names are at most 15 bytes: "<name>-br", "<name>-cp", "<name>-n12".
export const NAME_RE = /^[a-z][a-z0-9]{0,7}$/;
export const MAX_NODES = 20;

export function checkName(name: string): void {
  if (!NAME_RE.test(name))
    throw new Error(
      `cluster name ${JSON.stringify(name)}: use 1 to 8 lowercase letters and digits, starting with a letter (it prefixes interface names, which are limited to 15 bytes)`,
    );
}

/** Something made on the host, recorded before it is made so a crash leaves a trail. */
export type Made =
  | { kind: 'netns'; name: string }
  | { kind: 'link'; name: string }
  | { kind: 'iptables'; table: string; chain: string; rule: string[] }
  | { kind: 'cgroup'; path: string }
  | { kind: 'dir'; path: string };

export interface NodePlan {
  /** Kubernetes node name, "<cluster>-node1" */
  name: string;
  index: number;
  netns: string;
  /** host side of the node's veth (the node side is eth0) */
  veth: string;
  ip: string;
  podCidr: string;
  /** the node's files, as its own disk would hold them */
  root: string;
  /** tsrun cri's run dir: its socket, pinned pod namespaces, monitors' sockets */
  runDir: string;
  /** the pinned mount namespace that the node's kubelet, tsrun cri and kube-proxy share */
  mntns: string;
}

export interface ClusterPlan {
  name: string;
  dir: string;
  /** all addresses live in 10.<octet>.0.0/16 */
  octet: number;
  bridge: string;
  /** the host's address on the bridge: the nodes' default gateway */
  hostIp: string;
  controlPlane: { netns: string; veth: string; ip: string; root: string };
  /** 10.<octet>.0.0/24: the host, the control plane and the nodes */
  nodeSubnet: string;
  serviceCidr: string;
  /** the `kubernetes` Service's ClusterIP: the first address of serviceCidr */
  apiServiceIp: string;
  clusterCidr: string;
  nodes: NodePlan[];
  /** the cgroup (cgroupfs form) that holds everything the cluster runs */
  cgroup: string;
  registry: string;
  options: { nodeMonitorGracePeriodSeconds?: number; tolerationSeconds?: number };
  made: Made[];
  /** set once every node is Ready: a plan without it is what a crashed `up` left */
  complete?: boolean;
}

export function clusterDir(name: string): string {
  return path.join(CLUSTERS_DIR, name);
}

export function planFile(name: string): string {
  return path.join(clusterDir(name), 'cluster.json');
}

export function makePlan(name: string, nodes: number, octet: number, options: ClusterPlan['options']): ClusterPlan {
  const dir = clusterDir(name);
  const net = `10.${octet}`;
  return {
    name,
    dir,
    octet,
    bridge: `${name}-br`,
    hostIp: `${net}.0.1`,
    controlPlane: { netns: `${name}-cp`, veth: `${name}-cp`, ip: `${net}.0.2`, root: path.join(dir, 'control-plane') },
    nodeSubnet: `${net}.0.0/24`,
    serviceCidr: `${net}.16.0/20`,
    apiServiceIp: `${net}.16.1`,
    clusterCidr: `${net}.128.0/17`,
    nodes: Array.from({ length: nodes }, (_, i) => {
      const index = i + 1;
      const nodeName = `${name}-node${index}`;
      return {
        name: nodeName,
        index,
        netns: nodeName,
        veth: `${name}-n${index}`,
        ip: `${net}.0.${10 + index}`,
        podCidr: `${net}.${128 + index}.0/24`,
        root: path.join(dir, 'nodes', nodeName),
        runDir: path.join(dir, 'nodes', nodeName, 'run'),
        mntns: path.join(dir, 'ns', `${nodeName}.mnt`),
      };
    }),
    cgroup: `/tsrun-cluster-${name}`,
    registry: `${net}.0.2:5000`,
    options,
    made: [],
  };
}

export function savePlan(plan: ClusterPlan): void {
  // Searchable (not readable) by all: a container in a pod's user namespace reaches its rootfs below.
  for (const d of [CLUSTERS_DIR, plan.dir]) {
    fs.mkdirSync(d, { recursive: true });
    fs.chmodSync(d, 0o711);
  }
  atomicWriteFileSync(planFile(plan.name), JSON.stringify(plan, null, 2) + '\n');
}

export function loadPlan(name: string): ClusterPlan | undefined {
  try {
    return JSON.parse(fs.readFileSync(planFile(name), 'utf8')) as ClusterPlan;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`${planFile(name)}: ${(e as Error).message}`, { cause: e });
  }
}

/** Records `m` in the plan on disk, then runs `make`: a crash in between leaves the record. */
export function recordThen<T>(plan: ClusterPlan, m: Made, make: () => T): T {
  plan.made.push(m);
  savePlan(plan);
  return make();
}

export function nodeOf(plan: ClusterPlan, name: string): NodePlan {
  const n = plan.nodes.find((x) => x.name === name || String(x.index) === name);
  if (!n) throw new Error(`no node ${JSON.stringify(name)} in cluster ${plan.name} (nodes: ${plan.nodes.map((x) => x.name).join(', ')})`);
  return n;
}
