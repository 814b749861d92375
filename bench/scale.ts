// Scale: 10, 25, 50, 100 pods (quick: 5, 10), each with one sleeping container, started one
// after the other and left running. After each pod: how long its start took and what the
// runtime's own processes hold in memory (daemon + per-pod helpers: containerd and its shims,
// or the tsrun cri server and its tsrun-monitors). Plotted into bench/results/scale.png.
//   node dist/bench/scale.js [--quick]
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startContainerd } from './lib/containerd';
import { criEnv, type CriEnv } from './lib/cri-env';
import { haveGnuplot, plotPanels, type Series } from './lib/plot';
import { podSpec, pullImages, startPod, stopPod, verifyPod, type Started } from './lib/pods';
import { sumMem } from './lib/procs';
import { quick, RESULTS, row, runBench, type Row } from './lib/report';
import type { CriRuntime } from './lib/runtime';
import { measureTsrun, startTsrunCri } from './lib/tsrun-cri';

const COUNTS = quick ? [5, 10] : [10, 25, 50, 100];

interface Point {
  /** pods running after this one started */
  pods: number;
  startMs: number;
  daemonRssKiB: number;
  helperRssKiB: number;
  daemonPssKiB: number;
  helperPssKiB: number;
  helpers: number;
}

interface Curve {
  label: string;
  idle: Point;
  points: Point[];
  /** mean time to stop and remove a pod while tearing all of them down */
  teardownMsPerPod: number;
}

function sample(rt: CriRuntime, pods: number, startMs: number): Point {
  const own = rt.processes();
  const d = sumMem(own.daemon);
  const h = sumMem(own.helpers);
  return { pods, startMs, daemonRssKiB: d.rssKiB, helperRssKiB: h.rssKiB, daemonPssKiB: d.pssKiB, helperPssKiB: h.pssKiB, helpers: own.helpers.length };
}

async function curve(rt: CriRuntime, env: CriEnv): Promise<Curve> {
  await pullImages(rt.client, env);
  const logs = path.join(env.dir, 'logs', `scale-${rt.name}`);
  const idle = sample(rt, 0, 0);
  const points: Point[] = [];
  const started: Started[] = [];
  const max = COUNTS[COUNTS.length - 1]!;
  for (let n = 1; n <= max; n++) {
    const s = await startPod(rt.client, podSpec(env, `scale-${rt.name}-${n}`, logs));
    started.push(s);
    if (n === 1) await verifyPod(rt.client, s);
    points.push(sample(rt, n, s.ms.total));
  }
  const { containers } = await rt.client.runtime('ListContainers', { filter: { state: { state: 'CONTAINER_RUNNING' } } });
  if ((containers as unknown[]).length < max) throw new Error(`${rt.label}: ${(containers as unknown[]).length} of ${max} containers running`);
  const t0 = Date.now();
  for (const s of started) await stopPod(rt.client, s);
  return { label: rt.label, idle, points, teardownMsPerPod: (Date.now() - t0) / max };
}

async function withRuntime(env: CriEnv, start: (env: CriEnv) => Promise<CriRuntime>): Promise<Curve> {
  const rt = await start(env);
  try {
    return await curve(rt, env);
  } finally {
    await rt.stop();
  }
}

const MiB = (kib: number): number => kib / 1024;
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const at = (c: Curve, n: number): Point => c.points[n - 1]!;
/** mean start time of the pods that brought the count from the previous checkpoint to n */
const stepMean = (c: Curve, n: number): number => {
  const prev = COUNTS[COUNTS.indexOf(n) - 1] ?? 0;
  return mean(c.points.slice(prev, n).map((p) => p.startMs));
};

/** Writes scale.png; returns a note saying where, or why not. */
function plot(ref: Curve, ts: Curve | undefined, missing: string | undefined): string {
  if (!haveGnuplot()) return 'no plot: gnuplot is not installed (apt-get install gnuplot-nox)';
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-bench-plot-'));
  const out = path.join(RESULTS, 'scale.png');
  const color = { containerd: "'#1f77b4'", tsrun: "'#d62728'" };
  const startSeries = (c: Curve | undefined, name: 'containerd' | 'tsrun'): Series[] =>
    c ? [{ title: c.label, points: c.points.map((p) => [p.pods, p.startMs]), style: `linespoints pt 7 ps 0.5 lw 1.5 lc rgb ${color[name]}` }] : [];
  const memSeries = (c: Curve | undefined, name: 'containerd' | 'tsrun'): Series[] =>
    c
      ? [
          {
            title: `${c.label}: RSS`,
            points: [
              [0, MiB(c.idle.daemonRssKiB + c.idle.helperRssKiB)],
              ...c.points.map((p): [number, number] => [p.pods, MiB(p.daemonRssKiB + p.helperRssKiB)]),
            ],
            style: `lines lw 2 lc rgb ${color[name]}`,
          },
          {
            title: `${c.label}: PSS`,
            points: [
              [0, MiB(c.idle.daemonPssKiB + c.idle.helperPssKiB)],
              ...c.points.map((p): [number, number] => [p.pods, MiB(p.daemonPssKiB + p.helperPssKiB)]),
            ],
            style: `lines lw 2 dt 2 lc rgb ${color[name]}`,
          },
        ]
      : [];
  const label = missing ? `tsrun cri: not available (${missing})` : undefined;
  try {
    fs.mkdirSync(RESULTS, { recursive: true });
    plotPanels(
      out,
      `Pods with one sleeping container, started one at a time (${os.cpus().length} CPUs)`,
      [
        {
          title: 'time to start one pod + container',
          xlabel: 'pods running (including this one)',
          ylabel: 'RunPodSandbox + CreateContainer + StartContainer (ms)',
          series: [...startSeries(ref, 'containerd'), ...startSeries(ts, 'tsrun')],
        },
        {
          title: "memory of the runtime's own processes",
          xlabel: 'pods running',
          ylabel: 'daemon + per-pod helpers (MiB)',
          series: [...memSeries(ref, 'containerd'), ...memSeries(ts, 'tsrun')],
        },
      ],
      work,
      label,
    );
    return `curve: ${path.relative(process.cwd(), out)}`;
  } catch (e) {
    return `no plot: ${(e as Error).message.split('\n').slice(0, 3).join(' ')}`;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

runBench('scale', async () => {
  const env = await criEnv();
  try {
    const ref = await withRuntime(env, startContainerd);
    const { value: ts, missing } = await measureTsrun(() => withRuntime(env, startTsrunCri));
    const rows: Row[] = [];
    for (const n of COUNTS) {
      rows.push(
        row(
          'scale',
          `start per pod, pods ${(COUNTS[COUNTS.indexOf(n) - 1] ?? 0) + 1}-${n} (mean)`,
          'ms',
          ts && stepMean(ts, n),
          stepMean(ref, n),
          ref.label,
          missing,
        ),
      );
    }
    for (const n of COUNTS) {
      const mem = (c: Curve | undefined): number | undefined => c && MiB(at(c, n).daemonRssKiB + at(c, n).helperRssKiB);
      rows.push(row('scale', `runtime RSS with ${n} pods`, 'MiB', mem(ts), mem(ref), `${ref.label} + shims`, missing));
    }
    const n = COUNTS[COUNTS.length - 1]!;
    const pss = (c: Curve | undefined): number | undefined => c && MiB(at(c, n).daemonPssKiB + at(c, n).helperPssKiB);
    rows.push(row('scale', `runtime PSS with ${n} pods`, 'MiB', pss(ts), pss(ref), `${ref.label} + shims`, missing));
    const perPod = (c: Curve | undefined): number | undefined =>
      c && at(c, n).helpers > 0 ? MiB((at(c, n).helperRssKiB - c.idle.helperRssKiB) / n) : undefined;
    const noHelpers = ts && at(ts, n).helpers === 0 ? 'no tsrun-monitor processes found' : undefined;
    rows.push(row('scale', `helper RSS per pod (${n} pods)`, 'MiB', perPod(ts), perPod(ref), 'containerd-shim-runc-v2', missing ?? noHelpers));
    rows.push(row('scale', `stop+remove per pod, ${n} pods running`, 'ms', ts?.teardownMsPerPod, ref.teardownMsPerPod, ref.label, missing));
    const plotted = plot(ref, ts, missing);
    return {
      rows,
      extra: { counts: COUNTS, curves: { containerd: ref, ...(ts ? { tsrun: ts } : {}) } },
      notes: [plotted, `helpers at ${n} pods: containerd ${at(ref, n).helpers} shims${ts ? `, tsrun ${at(ts, n).helpers} monitors` : ''}`],
    };
  } finally {
    await env.close();
  }
});
