// The cluster's long-running processes. Each starts detached (it outlives `up`), joins the
// cluster's cgroup first (so `down` finds it and everything it starts), then enters its
// namespaces with nsenter and execs the component: same pid throughout, kept in a pid file.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readProcStat } from '../../src/runtime/proc';
import { daemonsCgroup, pidInCluster } from './cgroups';
import type { ClusterPlan } from './layout';
import { PATH_ENV, sleep } from './sh';

export interface DaemonSpec {
  /** "kube-apiserver", "tsrun-node1/kubelet" */
  name: string;
  bin: string;
  args: string[];
  netns: string;
  /** a pinned mount namespace to enter (a node's); default: the host's */
  mntns?: string;
  log: string;
}

export function pidFile(plan: ClusterPlan, name: string): string {
  return path.join(plan.dir, 'pids', `${name.replace(/\//g, '.')}.pid`);
}

/** Gone, or a zombie (stat unreadable counts as gone). */
function isZombie(pid: number): boolean {
  const st = readProcStat(pid);
  return !st || st.state === 'Z';
}

/** The daemon's pid while it runs (checked to be in the cluster's cgroup: pids get reused). */
export function daemonPid(plan: ClusterPlan, name: string): number | undefined {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(pidFile(plan, name), 'utf8'));
  } catch {
    return undefined;
  }
  return pidInCluster(plan, pid) && !isZombie(pid) ? pid : undefined;
}

/** Starts the daemon; resolves with its pid once it runs in the cluster's cgroup. */
export async function startDaemon(plan: ClusterPlan, spec: DaemonSpec): Promise<number> {
  fs.mkdirSync(path.dirname(spec.log), { recursive: true });
  fs.mkdirSync(path.join(plan.dir, 'pids'), { recursive: true });
  const out = fs.openSync(spec.log, 'a');
  const enter = [`--net=/run/netns/${spec.netns}`, ...(spec.mntns ? [`--mount=${spec.mntns}`] : [])];
  const child = spawn(
    'sh',
    ['-c', 'echo $$ > "$0" && exec "$@"', path.join(daemonsCgroup(plan), 'cgroup.procs'), 'nsenter', ...enter, '--', spec.bin, ...spec.args],
    {
      detached: true,
      stdio: ['ignore', out, out],
      env: { PATH: PATH_ENV, HOME: '/root', LANG: 'C.UTF-8' },
    },
  );
  fs.closeSync(out);
  const pid = child.pid;
  if (!pid) throw new Error(`could not start ${spec.name} (${spec.bin})`);
  let exited = false;
  child.once('exit', () => (exited = true));
  fs.writeFileSync(pidFile(plan, spec.name), String(pid));
  const end = Date.now() + 10_000;
  while (!pidInCluster(plan, pid)) {
    if (exited || Date.now() > end)
      throw new Error(
        `${spec.name} did not start (${exited ? 'it exited' : 'not in the cluster cgroup after 10 s'}); the end of ${spec.log}:\n${logTail(spec.log)}`,
      );
    await sleep(20);
  }
  child.unref();
  return pid;
}

/** The last lines of a daemon's log, for an error that says why it is not up. */
export function logTail(file: string, lines = 30): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once it is gone. */
export async function stopDaemon(plan: ClusterPlan, name: string, graceMs = 10_000): Promise<void> {
  const pid = daemonPid(plan, name);
  if (pid === undefined) return;
  process.kill(pid, 'SIGTERM');
  const end = Date.now() + graceMs;
  while (daemonPid(plan, name) !== undefined) {
    if (Date.now() > end) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await sleep(100);
  }
  fs.rmSync(pidFile(plan, name), { force: true });
}
