// npm run fuzz [-- --seconds N] [--only a,b] [--corpus DIR]
// Coverage-guided fuzzing of what tsrun reads from others: Jazzer.js (libFuzzer inside Node) over
// config.json, registry documents, layer tars, CRI requests and the runtime's end of the sync
// socket; libFuzzer with ASan and UBSan (Debian's clang) over the init's plan decoder and sync
// framing. Each target runs for N seconds (default 30) from seeds generated out of the tests' own
// inputs (fuzz/seeds.ts) plus fuzz/regressions/ (inputs that once failed), inside a sandbox where
// only its scratch tmpfs, corpus and artifacts are writable (fuzz/sandbox.sh). A crash (an
// exception no refusal explains), a hang (one input past 10 s), an out-of-memory or an escape
// from the scratch dir fails the run and keeps the input under fuzz/out/artifacts/.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { jazzerEnv } from './jazzer-compat';
import { SEEDS } from './seeds';

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = path.join(ROOT, 'fuzz', 'out', 'bin');
/** Corpora, failing inputs and results: kept across builds (node-gyp rebuild empties build/), never committed. */
const OUT = path.join(ROOT, 'fuzz', 'out');

interface Target {
  name: string;
  /** a Jazzer.js module under dist/fuzz/targets, or a libFuzzer binary under fuzz/out/bin */
  kind: 'jazzer' | 'native';
  file: string;
  sync?: boolean;
  maxLen?: number;
  jazzerArgs?: string[];
}

const TARGETS: Target[] = [
  // A bind mount's source is a host path the config's author chooses (runc resolves '..' in it
  // too): Jazzer's path-traversal detector would take that for an attack.
  { name: 'oci-config', kind: 'jazzer', file: 'oci-config', sync: true, maxLen: 16384, jazzerArgs: ['--disable_bug_detectors=path-traversal'] },
  { name: 'image-documents', kind: 'jazzer', file: 'image-documents', sync: true, maxLen: 8192 },
  { name: 'layer-unpack', kind: 'jazzer', file: 'layer-unpack', maxLen: 65536 },
  // Host paths are the kubelet's to choose and are moved under the scratch dir by the target:
  // Jazzer's path-traversal detector would take that for an attack.
  { name: 'cri-specgen', kind: 'jazzer', file: 'cri-specgen', sync: true, maxLen: 8192, jazzerArgs: ['--disable_bug_detectors=path-traversal'] },
  { name: 'sync-frames', kind: 'jazzer', file: 'sync-frames', maxLen: 16384 },
  { name: 'native-plan', kind: 'native', file: 'plan_fuzzer', maxLen: 16384 },
  { name: 'native-sync', kind: 'native', file: 'sync_fuzzer', maxLen: 16384 },
];

interface Outcome {
  target: string;
  ok: boolean;
  seconds: number;
  execs: number;
  corpus: number;
  problem?: string;
  artifact?: string;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** Seeds and regression inputs into the target's corpus dir, named by content. */
async function prepareCorpus(t: Target, dir: string): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  const put = (b: Buffer, prefix: string): void => fs.writeFileSync(path.join(dir, `${prefix}-${createHash('sha1').update(b).digest('hex')}`), b);
  for (const b of await SEEDS[t.name]!()) put(b, 'seed');
  const reg = path.join(ROOT, 'fuzz', 'regressions', t.name);
  if (fs.existsSync(reg)) for (const f of fs.readdirSync(reg)) put(fs.readFileSync(path.join(reg, f)), 'regression');
}

function command(t: Target, corpus: string, artifacts: string, seconds: number): { cmd: string; args: string[]; env: NodeJS.ProcessEnv } {
  const lf = [`-max_total_time=${seconds}`, '-timeout=10', '-rss_limit_mb=2048', `-artifact_prefix=${artifacts}/`, '-print_final_stats=1', ...(t.maxLen ? [`-max_len=${t.maxLen}`] : [])];
  if (t.kind === 'native') return { cmd: path.join(BIN, t.file), args: [corpus, ...lf], env: {} };
  const cli = path.join(ROOT, 'node_modules', '@jazzer.js', 'core', 'dist', 'cli.js');
  const target = path.join(ROOT, 'dist', 'fuzz', 'targets', `${t.file}.js`);
  const args = [cli, target, corpus, ...(t.sync ? ['--sync'] : []), ...(t.jazzerArgs ?? []), '-i', 'dist/src/', '-i', 'dist/specs/', '--timeout=10000', '--', ...lf];
  return { cmd: process.execPath, args, env: jazzerEnv(ROOT) };
}

function stat(out: string, name: string): number {
  const m = new RegExp(`stat::${name}:\\s+(\\d+)`).exec(out);
  return m ? Number(m[1]) : 0;
}

async function runTarget(t: Target, seconds: number, corpusRoot: string): Promise<Outcome> {
  const corpus = path.join(corpusRoot, t.name);
  const artifacts = path.join(OUT, 'artifacts', t.name);
  fs.mkdirSync(artifacts, { recursive: true });
  await prepareCorpus(t, corpus);
  const scratch = fs.mkdtempSync(path.join('/run', 'tsrun-fuzz-'));
  const { cmd, args, env } = command(t, corpus, artifacts, seconds);
  const t0 = Date.now();
  let out = '';
  const code = await new Promise<number | string>((resolve) => {
    const p = spawn('unshare', ['--mount', '--propagation', 'private', '--', path.join(ROOT, 'fuzz', 'sandbox.sh'), scratch, `${corpus}:${artifacts}`, '--', cmd, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const take = (d: Buffer): void => {
      out += d.toString();
      if (out.length > 1 << 20) out = out.slice(-(1 << 19));
    };
    p.stdout.on('data', take);
    p.stderr.on('data', take);
    // The whole run overstaying its time by two minutes is a hang libFuzzer did not catch.
    const guard = setTimeout(() => process.kill(-p.pid!, 'SIGKILL'), (seconds + 120) * 1000);
    p.on('close', (c, sig) => {
      clearTimeout(guard);
      resolve(sig ?? c ?? -1);
    });
  });
  fs.rmSync(scratch, { recursive: true, force: true });
  const o: Outcome = { target: t.name, ok: code === 0, seconds: (Date.now() - t0) / 1000, execs: stat(out, 'number_of_executed_units'), corpus: fs.readdirSync(corpus).length };
  if (!o.ok) {
    const artifact = /Test unit written to (\S+)/.exec(out)?.[1];
    o.artifact = artifact;
    o.problem = code === 'SIGKILL' ? `no end ${seconds + 120} s after it started (a hang)` : `exit ${code}`;
    fs.writeFileSync(path.join(artifacts, 'last-failure.log'), out);
    process.stdout.write(out.split('\n').slice(-60).join('\n') + '\n');
  }
  return o;
}

async function main(): Promise<number> {
  const seconds = Number(arg('--seconds') ?? 30);
  const only = arg('--only')?.split(',');
  const corpusRoot = path.resolve(arg('--corpus') ?? path.join(OUT, 'corpus'));
  const unknown = (only ?? []).filter((n) => !TARGETS.some((t) => t.name === n));
  if (unknown.length || !(seconds > 0)) {
    process.stderr.write(`usage: npm run fuzz [-- --seconds N] [--only ${TARGETS.map((t) => t.name).join(',')}] [--corpus DIR]\n`);
    return 2;
  }
  if (!fs.existsSync(path.join(ROOT, 'build', 'Release', 'tsrun_native.node'))) {
    process.stderr.write('fuzz: the native addon is not built: npm run build first\n');
    return 2;
  }
  const built = spawnSync('bash', [path.join(ROOT, 'scripts', 'build-fuzzers.sh')], { stdio: 'inherit' });
  if (built.status !== 0) return 1;
  const results: Outcome[] = [];
  for (const t of TARGETS.filter((x) => !only || only.includes(x.name))) {
    process.stdout.write(`## ${t.name} (${seconds} s)\n`);
    const o = await runTarget(t, seconds, corpusRoot);
    results.push(o);
    // Marked as ava marks a test, so scripts/test.sh counts the targets with the tests.
    process.stdout.write(`  ${o.ok ? '✔' : '✘'} fuzz › ${t.name}: ${o.execs} inputs in ${o.seconds.toFixed(0)} s, corpus ${o.corpus}${o.ok ? '' : `: ${o.problem}${o.artifact ? `, input kept in ${o.artifact}` : ''}`}\n`);
  }
  fs.writeFileSync(path.join(OUT, 'results.json'), JSON.stringify({ date: new Date().toISOString(), seconds, results }, null, 1));
  const failed = results.filter((r) => !r.ok);
  process.stdout.write(`\nfuzz: ${results.length - failed.length} of ${results.length} targets ran clean (${results.reduce((a, r) => a + r.execs, 0)} inputs)\n`);
  return failed.length ? 1 : 0;
}

main().then(
  (c) => process.exit(c),
  (e) => {
    process.stderr.write(`fuzz: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  },
);
