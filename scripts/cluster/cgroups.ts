// The cluster's cgroups: one tree of its own in every hierarchy, /tsrun-cluster-<name>. Each
// kubelet's cgroup root is <tree>/<node> (it makes kubepods/... below it and never creates its
// root), and every process the cluster starts (control plane, registry, kubelets, tsrun cri,
// kube-proxy) joins <tree>/daemons in the cgroup2 hierarchy, which tracks processes only. Their
// children follow them there, so what the cluster runs, pods included, is found and killed by
// that one tree, whatever happened to the processes that started it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ClusterPlan } from './layout';
import { recordThen } from './layout';
import { sleep } from './sh';

const ROOT = '/sys/fs/cgroup';

/** Mounted hierarchies (v1 controllers, named ones, the cgroup2 one), or the one v2 tree. */
export function hierarchies(): string[] {
  if (fs.existsSync(path.join(ROOT, 'cgroup.controllers'))) return [ROOT];
  return fs
    .readdirSync(ROOT)
    .map((h) => path.join(ROOT, h))
    .filter((h) => fs.existsSync(path.join(h, 'cgroup.procs')) && !fs.lstatSync(h).isSymbolicLink());
}

/** The hierarchy that tracks the cluster's processes: cgroup2 where mounted, else pids. */
export function trackingHierarchy(): string {
  const hs = hierarchies();
  const v2 = hs.find((h) => fs.existsSync(path.join(h, 'cgroup.controllers')));
  const pick = v2 ?? hs.find((h) => path.basename(h).split(',').includes('pids'));
  if (!pick) throw new Error(`no cgroup2 or pids hierarchy under ${ROOT} to track the cluster's processes in`);
  return pick;
}

export function daemonsCgroup(plan: ClusterPlan): string {
  return path.join(trackingHierarchy(), plan.cgroup, 'daemons');
}

/** The kubelet's cgroupRoot for `node` (cgroupfs form). */
export function nodeCgroupRoot(plan: ClusterPlan, node: string): string {
  return `${plan.cgroup}/${node}`;
}

function mkCgroup(plan: ClusterPlan, dir: string): void {
  if (fs.existsSync(dir)) return;
  recordThen(plan, { kind: 'cgroup', path: dir }, () => fs.mkdirSync(dir));
  // A v1 cpuset cgroup starts with no CPUs and no memory nodes: nothing could join it.
  for (const f of ['cpuset.cpus', 'cpuset.mems']) {
    const own = path.join(dir, f);
    if (fs.existsSync(own) && fs.readFileSync(own, 'utf8').trim() === '') fs.writeFileSync(own, fs.readFileSync(path.join(path.dirname(dir), f)));
  }
}

export function createCgroups(plan: ClusterPlan): void {
  const tracking = trackingHierarchy();
  for (const h of hierarchies()) {
    const top = path.join(h, plan.cgroup);
    mkCgroup(plan, top);
    // On a pure v2 host the kubelets' roots need the controllers handed down to them.
    const controllers = path.join(top, 'cgroup.controllers');
    if (h === ROOT && fs.existsSync(controllers)) {
      const want = fs
        .readFileSync(controllers, 'utf8')
        .trim()
        .split(/\s+/)
        .filter((c) => ['cpu', 'cpuset', 'memory', 'pids', 'io', 'hugetlb'].includes(c));
      if (want.length) fs.writeFileSync(path.join(top, 'cgroup.subtree_control'), want.map((c) => `+${c}`).join(' '));
    }
    for (const n of plan.nodes) mkCgroup(plan, path.join(top, n.name));
    if (h === tracking) mkCgroup(plan, path.join(top, 'daemons'));
  }
}

function subdirs(dir: string): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.filter((e) => e.isDirectory()).flatMap((e) => [...subdirs(path.join(dir, e.name)), path.join(dir, e.name)]);
}

/** Pids in the cluster's tree of every hierarchy. */
export function clusterPids(plan: ClusterPlan): number[] {
  const pids = new Set<number>();
  for (const h of hierarchies()) {
    const top = path.join(h, plan.cgroup);
    if (!fs.existsSync(top)) continue;
    for (const d of [top, ...subdirs(top)]) {
      let text: string;
      try {
        text = fs.readFileSync(path.join(d, 'cgroup.procs'), 'utf8');
      } catch {
        continue;
      }
      for (const p of text.split('\n')) if (Number(p) > 0) pids.add(Number(p));
    }
  }
  return [...pids];
}

/** Kills every process in the cluster's tree (cgroup.kill where the kernel has it) and waits for them to go. */
export async function killAll(plan: ClusterPlan): Promise<void> {
  const top = path.join(trackingHierarchy(), plan.cgroup);
  const kill = path.join(top, 'cgroup.kill');
  if (fs.existsSync(kill)) fs.writeFileSync(kill, '1');
  const end = Date.now() + 30_000;
  for (;;) {
    const left = clusterPids(plan);
    if (left.length === 0) return;
    if (Date.now() > end) throw new Error(`processes ${left.join(' ')} in cgroup ${plan.cgroup} did not die in 30 s`);
    for (const pid of left) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone already */
      }
    }
    await sleep(100);
  }
}

/** Removes the cluster's cgroups, deepest first (the kubelets' kubepods trees too). */
export async function removeCgroups(plan: ClusterPlan): Promise<string[]> {
  const left: string[] = [];
  for (const h of hierarchies()) {
    const top = path.join(h, plan.cgroup);
    if (!fs.existsSync(top)) continue;
    for (const d of [...subdirs(top), top]) {
      // A cgroup is busy for a moment after its last process is reaped.
      const end = Date.now() + 10_000;
      for (;;) {
        try {
          fs.rmdirSync(d);
          break;
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') break;
          if (code !== 'EBUSY' || Date.now() > end) {
            left.push(`${d}: ${(e as Error).message}`);
            break;
          }
          await sleep(100);
        }
      }
    }
  }
  return left;
}

/** Whether `pid` runs in the cluster's tree: a pid file's pid may have been reused. */
export function pidInCluster(plan: ClusterPlan, pid: number): boolean {
  if (!(pid > 0)) return false;
  try {
    const lines = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n');
    return lines.some((l) => {
      const p = l.split(':').slice(2).join(':');
      return p === plan.cgroup || p.startsWith(plan.cgroup + '/');
    });
  } catch {
    return false;
  }
}
