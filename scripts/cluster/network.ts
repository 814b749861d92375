// The cluster's network, as kind gives each node a container: a network namespace per node (and
// one for the control plane), each with a veth to a bridge on the host that carries the node
// IPs. Each node routes the other nodes' pod CIDRs through their node IPs, so pods reach each
// other without NAT; the host routes them too, so a pod IP answers from the host.
import * as fs from 'node:fs';
import type { ClusterPlan, Made } from './layout';
import { CLUSTERS_DIR, recordThen } from './layout';
import { inNetns, run, tryRun } from './sh';

// 10.<octet>.0.0/16 per cluster. 10.236-245 are what tsrun's tests give their CRI bridges, and
// 10.244 is the usual pod network of other tools: stay clear of them.
const OCTETS = Array.from({ length: 30 }, (_, i) => 200 + i);

function ipToInt(ip: string): number {
  return ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

/** [first, last] address of a CIDR as integers. */
export function cidrRange(cidr: string): [number, number] {
  const [ip, bits] = cidr.split('/');
  const size = 2 ** (32 - Number(bits ?? 32));
  const start = Math.floor(ipToInt(ip!) / size) * size;
  return [start, start + size - 1];
}

function overlaps(a: string, b: string): boolean {
  const [a0, a1] = cidrRange(a);
  const [b0, b1] = cidrRange(b);
  return a0 <= b1 && b0 <= a1;
}

/** IPv4 prefixes the host routes or has addresses in (default routes aside: they cover everything). */
function hostPrefixes(): string[] {
  const out: string[] = [];
  for (const table of ['main', 'local']) {
    for (const line of run('ip', ['-4', 'route', 'show', 'table', table]).split('\n')) {
      const dst = /^(?:[a-z]+\s+)?(\d+\.\d+\.\d+\.\d+(?:\/\d+)?)\s/.exec(line)?.[1];
      if (dst) out.push(dst.includes('/') ? dst : `${dst}/32`);
    }
  }
  for (const m of run('ip', ['-4', '-o', 'addr', 'show']).matchAll(/inet (\d+\.\d+\.\d+\.\d+\/\d+)/g)) out.push(m[1]!);
  return out;
}

/** Octets other clusters on this machine have planned (running or not yet cleaned up). */
function octetsInUse(except: string): Set<number> {
  const used = new Set<number>();
  let names: string[] = [];
  try {
    names = fs.readdirSync(CLUSTERS_DIR);
  } catch {
    /* no clusters yet */
  }
  for (const n of names) {
    if (n === except) continue;
    try {
      used.add((JSON.parse(fs.readFileSync(`${CLUSTERS_DIR}/${n}/cluster.json`, 'utf8')) as ClusterPlan).octet);
    } catch {
      /* not a cluster dir */
    }
  }
  return used;
}

/** A 10.x.0.0/16 that no route, address or other cluster on this machine touches. Call under the machine lock. */
export function pickOctet(name: string): number {
  const prefixes = hostPrefixes();
  const used = octetsInUse(name);
  const start = Math.floor(Math.random() * OCTETS.length);
  for (let i = 0; i < OCTETS.length; i++) {
    const o = OCTETS[(start + i) % OCTETS.length]!;
    if (used.has(o)) continue;
    if (prefixes.some((p) => overlaps(p, `10.${o}.0.0/16`))) continue;
    return o;
  }
  throw new Error(
    `no free 10.x.0.0/16 among 10.${OCTETS[0]}-${OCTETS[OCTETS.length - 1]}: every one is routed on this host or planned by another cluster under ${CLUSTERS_DIR}`,
  );
}

export function linkExists(name: string): boolean {
  return tryRun('ip', ['link', 'show', 'dev', name]).code === 0;
}

export function netnsExists(name: string): boolean {
  return fs.existsSync(`/run/netns/${name}`);
}

function refuseTaken(plan: ClusterPlan): void {
  const taken = [plan.bridge, plan.controlPlane.veth, ...plan.nodes.map((n) => n.veth)].filter(linkExists).map((l) => `interface ${l}`);
  taken.push(...[plan.controlPlane.netns, ...plan.nodes.map((n) => n.netns)].filter(netnsExists).map((n) => `network namespace ${n}`));
  if (taken.length)
    throw new Error(
      `${taken.join(', ')} already exist${taken.length === 1 ? 's' : ''} and ${taken.length === 1 ? 'is' : 'are'} not this cluster's: pick another name with --name`,
    );
}

/** A namespace on the bridge: its veth's host side joins the bridge, eth0 inside gets `ip`. */
function attach(plan: ClusterPlan, netns: string, veth: string, ip: string): void {
  recordThen(plan, { kind: 'netns', name: netns }, () => run('ip', ['netns', 'add', netns]));
  recordThen(plan, { kind: 'link', name: veth }, () => run('ip', ['link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns]));
  run('ip', ['link', 'set', veth, 'master', plan.bridge, 'up']);
  inNetns(netns, 'ip', ['link', 'set', 'lo', 'up']);
  inNetns(netns, 'ip', ['addr', 'add', `${ip}/24`, 'dev', 'eth0']);
  inNetns(netns, 'ip', ['link', 'set', 'eth0', 'up']);
  inNetns(netns, 'ip', ['route', 'add', 'default', 'via', plan.hostIp]);
}

/**
 * Traffic between the nodes crosses the host's bridge, and this host's br_netfilter hands
 * bridged frames to the host's FORWARD chain. Where that chain's policy drops, two rules of
 * this cluster's own let its bridge through; otherwise the host's iptables stay untouched.
 */
function allowBridgeForwarding(plan: ClusterPlan): void {
  const policy = /^-P FORWARD (\w+)/m.exec(tryRun('iptables', ['-S', 'FORWARD']).stdout)?.[1];
  if (!policy || policy === 'ACCEPT') return;
  for (const dir of ['-i', '-o']) {
    const rule = [dir, plan.bridge, '-m', 'comment', '--comment', `tsrun-cluster ${plan.name}`, '-j', 'ACCEPT'];
    recordThen(plan, { kind: 'iptables', table: 'filter', chain: 'FORWARD', rule }, () => run('iptables', ['-t', 'filter', '-I', 'FORWARD', ...rule]));
  }
}

export function createNetwork(plan: ClusterPlan): void {
  refuseTaken(plan);
  recordThen(plan, { kind: 'link', name: plan.bridge }, () => run('ip', ['link', 'add', plan.bridge, 'type', 'bridge']));
  run('ip', ['addr', 'add', `${plan.hostIp}/24`, 'dev', plan.bridge]);
  run('ip', ['link', 'set', plan.bridge, 'up']);
  allowBridgeForwarding(plan);
  attach(plan, plan.controlPlane.netns, plan.controlPlane.veth, plan.controlPlane.ip);
  for (const n of plan.nodes) attach(plan, n.netns, n.veth, n.ip);
  // Pod CIDRs: from the host (routes through the bridge go with it), the control plane and every other node.
  for (const n of plan.nodes) {
    run('ip', ['route', 'add', n.podCidr, 'via', n.ip, 'dev', plan.bridge]);
    inNetns(plan.controlPlane.netns, 'ip', ['route', 'add', n.podCidr, 'via', n.ip]);
    for (const other of plan.nodes) if (other !== n) inNetns(other.netns, 'ip', ['route', 'add', n.podCidr, 'via', n.ip]);
  }
}

/** Removes one recorded network object if it is still there; returns what could not be removed. */
export function removeNetworkObject(m: Made): string | undefined {
  if (m.kind === 'netns') {
    if (!netnsExists(m.name)) return undefined;
    const r = tryRun('ip', ['netns', 'del', m.name]);
    return r.code === 0 ? undefined : `network namespace ${m.name}: ${r.stderr.trim()}`;
  }
  if (m.kind === 'link') {
    if (!linkExists(m.name)) return undefined;
    const r = tryRun('ip', ['link', 'del', 'dev', m.name]);
    // A veth goes away with its peer's namespace too: gone by now is fine.
    return r.code === 0 || !linkExists(m.name) ? undefined : `interface ${m.name}: ${r.stderr.trim()}`;
  }
  if (m.kind === 'iptables') {
    if (tryRun('iptables', ['-t', m.table, '-C', m.chain, ...m.rule]).code !== 0) return undefined;
    const r = tryRun('iptables', ['-t', m.table, '-D', m.chain, ...m.rule]);
    return r.code === 0 ? undefined : `iptables -t ${m.table} ${m.chain} ${m.rule.join(' ')}: ${r.stderr.trim()}`;
  }
  return undefined;
}
