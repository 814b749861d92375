// Churn soak: N pods (1000; 100 with --quick) made and removed one after another on `tsrun cri`,
// each through RunPodSandbox, CreateContainer, StartContainer, ExecSync, StopContainer,
// RemoveContainer, StopPodSandbox, RemovePodSandbox, as a kubelet churning pods would. Before
// the first pod, every 100 pods and after the last, what the server holds is counted: its fds
// and RSS, the mounts, cgroups, pinned network namespaces, veths, IPAM leases, image leases,
// records and processes of its own. Everything must be back where it started (RSS is reported
// as growth: a heap settles, it does not return); the rows give each count after the churn
// beside its count before.
//   node dist/bench/soak.js [--quick] [--cycles N]
import * as fs from 'node:fs';
import * as path from 'node:path';
import { criEnv, BRIDGE, type CriEnv } from './lib/cri-env';
import { podSpec, pullImages, startPod, stopPod } from './lib/pods';
import { allProcs, descendants, mem } from './lib/procs';
import { quick, row, runBench, type Row } from './lib/report';
import type { CriRuntime } from './lib/runtime';
import { startTsrunCri } from './lib/tsrun-cri';
import { execFileSync } from 'node:child_process';

const cyclesArg = process.argv.indexOf('--cycles');
const CYCLES = cyclesArg > 0 ? Number(process.argv[cyclesArg + 1]) : quick ? 100 : 1000;
const EVERY = 100;

interface Counts {
  fds: number;
  rssMiB: number;
  mounts: number;
  cgroups: number;
  netns: number;
  veths: number;
  ipamLeases: number;
  imageLeases: number;
  records: number;
  processes: number;
}

function count(dir: string, filter: (name: string) => boolean = () => true): number {
  try {
    return fs.readdirSync(dir).filter(filter).length;
  } catch {
    return 0;
  }
}

function treeDirs(dir: string): number {
  let n = 0;
  try {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) n += 1 + treeDirs(path.join(dir, e.name));
  } catch {
    /* not there */
  }
  return n;
}

function counts(rt: CriRuntime, env: CriEnv): Counts {
  const server = rt.processes().daemon[0]!;
  const dir = rt.dir!;
  const mountinfo = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' '));
  const ours = mountinfo.filter((f) => (f[4] ?? '').startsWith(dir));
  // nsfs mounts below the run dir: the pods' pinned namespaces (net, ipc, uts).
  const netns = ours.filter((f) => f[4]!.endsWith('/ns/net')).length;
  let veths = 0;
  try {
    veths = execFileSync('ip', ['-o', 'link', 'show', 'master', BRIDGE], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).length;
  } catch {
    /* the bridge is made with the first pod */
  }
  const procs = allProcs();
  const tree = descendants(server, procs);
  const helpers = rt.processes().helpers;
  const state = path.join(dir, 'root', 'cri-state');
  return {
    fds: count(`/proc/${server}/fd`),
    rssMiB: mem(server).rssKiB / 1024,
    mounts: ours.length,
    cgroups: fs.readdirSync('/sys/fs/cgroup').reduce((a, h) => a + treeDirs(path.join('/sys/fs/cgroup', h, env.cgroupParent)), 0),
    netns,
    veths,
    ipamLeases: count(path.join(env.dir, 'ipam', 'tsrun-bench'), (n) => /^\d+\.\d+\.\d+\.\d+$/.test(n)),
    imageLeases: count(path.join(dir, 'store', 'leases')),
    records: count(path.join(state, 'sandboxes')) + count(path.join(state, 'containers')),
    processes: new Set([...tree, ...helpers]).size - 1,
  };
}

const show = (c: Counts): string =>
  `fds ${c.fds}, rss ${c.rssMiB.toFixed(1)} MiB, mounts ${c.mounts}, cgroups ${c.cgroups}, netns ${c.netns}, veths ${c.veths}, ipam ${c.ipamLeases}, image leases ${c.imageLeases}, records ${c.records}, processes ${c.processes}`;

const LEAK_KEYS = ['fds', 'mounts', 'cgroups', 'netns', 'veths', 'ipamLeases', 'imageLeases', 'records', 'processes'] as const;

/** Counts once background removals (trashed records, exits being released) are done. */
async function settled(rt: CriRuntime, env: CriEnv, start: Counts): Promise<Counts> {
  let c = counts(rt, env);
  for (const end = Date.now() + 30_000; Date.now() < end && LEAK_KEYS.some((k) => c[k] > start[k]); c = counts(rt, env))
    await new Promise((r) => setTimeout(r, 250));
  return c;
}

runBench('soak', async () => {
  const env = await criEnv();
  const rt = await startTsrunCri(env);
  const samples: { cycle: number; counts: Counts; seconds: number }[] = [];
  const t0 = Date.now();
  let start: Counts;
  let end: Counts;
  try {
    await pullImages(rt.client, env);
    // One pod first: what the first pod makes once (the bridge, caches, lazily loaded code) is
    // not a leak of every pod.
    const warm = await startPod(rt.client, podSpec(env, 'soak-warm', path.join(env.dir, 'logs')));
    // Each count must see a live pod, or its staying at its start would prove nothing.
    const alive = counts(rt, env);
    const blind = LEAK_KEYS.filter((k) => k !== 'fds' && alive[k] <= 0);
    if (blind.length) throw new Error(`soak: with a pod running these counts saw nothing (${blind.join(', ')}): they cannot show a leak`);
    process.stdout.write(`soak: one pod running: ${show(alive)}\n`);
    await stopPod(rt.client, warm);
    start = await settled(rt, env, counts(rt, env));
    samples.push({ cycle: 0, counts: start, seconds: 0 });
    process.stdout.write(`soak: start: ${show(start)}\n`);
    for (let i = 1; i <= CYCLES; i++) {
      const spec = podSpec(env, `soak-${i}`, path.join(env.dir, 'logs'));
      const s = await startPod(rt.client, spec);
      const ex = await rt.client.runtime('ExecSync', { container_id: s.containerId, cmd: ['echo', `cycle-${i}`], timeout: 10 });
      if (Buffer.from(ex['stdout'] as Uint8Array).toString() !== `cycle-${i}\n`)
        throw new Error(`cycle ${i}: ExecSync printed ${JSON.stringify(Buffer.from(ex['stdout'] as Uint8Array).toString())}`);
      await stopPod(rt.client, s);
      fs.rmSync(path.join(env.dir, 'logs', `soak-${i}`), { recursive: true, force: true });
      if (i % EVERY === 0 || i === CYCLES) {
        const c = i === CYCLES ? await settled(rt, env, start) : counts(rt, env);
        samples.push({ cycle: i, counts: c, seconds: (Date.now() - t0) / 1000 });
        process.stdout.write(`soak: after ${i} pods (${((Date.now() - t0) / 1000).toFixed(0)} s): ${show(c)}\n`);
      }
    }
    end = samples[samples.length - 1]!.counts;
  } finally {
    await rt.stop();
    await env.close();
  }
  const label = 'tsrun cri before the churn';
  const rows: Row[] = [
    row('soak', `server fds after ${CYCLES} pods`, 'count', end.fds, start.fds, label),
    row('soak', `server RSS after ${CYCLES} pods`, 'MiB', end.rssMiB, start.rssMiB, label),
  ];
  for (const k of LEAK_KEYS.filter((x) => x !== 'fds')) rows.push(row('soak', `${k} after ${CYCLES} pods`, 'count', end[k], start[k], label));
  const leaked = LEAK_KEYS.filter((k) => end[k] > start[k]).map((k) => `${k} ${start[k]} -> ${end[k]}`);
  const notes = [
    leaked.length ? `LEAK after ${CYCLES} pods: ${leaked.join(', ')}` : `after ${CYCLES} pods every count is back where it started`,
    `server RSS ${start.rssMiB.toFixed(1)} -> ${end.rssMiB.toFixed(1)} MiB (${end.rssMiB - start.rssMiB >= 0 ? '+' : ''}${(end.rssMiB - start.rssMiB).toFixed(1)} MiB); ${((Date.now() - t0) / 1000 / CYCLES).toFixed(2)} s per pod`,
  ];
  return { rows, notes, extra: { cycles: CYCLES, samples } };
});
