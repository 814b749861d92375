// CLI lifecycle benchmarks: tsrun beside runc and crun (Debian's) and bare `node -e 0` (the
// floor under any Node CLI), measured in one run by the same harness, reported as ratios.
// crun refuses this hybrid-cgroup host unless the cgroup2 mount is hidden, so every tool runs
// inside one private mount namespace with a tmpfs over /sys/fs/cgroup/unified.
// Also what --explain costs: `tsrun run` narrated (text and JSON) against plain, and with
// --explain off, what the event calls in a run cost when nobody listens.
//   node dist/bench/cli.js [--quick] [--runs N]
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { emit } from '../src/events/bus';
import { defaultSpec } from '../src/oci/default-spec';
import { busyboxRootfs } from '../test/fixtures/busybox';
import { p50, p95, quick, ROOT, row, runBench, type Row } from './lib/report';

const TSRUN = path.join(ROOT, 'bin', 'tsrun');
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : quick ? 5 : 30;
// The --explain rows compare runs of one binary, a small difference: more turns even when quick.
const EXPLAIN_RUNS = Math.max(RUNS, 15);
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-bench-cli-'));

function bundle(name: string, args: string[]): string {
  const dir = path.join(work, name);
  fs.mkdirSync(dir);
  const c = defaultSpec();
  c.ociVersion = '1.0.2'; // crun 1.8 refuses newer versions
  c.root = { path: busyboxRootfs(), readonly: true };
  c.process!.terminal = false;
  c.process!.args = args;
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(c));
  return dir;
}

interface Tool {
  name: string;
  bin: string;
}
const TOOLS: Tool[] = [
  { name: 'tsrun', bin: TSRUN },
  { name: 'runc', bin: 'runc' },
  { name: 'crun', bin: 'crun' },
].filter((t) => spawnSync('sh', ['-c', `command -v ${t.bin}`]).status === 0);

/**
 * A shell loop timing each of `bodies` RUNS times (after one warm-up) inside the private
 * namespace. The bodies take turns in each iteration, so load from elsewhere on the machine
 * falls on all of them alike and their ratios stay fair.
 */
function timeLoop(setup: string, bodies: string[], teardown: string, runs = RUNS): number[][] {
  const timed = bodies.map((b, k) => `  s=$(date +%s%N); ${b}; e=$(date +%s%N); [ $i -ge 0 ] && echo "${k} $((e - s))"`).join('\n');
  const script = `
set -e
mount -t tmpfs none /sys/fs/cgroup/unified 2>/dev/null || true
${setup}
i=-1
while [ $i -lt ${runs} ]; do
${timed}
  i=$((i + 1))
done
${teardown}`;
  const out = execFileSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 24,
  });
  const res: number[][] = bodies.map(() => []);
  for (const line of out.trim().split('\n').filter(Boolean)) {
    const [k, ns] = line.split(' ');
    res[Number(k)]!.push(Number(ns) / 1e6);
  }
  return res;
}

const root = (t: Tool): string => `--root ${work}/state-${t.name}`;

const VERBS = ['state', 'start', 'kill', 'delete'] as const;

/**
 * The verbs containerd's shim and podman call one by one, each timed alone: per turn and tool,
 * create (untimed), state of the created container, start, kill -9, wait until stopped
 * (untimed), delete. Tools take turns as in timeLoop.
 */
function verbLoop(bundleDir: string, runs = RUNS): Record<(typeof VERBS)[number], number[][]> {
  const timed = (verb: string, k: number, cmd: string): string =>
    `  s=$(date +%s%N); ${cmd} > /dev/null; e=$(date +%s%N); [ $i -ge 0 ] && echo "${verb} ${k} $((e - s))"`;
  const turns = TOOLS.map((t, k) => {
    const c = `${t.bin} ${root(t)}`;
    const id = `${t.name}-v-$((i + 1))`;
    return [
      `  ${c} create -b ${bundleDir} ${id} < /dev/null > /dev/null 2>&1`,
      timed('state', k, `${c} state ${id}`),
      timed('start', k, `${c} start ${id}`),
      timed('kill', k, `${c} kill ${id} KILL`),
      `  while [ "$(${c} state ${id} | grep -c stopped)" = 0 ]; do :; done`,
      timed('delete', k, `${c} delete ${id}`),
    ].join('\n');
  });
  const script = `
set -e
mount -t tmpfs none /sys/fs/cgroup/unified 2>/dev/null || true
i=-1
while [ $i -lt ${runs} ]; do
${turns.join('\n')}
  i=$((i + 1))
done`;
  const out = execFileSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 24,
  });
  const res = Object.fromEntries(VERBS.map((v) => [v, TOOLS.map(() => [] as number[])])) as Record<(typeof VERBS)[number], number[][]>;
  for (const line of out.trim().split('\n').filter(Boolean)) {
    const [verb, k, ns] = line.split(' ');
    res[verb as (typeof VERBS)[number]][Number(k)]!.push(Number(ns) / 1e6);
  }
  return res;
}

/** ns per emit() call with no sink, as every event in a run without --explain costs. */
function emitNsWithoutSinks(): number {
  const N = 2_000_000;
  for (let i = 0; i < 10_000; i++) emit('mount', 'warm-up');
  const t = process.hrtime.bigint();
  for (let i = 0; i < N; i++) emit('mount', '/proc');
  return Number(process.hrtime.bigint() - t) / N;
}

runBench('cli', async () => {
  const samples: Record<string, Record<string, number[]>> = {};
  const measure = (bench: string, tool: string, ms: number[]): void => void ((samples[bench] ??= {})[tool] = ms);
  try {
    const trueBundle = bundle('true', ['true']);
    const sleepBundle = bundle('sleep', ['sleep', '1000']);
    const perTool = (bench: string, times: number[][]): void => TOOLS.forEach((t, k) => measure(bench, t.name, times[k]!));
    const [nodeFloor] = timeLoop('', ['node -e 0'], '');
    measure('node -e 0', 'node', nodeFloor!);
    perTool(
      'run true',
      timeLoop(
        `cd ${trueBundle}`,
        TOOLS.map((t) => `${t.bin} ${root(t)} run -b ${trueBundle} ${t.name}-b-$i > /dev/null`),
        '',
      ),
    );
    perTool(
      'create+start+delete',
      timeLoop(
        '',
        TOOLS.map(
          (t) =>
            `${t.bin} ${root(t)} create -b ${trueBundle} ${t.name}-c-$i; ${t.bin} ${root(t)} start ${t.name}-c-$i; while [ "$(${t.bin} ${root(t)} state ${t.name}-c-$i | grep -c stopped)" = 0 ]; do :; done; ${t.bin} ${root(t)} delete ${t.name}-c-$i`,
        ),
        '',
      ),
    );
    const verbs = verbLoop(sleepBundle);
    for (const v of VERBS) perTool(v, verbs[v]);
    perTool(
      'exec true',
      timeLoop(
        TOOLS.map((t) => `${t.bin} ${root(t)} run -d -b ${sleepBundle} x-bench-${t.name} > /dev/null 2>&1 < /dev/null`).join('\n'),
        TOOLS.map((t) => `${t.bin} ${root(t)} exec x-bench-${t.name} true`),
        TOOLS.map((t) => `${t.bin} ${root(t)} delete -f x-bench-${t.name}`).join('\n'),
      ),
    );
    // --explain: narration to a file (as a reader's terminal or a redirect would take it),
    // taking turns with plain runs.
    const ts = TOOLS[0]!;
    const narration = path.join(work, 'narration');
    const [plainRuns, textRuns, jsonRuns] = timeLoop(
      '',
      [
        `${ts.bin} ${root(ts)} run -b ${trueBundle} p-$i > /dev/null`,
        `${ts.bin} ${root(ts)} run --explain -b ${trueBundle} e-$i > /dev/null 2> ${narration}`,
        `${ts.bin} ${root(ts)} run --explain=json -b ${trueBundle} j-$i > /dev/null 2> ${narration}`,
      ],
      '',
      EXPLAIN_RUNS,
    );
    measure('explain', 'plain', plainRuns!);
    measure('explain', 'text', textRuns!);
    measure('explain', 'json', jsonRuns!);
    const events = fs.readFileSync(narration, 'utf8').split('\n').filter(Boolean).length;
    const emitNs = emitNsWithoutSinks();

    const rows: Row[] = [];
    const m = (bench: string, tool: string): number[] | undefined => samples[bench]?.[tool];
    for (const bench of ['run true', 'create+start+delete', 'exec true', ...VERBS]) {
      for (const ref of ['runc', 'crun']) {
        const r = m(bench, ref);
        if (!r) continue;
        rows.push(row('cli', `${bench} p50`, 'ms', m(bench, 'tsrun') && p50(m(bench, 'tsrun')!), p50(r), ref));
        if (bench === 'run true') rows.push(row('cli', `${bench} p95`, 'ms', m(bench, 'tsrun') && p95(m(bench, 'tsrun')!), p95(r), ref));
      }
    }
    const floor = p50(m('node -e 0', 'node')!);
    const plain = p50(m('run true', 'tsrun')!);
    if (m('run true', 'runc'))
      rows.push(row('cli', 'run true above the `node -e 0` floor', 'ms', plain - floor, p50(m('run true', 'runc')!), 'runc, whole run'));
    const plainTurns = p50(m('explain', 'plain')!);
    rows.push(row('cli', 'run true --explain (narrated)', 'ms', p50(m('explain', 'text')!), plainTurns, 'tsrun run, no --explain'));
    rows.push(row('cli', 'run true --explain=json', 'ms', p50(m('explain', 'json')!), plainTurns, 'tsrun run, no --explain'));
    rows.push(row('cli', `--explain off: ${events} event calls with no sink`, 'us', (events * emitNs) / 1000, plainTurns * 1000, 'tsrun run, no --explain'));
    return {
      rows,
      extra: { runs: RUNS, samples, events, emitNsWithoutSinks: emitNs, nodeFloorMs: floor },
      notes: [
        `node -e 0 (the floor under any Node CLI): ${floor.toFixed(1)} ms; ${RUNS} runs of each (--explain rows: ${EXPLAIN_RUNS}) after one warm-up, tools taking turns, in a private mount namespace with the cgroup2 mount hidden (for crun)`,
        `--explain off: a run emits ${events} events; with no sink each emit() returns after one length check (${emitNs.toFixed(1)} ns measured here; the call sites' argument strings are not counted), and the native init sends no EVENT frames`,
      ],
    };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
});
