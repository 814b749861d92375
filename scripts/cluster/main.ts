// scripts/cluster.sh: a Kubernetes cluster on this machine whose nodes run their pods on tsrun.
//
//   scripts/cluster.sh up [--nodes N] [--node-monitor-grace-period S] [--toleration-seconds S]
//   scripts/cluster.sh down | status
//   scripts/cluster.sh kubectl ARGS...        kubectl (from the build) as the cluster's admin (cluster.sh
//                                             execs it itself, so signals reach it)
//   scripts/cluster.sh url SERVICE [-n NS] [--all]   http://<node IP>:<nodePort> of a NodePort Service
//   scripts/cluster.sh stop-node NODE | start-node NODE
//   --name NAME before or after the verb (or $TSRUN_CLUSTER) picks a cluster; default "tsrun".
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { flock } from '../../src/sys/native';
import { clusterPids, createCgroups, killAll, removeCgroups } from './cgroups';
import { CONTROL_PLANE, cpLog, startControlPlane, startRegistry } from './control-plane';
import { daemonPid } from './daemons';
import type { ClusterPlan } from './layout';
import { checkName, CLUSTERS_DIR, DEFAULT_NAME, K8S_BIN, K8S_VERSION, loadPlan, makePlan, MAX_NODES, nodeOf, savePlan } from './layout';
import { getNodes, kubectl, readiness, tryKubectl } from './kube';
import { createNetwork, pickOctet, removeNetworkObject } from './network';
import { checkNode, daemonName, NODE_DAEMONS, nodeLog, prepareNode, registerNode, startNode, stopNode, unmountUnder } from './node';
import { kubeconfigPath, makePki } from './pki';
import { tryRun, waitFor } from './sh';

// In /run/lock: the lock outlives no boot, and leaves nothing in the clusters' dir.
const LOCK_FILE = '/run/lock/tsrun-cluster.lock';

const USAGE = `usage: scripts/cluster.sh [--name NAME] VERB ...
  up [--nodes N] [--node-monitor-grace-period SECONDS] [--toleration-seconds SECONDS]
                      bring up a control plane and N nodes (default 2) on this machine
  down                stop everything the cluster runs and remove everything it made
  status              what runs, and the nodes as Kubernetes sees them
  kubectl ARGS...     kubectl ${K8S_VERSION} as the cluster's admin
  url SERVICE [-n NAMESPACE] [--all]
                      http://<node IP>:<nodePort> of a NodePort Service (--all: every node's)
  stop-node NODE      stop a node's kubelet and tsrun cri (its containers keep running)
  start-node NODE     start them again
  --name NAME (or $TSRUN_CLUSTER) picks the cluster: 1-8 lowercase letters and digits, default ${DEFAULT_NAME}`;

class UsageError extends Error {}

const say = (s: string): void => void process.stdout.write(s + '\n');

function needRoot(): void {
  if (process.getuid?.() !== 0) throw new Error('scripts/cluster.sh needs root: it makes network namespaces, a bridge, cgroups and mounts');
}

function needTools(): void {
  const missing = [...[...CONTROL_PLANE, 'kubelet', 'kube-proxy', 'kubectl'].map((c) => path.join(K8S_BIN, c)).filter((f) => !fs.existsSync(f))];
  if (missing.length)
    throw new Error(`${missing.join(', ')} missing: run scripts/install-kubernetes.sh (it builds Kubernetes ${K8S_VERSION} once per machine)`);
  const tools = ['ip', 'nsenter', 'unshare', 'openssl', 'curl', 'docker-registry', 'skopeo', 'iptables', 'mount'].filter(
    (t) => tryRun('sh', ['-c', `command -v ${t}`]).code !== 0,
  );
  if (tools.length) throw new Error(`${tools.join(', ')} not found: run scripts/install.sh`);
}

/**
 * What changes clusters (up, down, stop-node, start-node) runs one at a time on this machine:
 * address planning sees every other cluster's plan, and no verb meets a half-made cluster.
 */
async function withMachineLock<T>(fn: () => Promise<T>): Promise<T> {
  const fd = fs.openSync(LOCK_FILE, 'a');
  try {
    flock(fd, true, true);
    return await fn();
  } finally {
    fs.closeSync(fd);
  }
}

function apiServerReady(plan: ClusterPlan): boolean {
  return daemonPid(plan, 'kube-apiserver') !== undefined && tryKubectl(plan, ['get', '--raw', '/readyz']).stdout.trim() === 'ok';
}

/** Everything the cluster made, in reverse: processes, mounts, interfaces, namespaces, rules, cgroups, files. */
async function teardown(plan: ClusterPlan): Promise<void> {
  const left: string[] = [];
  try {
    await killAll(plan);
  } catch (e) {
    left.push((e as Error).message);
  }
  left.push(...unmountUnder(plan.dir));
  for (const m of [...plan.made].reverse()) {
    const why = removeNetworkObject(m);
    if (why) left.push(why);
  }
  left.push(...(await removeCgroups(plan)));
  // Directories made on the host for the nodes' mounts (the kubelet's fixed paths): kept if
  // something else uses them by now, or if another cluster's nodes may have mounts on them.
  const othersUp = fs.readdirSync(CLUSTERS_DIR).some((n) => n !== plan.name && fs.existsSync(path.join(CLUSTERS_DIR, n, 'cluster.json')));
  for (const m of [...plan.made].reverse()) {
    if (m.kind !== 'dir' || othersUp) continue;
    try {
      fs.rmdirSync(m.path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'EBUSY') left.push(`${m.path}: ${(e as Error).message}`);
    }
  }
  if (left.length)
    throw new Error(
      `could not remove everything of cluster ${plan.name} (its record stays in ${plan.dir}; run down again once fixed):\n  ${left.join('\n  ')}`,
    );
  fs.rmSync(plan.dir, { recursive: true, force: true });
  try {
    fs.rmdirSync(CLUSTERS_DIR); // the last cluster on this machine: its parent goes too
  } catch {
    /* other clusters */
  }
}

function logsOf(plan: ClusterPlan): string[] {
  const out = [...CONTROL_PLANE.map((c) => cpLog(plan, c)), path.join(plan.dir, 'registry', 'registry.log')];
  for (const n of plan.nodes) for (const d of NODE_DAEMONS) out.push(nodeLog(n, d));
  return out.filter((f) => fs.existsSync(f));
}

interface UpOptions {
  nodes: number;
  grace?: number;
  toleration?: number;
}

async function up(name: string, o: UpOptions): Promise<void> {
  needRoot();
  needTools();
  const started = Date.now();
  const previous = loadPlan(name);
  if (previous) {
    if (previous.complete && apiServerReady(previous))
      throw new Error(`cluster ${name} is already up (scripts/cluster.sh${name === DEFAULT_NAME ? '' : ` --name ${name}`} down removes it)`);
    say(`cluster ${name}: removing what a previous run left (${previous.dir})`);
    await teardown(previous);
  }
  const plan = makePlan(name, o.nodes, pickOctet(name), { nodeMonitorGracePeriodSeconds: o.grace, tolerationSeconds: o.toleration });
  savePlan(plan);
  createCgroups(plan);
  createNetwork(plan);
  try {
    say(`cluster ${name}: nodes on ${plan.nodeSubnet} (bridge ${plan.bridge}), pods in ${plan.clusterCidr}, services in ${plan.serviceCidr}`);
    makePki(plan);
    for (const n of plan.nodes) prepareNode(plan, n);
    say(`cluster ${name}: registry with the stand-in images on ${plan.registry}`);
    await startRegistry(plan);
    say(`cluster ${name}: control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler) on ${plan.controlPlane.ip}`);
    await startControlPlane(plan);
    for (const n of plan.nodes) registerNode(plan, n);
    say(`cluster ${name}: ${plan.nodes.length} nodes (kubelet, tsrun cri, kube-proxy each)`);
    for (const n of plan.nodes) await startNode(plan, n);
    await waitFor('every node to be Ready', 180_000, () => {
      for (const n of plan.nodes) checkNode(plan, n);
      const nodes = getNodes(plan);
      for (const n of plan.nodes) {
        const r = readiness(nodes?.find((x) => x.metadata.name === n.name));
        if (r !== 'Ready') return `${n.name}: ${r}`;
      }
      return true;
    });
    await waitFor('kube-proxy on every node to have synced', 60_000, () => {
      for (const n of plan.nodes)
        if (tryRun('curl', ['-sf', '--max-time', '2', `http://${n.ip}:10256/healthz`]).code !== 0) return `kube-proxy of ${n.name} not healthy yet`;
      return true;
    });
    // Pods are refused until the namespace's service account exists.
    await waitFor(
      'the default service account',
      60_000,
      () => tryKubectl(plan, ['get', 'serviceaccount', 'default', '-o', 'name']).code === 0 || 'not made yet',
    );
  } catch (e) {
    const keep = fs.mkdtempSync(path.join(os.tmpdir(), `tsrun-cluster-${name}-failed-`));
    for (const f of logsOf(plan)) fs.copyFileSync(f, path.join(keep, path.relative(plan.dir, f).replace(/\//g, '_')));
    await teardown(plan).catch((t: Error) => say(t.message));
    throw new Error(`${(e as Error).message}\n(cluster ${name} removed again; its logs are in ${keep})`, { cause: e });
  }
  plan.complete = true;
  savePlan(plan);
  printUsage(plan, Math.round((Date.now() - started) / 1000));
}

function printUsage(plan: ClusterPlan, seconds: number): void {
  const nameOpt = plan.name === DEFAULT_NAME ? '' : ` --name ${plan.name}`;
  say(`
Cluster "${plan.name}" is up in ${seconds} s: Kubernetes ${K8S_VERSION}, ${plan.nodes.length} nodes running their pods on tsrun.
  API server     https://${plan.controlPlane.ip}:6443
${plan.nodes.map((n) => `  ${n.name.padEnd(14)} ${n.ip.padEnd(12)} pods ${n.podCidr}`).join('\n')}
  registry       ${plan.registry}  (nginx, busybox, registry.k8s.io/echoserver:1.4 are served from here)
  files, logs    ${plan.dir}

Use it:
  export KUBECONFIG=${kubeconfigPath(plan, 'admin')}
  export PATH=${K8S_BIN}:$PATH
  kubectl get nodes -o wide                   (or: scripts/cluster.sh${nameOpt} kubectl get nodes -o wide)
  kubectl create deployment hello --image=registry.k8s.io/echoserver:1.4
  kubectl expose deployment hello --type=NodePort --port=8080
  curl $(scripts/cluster.sh${nameOpt} url hello)

Remove it: scripts/cluster.sh${nameOpt} down`);
}

async function down(name: string): Promise<void> {
  needRoot();
  const plan = loadPlan(name);
  if (!plan) {
    say(`cluster ${name}: nothing to remove (no ${path.join(CLUSTERS_DIR, name, 'cluster.json')})`);
    return;
  }
  await teardown(plan);
  say(`cluster ${name}: removed`);
}

function needPlan(name: string): ClusterPlan {
  const plan = loadPlan(name);
  if (!plan) throw new Error(`no cluster ${name} on this machine: scripts/cluster.sh${name === DEFAULT_NAME ? '' : ` --name ${name}`} up makes it`);
  return plan;
}

function status(name: string): number {
  const plan = needPlan(name);
  const pid = (d: string): string => {
    const p = daemonPid(plan, d);
    return p === undefined ? 'not running' : `pid ${p}`;
  };
  const upNow = apiServerReady(plan);
  const unfinished = plan.complete ? '' : '; its bring-up did not finish (scripts/cluster.sh up removes it and starts again)';
  say(
    `cluster ${name}: ${upNow ? 'up' : 'API server not answering'} (https://${plan.controlPlane.ip}:6443), ${clusterPids(plan).length} processes${unfinished}`,
  );
  say(`  kubeconfig: ${kubeconfigPath(plan, 'admin')}`);
  say(`  control plane ${plan.controlPlane.ip}: ${[...CONTROL_PLANE, 'registry'].map((c) => `${c} ${pid(c)}`).join(', ')}`);
  const nodes = upNow ? getNodes(plan) : undefined;
  for (const n of plan.nodes) {
    const k8s = nodes ? readiness(nodes.find((x) => x.metadata.name === n.name)) : 'unknown';
    say(`  ${n.name} ${n.ip} pods ${n.podCidr}: ${NODE_DAEMONS.map((d) => `${d} ${pid(daemonName(n, d))}`).join(', ')}; ${k8s}`);
  }
  return upNow && plan.complete ? 0 : 1;
}

function url(name: string, args: string[]): void {
  const plan = needPlan(name);
  let ns = 'default';
  let all = false;
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-n' || a === '--namespace') ns = args[++i] ?? '';
    else if (a === '--all') all = true;
    else rest.push(a);
  }
  if (rest.length !== 1 || !ns) throw new UsageError('url SERVICE [-n NAMESPACE] [--all]');
  const svc = JSON.parse(kubectl(plan, ['get', 'service', rest[0]!, '-n', ns, '-o', 'json'])) as { spec: { type: string; ports: { nodePort?: number }[] } };
  const ports = svc.spec.ports.map((p) => p.nodePort).filter((p): p is number => !!p);
  if (!ports.length) throw new Error(`service ${ns}/${rest[0]} has no node port (type ${svc.spec.type}): kubectl expose ... --type=NodePort makes one`);
  for (const n of all ? plan.nodes : plan.nodes.slice(0, 1)) for (const port of ports) say(`http://${n.ip}:${port}`);
}

function intOption(v: string | undefined, flag: string, min: number, max: number): number {
  const n = Number(v);
  if (!v || !Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`${flag} wants a whole number from ${min} to ${max}, not ${JSON.stringify(v ?? '')}`);
  return n;
}

async function main(argv: string[]): Promise<number> {
  let name = process.env['TSRUN_CLUSTER'] || DEFAULT_NAME;
  const args = [...argv];
  const takeName = (): void => {
    while (args[0] === '--name') {
      name = args[1] ?? '';
      args.splice(0, 2);
    }
  };
  takeName();
  const verb = args.shift();
  takeName();
  checkName(name);
  switch (verb) {
    case 'up': {
      const o: UpOptions = { nodes: 2 };
      for (let i = 0; i < args.length; i++) {
        const a = args[i]!;
        const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
        const value = (): string | undefined => inline ?? args[++i];
        if (flag === '--nodes') o.nodes = intOption(value(), '--nodes', 1, MAX_NODES);
        else if (flag === '--node-monitor-grace-period') o.grace = intOption(value(), '--node-monitor-grace-period', 8, 3600);
        else if (flag === '--toleration-seconds') o.toleration = intOption(value(), '--toleration-seconds', 0, 86400);
        else if (flag === '--name') name = value() ?? '';
        else throw new UsageError(`up: unknown option ${a}`);
      }
      checkName(name);
      await withMachineLock(() => up(name, o));
      return 0;
    }
    case 'down':
      if (args.length) throw new UsageError(`down takes no arguments (got ${args.join(' ')})`);
      await withMachineLock(() => down(name));
      return 0;
    case 'status':
      return status(name);
    case 'kubectl':
      throw new UsageError('kubectl: run it as scripts/cluster.sh kubectl ARGS (the script execs kubectl itself)');
    case 'url':
      url(name, args);
      return 0;
    case 'stop-node':
    case 'start-node': {
      needRoot();
      if (args.length !== 1) throw new UsageError(`${verb} NODE`);
      const plan = needPlan(name);
      const n = nodeOf(plan, args[0]!);
      await withMachineLock(() => (verb === 'stop-node' ? stopNode(plan, n) : startNode(plan, n)));
      say(`${n.name}: kubelet and tsrun cri ${verb === 'stop-node' ? 'stopped' : 'started'}`);
      return 0;
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      say(USAGE);
      return verb === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown verb ${JSON.stringify(verb)}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (e: Error) => {
    process.stderr.write(`cluster.sh: ${e.message}\n${e instanceof UsageError ? USAGE + '\n' : ''}`);
    process.exitCode = e instanceof UsageError ? 2 : 1;
  },
);
