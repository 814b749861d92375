// CRI latency: p50/p95 of each call kubelet makes to start and stop a pod with one container,
// over N iterations, against containerd's CRI plugin and `tsrun cri` through the same gRPC
// client, with the same CNI config and the same images from a local registry.
//   node dist/bench/cri.js [--quick] [--runs N]
import * as path from 'node:path';
import { startContainerd } from './lib/containerd';
import { criEnv, type CriEnv } from './lib/cri-env';
import { podSpec, pullImages, verifyPod, startPod, stopPod, timed, type Started, type Stopped } from './lib/pods';
import { p50, p95, quick, row, runBench, type Row } from './lib/report';
import type { CriRuntime } from './lib/runtime';
import { startTsrunCri, tsrunCriMissing, tsrunFailure } from './lib/tsrun-cri';

const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : quick ? 5 : 30;

const START_OPS = ['RunPodSandbox', 'CreateContainer', 'StartContainer', 'total'] as const;
const STOP_OPS = ['StopContainer', 'RemoveContainer', 'StopPodSandbox', 'RemovePodSandbox', 'total'] as const;

interface Samples {
  label: string;
  /** the warm-up pod's address, as proof CNI ran */
  ip?: string;
  pull: number;
  start: Record<(typeof START_OPS)[number], number[]>;
  stop: Record<(typeof STOP_OPS)[number], number[]>;
  /** ExecSync of a one-line command in the running container: what a kubelet exec probe costs */
  execSync: number[];
}

function samples(label: string, pull: number): Samples {
  return {
    label,
    pull,
    start: { RunPodSandbox: [], CreateContainer: [], StartContainer: [], total: [] },
    stop: { StopContainer: [], RemoveContainer: [], StopPodSandbox: [], RemovePodSandbox: [], total: [] },
    execSync: [],
  };
}

/** One pod through its life; iteration -1 is the warm-up (checked, not recorded). */
async function iteration(rt: CriRuntime, env: CriEnv, s: Samples, i: number): Promise<void> {
  const started: Started = await startPod(rt.client, podSpec(env, `lat-${rt.name}-${i + 1}`, path.join(env.dir, 'logs', rt.name)));
  if (i < 0) s.ip = await verifyPod(rt.client, started);
  const [ex, execMs] = await timed(() => rt.client.runtime('ExecSync', { container_id: started.containerId, cmd: ['echo', 'probe'], timeout: 10 }));
  if (Buffer.from(ex['stdout'] as Uint8Array).toString() !== 'probe\n')
    throw new Error(`${rt.name}: ExecSync printed ${JSON.stringify(Buffer.from(ex['stdout'] as Uint8Array).toString())}`);
  const stopped: Stopped = await stopPod(rt.client, started);
  if (i < 0) return;
  s.execSync.push(execMs);
  for (const op of START_OPS) s.start[op].push(started.ms[op]);
  for (const op of STOP_OPS) s.stop[op].push(stopped[op]);
}

runBench('cri', async () => {
  const env = await criEnv();
  try {
    // Both runtimes up at once, their pods taking turns: load from elsewhere on the machine
    // falls on both alike.
    let missing = tsrunCriMissing();
    const refRt = await startContainerd(env);
    let tsRt: CriRuntime | undefined;
    let ref: Samples;
    let ts: Samples | undefined;
    try {
      ref = samples(refRt.label, await pullImages(refRt.client, env));
      if (!missing) {
        try {
          tsRt = await startTsrunCri(env);
          ts = samples(tsRt.label, await pullImages(tsRt.client, env));
        } catch (e) {
          missing = tsrunFailure(e);
        }
      }
      for (let i = -1; i < RUNS; i++) {
        await iteration(refRt, env, ref, i);
        if (tsRt && !missing) await iteration(tsRt, env, ts!, i).catch((e) => void (missing = tsrunFailure(e)));
      }
    } finally {
      await refRt.stop();
      await tsRt?.stop().catch(tsrunFailure);
    }
    if (missing) ts = undefined;
    const rows: Row[] = [];
    const add = (name: string, t: number[] | undefined, r: number[], q: (xs: number[]) => number): void =>
      void rows.push(row('cri', name, 'ms', t && q(t), q(r), ref.label, missing));
    for (const op of START_OPS) {
      const name = op === 'total' ? 'pod+container start' : op;
      add(`${name} p50`, ts?.start[op], ref.start[op], p50);
      add(`${name} p95`, ts?.start[op], ref.start[op], p95);
    }
    for (const op of STOP_OPS) {
      const name = op === 'total' ? 'pod+container stop+remove' : op;
      add(`${name} p50`, ts?.stop[op], ref.stop[op], p50);
      if (op === 'total' || op === 'StopContainer' || op === 'RemovePodSandbox') add(`${name} p95`, ts?.stop[op], ref.stop[op], p95);
    }
    add('ExecSync p50', ts?.execSync, ref.execSync, p50);
    add('ExecSync p95', ts?.execSync, ref.execSync, p95);
    rows.push(row('cri', 'PullImage busybox (cold, 1 run)', 'ms', ts?.pull, ref.pull, ref.label, missing));
    return {
      rows,
      extra: { runs: RUNS, samples: { containerd: ref, ...(ts ? { tsrun: ts } : {}) } },
      notes: [
        `${RUNS} pods per runtime after one warm-up, one at a time, the runtimes taking turns: RunPodSandbox (CNI bridge + host-local + portmap), a busybox container that exits on SIGTERM, StopContainer with a 10 s grace period`,
      ],
    };
  } finally {
    await env.close();
  }
});
