// CLI lifecycle benchmarks: tsrun beside runc and crun (Debian's) and bare `node -e 0` (the
// floor under any Node CLI), measured in one run by the same harness, reported as ratios.
// crun refuses this hybrid-cgroup host unless the cgroup2 mount is hidden, so every tool runs
// inside one private mount namespace with a tmpfs over /sys/fs/cgroup/unified.
//   node dist/bench/cli.js [--quick] [--runs N]
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { busyboxRootfs } from '../test/fixtures/busybox';
import { defaultSpec } from '../src/oci/default-spec';

const ROOT = path.resolve(__dirname, '..', '..');
const TSRUN = path.join(ROOT, 'bin', 'tsrun');
const quick = process.argv.includes('--quick');
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : quick ? 5 : 30;

function bundle(args: string[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-bench-'));
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

/** A shell loop timing `body` RUNS times (after one warm-up) inside the private namespace. */
function timeLoop(setup: string, body: string, teardown: string): number[] {
  const script = `
set -e
mount -t tmpfs none /sys/fs/cgroup/unified 2>/dev/null || true
${setup}
i=-1
while [ $i -lt ${RUNS} ]; do
  s=$(date +%s%N); ${body}; e=$(date +%s%N)
  [ $i -ge 0 ] && echo $((e - s))
  i=$((i + 1))
done
${teardown}`;
  const out = execFileSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 });
  return out.trim().split('\n').filter(Boolean).map((ns) => Number(ns) / 1e6);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p95 = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.95))]!;

interface Row {
  bench: string;
  tool: string;
  median: number;
  p95: number;
}
const rows: Row[] = [];
function record(bench: string, tool: string, ms: number[]): void {
  rows.push({ bench, tool, median: median(ms), p95: p95(ms) });
}

const root = (t: Tool): string => `--root /run/tsrun-bench-${t.name}`;

record('node -e 0', 'node', timeLoop('', 'node -e 0', ''));
const trueBundle = bundle(['true']);
for (const t of TOOLS) record('run true', t.name, timeLoop(`cd ${trueBundle}`, `${t.bin} ${root(t)} run -b ${trueBundle} b-$i > /dev/null`, ''));
for (const t of TOOLS)
  record('create+start+delete', t.name, timeLoop('', `${t.bin} ${root(t)} create -b ${trueBundle} c-$i; ${t.bin} ${root(t)} start c-$i; while [ "$(${t.bin} ${root(t)} state c-$i | grep -c stopped)" = 0 ]; do :; done; ${t.bin} ${root(t)} delete c-$i`, ''));
const sleepBundle = bundle(['sleep', '1000']);
for (const t of TOOLS)
  record(
    'exec true',
    t.name,
    timeLoop(`${t.bin} ${root(t)} run -d -b ${sleepBundle} x-bench > /dev/null 2>&1 < /dev/null`, `${t.bin} ${root(t)} exec x-bench true`, `${t.bin} ${root(t)} delete -f x-bench`),
  );

// Report: ratio to runc for each bench, and tsrun's overhead above node's floor.
const runcOf = (b: string): number | undefined => rows.find((r) => r.bench === b && r.tool === 'runc')?.median;
const nodeFloor = rows.find((r) => r.tool === 'node')!.median;
const lines = ['| bench | tool | median ms | p95 ms | ratio to runc |', '|---|---|---|---|---|'];
for (const r of rows) {
  const base = runcOf(r.bench);
  lines.push(`| ${r.bench} | ${r.tool} | ${r.median.toFixed(1)} | ${r.p95.toFixed(1)} | ${base ? (r.median / base).toFixed(2) : ''} |`);
}
const tsrunRun = rows.find((r) => r.bench === 'run true' && r.tool === 'tsrun');
const runcRun = runcOf('run true');
const summary = tsrunRun && runcRun ? `tsrun run above the node floor: ${(tsrunRun.median - nodeFloor).toFixed(1)} ms, ${((tsrunRun.median - nodeFloor) / runcRun).toFixed(2)}x runc's whole run` : '';
const outDir = path.join(ROOT, 'bench', 'results');
fs.mkdirSync(outDir, { recursive: true });
const meta = { date: new Date().toISOString(), host: os.hostname(), cpus: os.cpus().length, kernel: os.release(), runs: RUNS };
fs.writeFileSync(path.join(outDir, 'cli.json'), JSON.stringify({ meta, rows }, null, 2));
const md = `${lines.join('\n')}\n\n${summary}\n\n(${meta.date}, ${meta.cpus} cpus, kernel ${meta.kernel}, ${RUNS} runs each)\n`;
fs.writeFileSync(path.join(outDir, 'cli.md'), md);
process.stdout.write(md);
