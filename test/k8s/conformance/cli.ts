// scripts/conformance.sh's program: parses its flags, runs the suite (run.ts), prints the summary.
//   --runtime tsrun|containerd   the CRI runtime under test (default tsrun)
//   --full                       every [NodeConformance] spec (the default)
//   --sample                     the CI sample (test/k8s/conformance/sample.txt)
//   --focus REGEX                the specs whose full name matches REGEX (ginkgo focus)
//   --out DIR                    reports (default conformance-results/<runtime>-<time> in the checkout)
import * as path from 'node:path';
import { FULL_FOCUS, focusFor, readSpecList, RUNTIMES, SAMPLE_FILE, type RuntimeName } from './config';
import { runNodeConformance } from './run';

const USAGE = 'usage: scripts/conformance.sh [--runtime tsrun|containerd] [--full|--sample|--focus REGEX] [--out DIR]';

async function main(argv: string[]): Promise<number> {
  let runtime: RuntimeName = 'tsrun';
  let focus = FULL_FOCUS;
  let what = 'full';
  let out: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value\n${USAGE}`);
      return v;
    };
    if (a === '--runtime') {
      const r = value();
      if (!RUNTIMES.includes(r as RuntimeName)) throw new Error(`--runtime ${r}: not one of ${RUNTIMES.join(', ')}\n${USAGE}`);
      runtime = r as RuntimeName;
    } else if (a === '--full') [focus, what] = [FULL_FOCUS, 'full'];
    else if (a === '--sample') [focus, what] = [focusFor(readSpecList(SAMPLE_FILE)), 'sample'];
    else if (a === '--focus') [focus, what] = [value(), 'focus'];
    else if (a === '--out') out = path.resolve(value());
    else if (a === '-h' || a === '--help') {
      process.stdout.write(USAGE + '\n');
      return 0;
    } else throw new Error(`unknown argument ${a}\n${USAGE}`);
  }
  try {
    new RegExp(focus);
  } catch (e) {
    throw new Error(`--focus: ${(e as Error).message}`, { cause: e });
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  const outDir = out ?? path.resolve(__dirname, '..', '..', '..', '..', 'conformance-results', `${runtime}-${what}-${stamp}`);
  process.stdout.write(`node conformance: ${what} run on ${runtime}, reports in ${outDir}\n`);
  const interrupt = new AbortController();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => interrupt.abort());
  const s = await runNodeConformance({ runtime, focus, outDir, progress: (l) => process.stdout.write(l + '\n'), signal: interrupt.signal });
  process.stdout.write(
    `\n${s.runtimeVersion}: ${s.counts.passed} passed, ${s.counts.failed} failed, ${s.counts.skipped} skipped of ${s.specs.length} (${Math.round(s.finishedSeconds / 60)} min)\n`,
  );
  for (const r of s.specs.filter((x) => x.state !== 'passed' && x.state !== 'skipped')) process.stdout.write(`  ${r.state}: ${r.name}\n`);
  if (s.error) process.stdout.write(`error: ${s.error}\n`);
  if (s.leftovers.length) process.stdout.write(`left behind: ${s.leftovers.join('; ')}\n`);
  process.stdout.write(`summary: ${path.join(outDir, 'summary.txt')}\n`);
  return s.error || s.leftovers.length || s.counts.failed ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: Error) => {
    process.stderr.write(`conformance: ${e.message}\n`);
    process.exit(2);
  },
);
