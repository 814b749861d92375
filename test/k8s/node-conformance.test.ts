// Kubernetes' node conformance suite (e2e_node v1.34.4) against `tsrun cri`, with the real
// kubelet and the suite's own in-process API server: the CI sample of its [NodeConformance]
// specs (test/k8s/conformance/sample.txt, spread over every area the full set covers), run
// exactly as `scripts/conformance.sh --sample` runs it. The full set runs in the script; its
// last figures, beside containerd's, are in the README.
import test from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { k8sBin } from '../helpers/kubernetes';
import { focusFor, readSpecList, SAMPLE_FILE } from './conformance/config';
import { runNodeConformance } from './conformance/run';

const sample = readSpecList(SAMPLE_FILE);

test('the CI sample of the [NodeConformance] specs passes on tsrun cri, and the run leaves nothing behind', async (t) => {
  // Images (built once per machine), the node's start-up, about 70 specs one after another.
  t.timeout(30 * 60_000, 'the node conformance sample');
  if (!k8sBin('e2e_node')) return t.fail('e2e_node is not built: run scripts/install-kubernetes.sh');
  t.true(sample.length >= 60, `the sample has ${sample.length} specs`);
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-node-conformance-'));
  // Ginkgo's own deadline ends the suite (and its cleanup runs) well before ava's.
  const s = await runNodeConformance({ runtime: 'tsrun', focus: focusFor(sample), outDir, ginkgoTimeout: '20m', progress: (l) => t.log(l) });
  t.log(`${s.runtimeVersion}: ${s.counts.passed} passed, ${s.counts.failed} failed, ${s.counts.skipped} skipped in ${s.finishedSeconds} s`);

  t.is(s.error, undefined, `the suite ran (reports in ${outDir})`);
  t.deepEqual(s.leftovers, [], 'nothing left behind');
  // Every name in the sample ran (a renamed spec would otherwise drop out unnoticed) and passed.
  const byName = new Map(s.specs.map((r) => [r.name, r]));
  const missing = sample.filter((n) => !byName.has(n));
  t.deepEqual(missing, [], 'every sample spec ran');
  const notPassed = s.specs
    .filter((r) => r.state !== 'passed')
    .map((r) => `${r.state}: ${r.name}${r.message ? `\n  ${r.message.replace(/\n/g, '\n  ')}` : ''}`);
  t.deepEqual(notPassed, [], `every sample spec passed (reports in ${outDir})`);
  if (!missing.length && !notPassed.length && !s.error && !s.leftovers.length) fs.rmSync(outDir, { recursive: true, force: true });
});
