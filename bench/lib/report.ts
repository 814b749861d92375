// One shape for every benchmark's result: a row names what was measured and holds tsrun's
// figure beside the reference tool's, measured in the same run, with their ratio. Each bench
// writes its rows as a part file; bench/index.ts merges the parts into the dated JSON, the
// Markdown table and the README section.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const RESULTS = path.join(ROOT, 'bench', 'results');
export const PARTS = path.join(RESULTS, 'parts');

/** 'count': a number of things (fds, mounts), printed bare. */
export type Unit = 'ms' | 'us' | 'MiB' | 'KiB' | 'count';

export interface Row {
  /** which benchmark file produced it: cli, image, cri, scale, monitor */
  group: string;
  /** what was measured, e.g. "RunPodSandbox p50" */
  name: string;
  unit: Unit;
  /** null when tsrun could not be measured (then `note` says why) */
  tsrun: number | null;
  reference: number | null;
  /** the reference tool, e.g. "containerd 1.6.20 CRI", "runc", "conmon" */
  refTool: string;
  /** tsrun / reference; below 1 means tsrun is faster or smaller */
  ratio: number | null;
  note?: string;
}

export interface Part {
  group: string;
  rows: Row[];
  /** anything a bench wants kept beside its rows (raw samples, the scale curve) */
  extra?: unknown;
  notes?: string[];
  seconds: number;
}

export function row(
  group: string,
  name: string,
  unit: Unit,
  tsrun: number | null | undefined,
  reference: number | null | undefined,
  refTool: string,
  note?: string,
): Row {
  const t = tsrun ?? null;
  const r = reference ?? null;
  return { group, name, unit, tsrun: t, reference: r, refTool, ratio: t !== null && r !== null && r !== 0 ? t / r : null, ...(note ? { note } : {}) };
}

export function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}
export const p50 = (xs: number[]): number => quantile(xs, 0.5);
export const p95 = (xs: number[]): number => quantile(xs, 0.95);

export const quick = process.argv.includes('--quick');

export type BenchResult = Omit<Part, 'group' | 'seconds'>;

/** A bench's main(): times it, writes its part file, prints its rows; exit 1 on a crash. */
export function runBench(group: string, body: () => Promise<BenchResult>): void {
  const t0 = Date.now();
  body().then(
    (p) => {
      const part: Part = { group, seconds: (Date.now() - t0) / 1000, ...p };
      fs.mkdirSync(PARTS, { recursive: true });
      fs.writeFileSync(path.join(PARTS, `${group}.json`), JSON.stringify(part, null, 2));
      process.stdout.write(`${markdownTable(part.rows)}\n${(part.notes ?? []).map((n) => `- ${n}\n`).join('')}(${group}: ${part.seconds.toFixed(0)} s)\n\n`);
      process.exit(0);
    },
    (e) => {
      console.error(`bench ${group} failed:`, e);
      process.exit(1);
    },
  );
}

function fmt(v: number | null, unit: Unit): string {
  if (v === null) return 'n/a';
  if (unit === 'count') return String(v);
  const digits = Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2;
  return `${v.toFixed(digits)} ${unit}`;
}

function fmtRatio(r: number | null): string {
  if (r === null) return '';
  return r !== 0 && Math.abs(r) < 0.01 ? r.toExponential(1) : r.toFixed(2);
}

/** The rows as a Markdown table; why a figure is missing is said once, below the table. */
export function markdownTable(rows: Row[]): string {
  const notes: string[] = [];
  const lines = ['| benchmark | tsrun | reference | ratio |', '|---|---:|---:|---:|'];
  for (const r of rows) {
    let ts = fmt(r.tsrun, r.unit);
    if (r.tsrun === null && r.note) {
      if (!notes.includes(r.note)) notes.push(r.note);
      ts = `n/a [${notes.indexOf(r.note) + 1}]`;
    }
    lines.push(`| ${r.group}: ${r.name} | ${ts} | ${fmt(r.reference, r.unit)} (${r.refTool}) | ${fmtRatio(r.ratio)} |`);
  }
  return [...lines, ...(notes.length ? ['', ...notes.map((n, i) => `[${i + 1}] ${n}  `)] : [])].join('\n') + '\n';
}

function cgroupMode(): string {
  const t = (p: string): string => {
    try {
      return execFileSync('stat', ['-f', '-c', '%T', p], { encoding: 'utf8' }).trim();
    } catch {
      return '';
    }
  };
  if (t('/sys/fs/cgroup') === 'cgroup2fs') return 'v2';
  return t('/sys/fs/cgroup/unified') === 'cgroup2fs' ? 'hybrid (v1 controllers + controller-less v2)' : 'v1';
}

function version(cmd: string, args: string[], re: RegExp): string | undefined {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).match(re)?.[1];
  } catch {
    return undefined;
  }
}

export interface Machine {
  nproc: number;
  cpu: string;
  memoryGiB: number;
  kernel: string;
  cgroups: string;
  node: string;
  tools: Record<string, string | undefined>;
}

export function machine(): Machine {
  return {
    nproc: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    kernel: os.release(),
    cgroups: cgroupMode(),
    node: process.version,
    tools: {
      runc: version('runc', ['--version'], /runc version (\S+)/),
      crun: version('crun', ['--version'], /crun version (\S+)/),
      containerd: version('containerd', ['--version'], /containerd \S+ (\S+)/),
      conmon: version('conmon', ['--version'], /conmon version (\S+)/),
      podman: version('podman', ['--version'], /podman version (\S+)/),
    },
  };
}

export function machineLine(m: Machine): string {
  return `${m.nproc} CPUs (${m.cpu}), ${m.memoryGiB} GiB, kernel ${m.kernel}, cgroups ${m.cgroups}, node ${m.node}`;
}

/** What bench/index.ts writes to bench/results/<date>.json and latest.json. */
export interface Results {
  date: string;
  quick: boolean;
  machine: Machine;
  rows: Row[];
  benches: Record<string, Omit<Part, 'rows'> | { failed: true; seconds: number }>;
  seconds: number;
}
