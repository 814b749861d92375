// The helper process that watches an idle container, in memory: conmon (podman + runc),
// containerd-shim-runc-v2 (one container through ctr; a CRI pod with its pause container) and
// tsrun-monitor (a `tsrun cri` pod). VmRSS from /proc/PID/status, Pss from smaps_rollup,
// sampled after the container has idled a few seconds (the Go shim's heap settles).
//   node dist/bench/monitor.js [--quick]
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { busyboxOciLayout } from '../test/fixtures/oci-image';
import { startContainerd } from './lib/containerd';
import { criEnv, removeCgroups, removeTree, type CriEnv } from './lib/cri-env';
import { podSpec, pullImages, startPod, verifyPod } from './lib/pods';
import { allProcs, mem, type Mem } from './lib/procs';
import { p50, quick, row, runBench, type Row } from './lib/report';
import type { CriRuntime } from './lib/runtime';
import { measureTsrun, startTsrunCri } from './lib/tsrun-cri';

const SETTLE_MS = quick ? 1500 : 4000;
const SAMPLES = quick ? 3 : 7;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Median VmRSS and Pss of pid over a few samples, after the settle time. */
async function settle(pid: number): Promise<Mem> {
  await sleep(SETTLE_MS);
  const xs: Mem[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    xs.push(mem(pid));
    await sleep(200);
  }
  return { rssKiB: p50(xs.map((m) => m.rssKiB)), pssKiB: p50(xs.map((m) => m.pssKiB)) };
}

function only(pids: number[], what: string): number {
  if (pids.length !== 1) throw new Error(`expected one ${what}, found ${pids.length}`);
  return pids[0]!;
}

/** conmon, as podman starts it for `podman run -d` with runc. */
async function conmon(cgroupParent: string): Promise<Mem> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-bench-podman-'));
  const global = [
    '--root',
    `${work}/storage`,
    '--runroot',
    `${work}/run`,
    '--tmpdir',
    `${work}/tmp`,
    '--runtime',
    'runc',
    '--cgroup-manager',
    'cgroupfs',
    '--events-backend',
    'file',
  ];
  const podman = (args: string[]): string =>
    execFileSync('podman', [...global, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 }).trim();
  try {
    const id = podman([
      'run',
      '-d',
      '--network',
      'none',
      '--cgroup-parent',
      `${cgroupParent}/podman`,
      '--ulimit',
      'nofile=1024:1024',
      '--ulimit',
      'nproc=1024:1024',
      `oci:${busyboxOciLayout().layout}:latest`,
      'sleep',
      '3600',
    ]);
    try {
      const pid = only(
        allProcs()
          .filter((p) => p.comm === 'conmon' && p.cmdline.includes(id))
          .map((p) => p.pid),
        `conmon for ${id}`,
      );
      return await settle(pid);
    } finally {
      podman(['rm', '-f', '-t', '0', id]);
    }
  } finally {
    spawnSync('podman', [...global, 'system', 'reset', '--force'], { stdio: 'ignore', timeout: 60_000 });
    removeTree(work);
  }
}

/** containerd-shim-runc-v2 for one container started with `ctr run -d` (no pod, no pause). */
async function ctrShim(rt: CriRuntime, env: CriEnv): Promise<Mem> {
  const ctr = (args: string[]): string =>
    execFileSync('ctr', ['-a', rt.socket, '-n', 'tsrun-bench', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  ctr(['images', 'import', '--index-name', 'bench/busybox:oci', busyboxOciLayout().tar]);
  const before = new Set(rt.processes().helpers);
  ctr(['run', '-d', '--cgroup', `${env.cgroupParent}/ctr`, 'bench/busybox:oci', 'bench-idle', 'sleep', '3600']);
  try {
    return await settle(
      only(
        rt.processes().helpers.filter((p) => !before.has(p)),
        'new shim',
      ),
    );
  } finally {
    spawnSync('ctr', ['-a', rt.socket, '-n', 'tsrun-bench', 'tasks', 'kill', '-s', 'SIGKILL', 'bench-idle'], { stdio: 'ignore' });
    for (let i = 0; i < 50 && spawnSync('ctr', ['-a', rt.socket, '-n', 'tsrun-bench', 'tasks', 'delete', 'bench-idle'], { stdio: 'ignore' }).status !== 0; i++)
      await sleep(100);
    spawnSync('ctr', ['-a', rt.socket, '-n', 'tsrun-bench', 'containers', 'delete', 'bench-idle'], { stdio: 'ignore' });
  }
}

/** The per-pod helper of a CRI runtime, for a pod with one idle container. */
async function podHelper(rt: CriRuntime, env: CriEnv): Promise<Mem> {
  await pullImages(rt.client, env);
  const before = new Set(rt.processes().helpers);
  const s = await startPod(rt.client, podSpec(env, `idle-${rt.name}`, path.join(env.dir, 'logs', `monitor-${rt.name}`)));
  await verifyPod(rt.client, s);
  return settle(
    only(
      rt.processes().helpers.filter((p) => !before.has(p)),
      `new ${rt.helperName}`,
    ),
  );
}

async function withRuntime<T>(rt: CriRuntime, f: (rt: CriRuntime) => Promise<T>): Promise<T> {
  try {
    return await f(rt);
  } finally {
    await rt.stop();
  }
}

runBench('monitor', async () => {
  const env = await criEnv();
  try {
    const cm = await conmon(env.cgroupParent);
    const [ctrShimMem, podShimMem] = await withRuntime(await startContainerd(env), async (rt) => [await ctrShim(rt, env), await podHelper(rt, env)]);
    const { value: ts, missing } = await measureTsrun(async () => withRuntime(await startTsrunCri(env), (rt) => podHelper(rt, env)));
    const MiB = (k: number | undefined): number | undefined => (k === undefined ? undefined : k / 1024);
    const rows: Row[] = [];
    for (const [metric, key] of [
      ['VmRSS', 'rssKiB'],
      ['Pss', 'pssKiB'],
    ] as const) {
      rows.push(row('monitor', `${metric} of the helper of one idle container`, 'MiB', MiB(ts?.[key]), MiB(cm[key]), 'conmon, via podman + runc', missing));
      rows.push(
        row(
          'monitor',
          `${metric} of the helper of one idle container`,
          'MiB',
          MiB(ts?.[key]),
          MiB(ctrShimMem[key]),
          'containerd-shim-runc-v2, ctr run',
          missing,
        ),
      );
      rows.push(
        row(
          'monitor',
          `${metric} of the helper of a pod (pause + 1 idle container)`,
          'MiB',
          MiB(ts?.[key]),
          MiB(podShimMem[key]),
          'containerd-shim-runc-v2, CRI pod',
          missing,
        ),
      );
    }
    removeCgroups(env.cgroupParent);
    return {
      rows,
      extra: { conmon: cm, ctrShim: ctrShimMem, podShim: podShimMem, ...(ts ? { tsrunMonitor: ts } : {}), settleMs: SETTLE_MS, samples: SAMPLES },
      notes: [
        `helpers sampled ${SAMPLES} times after the container idled ${SETTLE_MS / 1000} s; tsrun's figure is tsrun-monitor for a CRI pod with one container (it watches a pod)`,
      ],
    };
  } finally {
    await env.close();
  }
});
