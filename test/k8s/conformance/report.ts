// The suite's Ginkgo JSON report, reduced to one row per spec (what ran, how it ended, why),
// and the summary files a run leaves: summary.json and summary.txt.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RuntimeName } from './config';

export type SpecState = 'passed' | 'failed' | 'skipped' | 'pending' | 'panicked' | 'interrupted' | 'aborted' | 'timedout';

export interface SpecResult {
  name: string;
  state: SpecState;
  seconds: number;
  /** the failure or skip message, first lines */
  message?: string;
}

export interface Summary {
  runtime: RuntimeName;
  runtimeVersion: string;
  kubernetes: string;
  started: string;
  finishedSeconds: number;
  focus: string;
  counts: Record<'passed' | 'failed' | 'skipped', number>;
  specs: SpecResult[];
  /** what the run found left behind after cleanup (must be empty) */
  leftovers: string[];
  /** set when the suite did not get to run its specs */
  error?: string;
}

interface GinkgoSpecReport {
  ContainerHierarchyTexts: string[] | null;
  LeafNodeText: string;
  LeafNodeType: string;
  State: string;
  RunTime: number;
  Failure?: { Message?: string; ForwardedPanic?: string };
}

/** Spec rows from a `--ginkgo.json-report` file: only the It nodes, setup nodes' failures folded into the run error. */
export function specsFromGinkgoReport(file: string): { specs: SpecResult[]; suiteFailures: string[] } {
  const suites = JSON.parse(fs.readFileSync(file, 'utf8')) as { SpecReports: GinkgoSpecReport[] | null }[];
  const specs: SpecResult[] = [];
  const suiteFailures: string[] = [];
  for (const suite of suites) {
    for (const r of suite.SpecReports ?? []) {
      const message = (r.Failure?.Message ?? '').split('\n').slice(0, 6).join('\n').trim() || undefined;
      if (r.LeafNodeType !== 'It') {
        if (r.State !== 'passed' && r.State !== 'skipped') suiteFailures.push(`${r.LeafNodeType}: ${r.State}${message ? `: ${message}` : ''}`);
        continue;
      }
      // Specs the focus left out are reported skipped, with no reason and no run time.
      if (r.State === 'skipped' && !message && !r.RunTime) continue;
      // As ginkgo's own spec text, which focus matches: empty container texts left out.
      const name = [...(r.ContainerHierarchyTexts ?? []), r.LeafNodeText].filter((x) => x !== '').join(' ');
      specs.push({ name, state: r.State as SpecState, seconds: Math.round(r.RunTime / 1e8) / 10, ...(message ? { message } : {}) });
    }
  }
  return { specs, suiteFailures };
}

export function countStates(specs: SpecResult[]): Summary['counts'] {
  const passed = specs.filter((s) => s.state === 'passed').length;
  const skipped = specs.filter((s) => s.state === 'skipped' || s.state === 'pending').length;
  return { passed, failed: specs.length - passed - skipped, skipped };
}

/** summary.json (everything) and summary.txt (a line per spec, failures with their message). */
export function writeSummary(outDir: string, s: Summary): void {
  fs.writeFileSync(path.join(outDir, 'summary.json'), JSON.stringify(s, null, 2) + '\n');
  const lines = [
    `node conformance (e2e_node ${s.kubernetes} [NodeConformance]) on ${s.runtimeVersion}, ${s.started}, ${Math.round(s.finishedSeconds / 60)} min`,
    `${s.counts.passed} passed, ${s.counts.failed} failed, ${s.counts.skipped} skipped, of ${s.specs.length} specs run`,
    ...(s.error ? [`ERROR: ${s.error}`] : []),
    ...(s.leftovers.length ? [`LEFT BEHIND: ${s.leftovers.join('; ')}`] : []),
    '',
    ...[...s.specs]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map(
        (r) =>
          `${r.state.toUpperCase().padEnd(8)} ${String(r.seconds).padStart(6)}s  ${r.name}${r.state !== 'passed' && r.message ? `\n${r.message.replace(/^/gm, '           | ')}` : ''}`,
      ),
  ];
  fs.writeFileSync(path.join(outDir, 'summary.txt'), lines.join('\n') + '\n');
}
