// critest (kubernetes-sigs/cri-tools' validation suite) against `tsrun cri`. Its images are
// the stand-ins of test/fixtures/cri-images.ts, served under their public names by a local
// registry that tsrun's registry config mirrors. The specs skipped here are listed with the
// reason each cannot pass on this host (the README repeats the list).
import test from 'ava';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CRI_UNMATCHABLE, ensureCriImages } from '../fixtures/cri-images';
import { startCriServer, type CriServerHandle } from '../helpers/cri-server';
import { criToolsBin } from '../helpers/cri-tools';

/** Specs this host cannot run, whatever the runtime does. */
export const HOST_EXCEPTIONS: readonly { spec: string; reason: string }[] = [
  { spec: 'AppArmor', reason: 'the host kernel has no AppArmor' },
  { spec: 'SELinux', reason: 'the host kernel has no SELinux' },
];

let cri: CriServerHandle | undefined;
test.after.always(async () => {
  await cri?.stop();
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

test('critest validation: every spec passes but the listed exceptions', async (t) => {
  t.timeout(40 * 60_000);
  const critest = criToolsBin('critest');
  if (!critest) return t.fail('critest is not built: run scripts/install-cri-tools.sh');
  const { mirrorDir } = await ensureCriImages();
  cri = await startCriServer({ registryConfig: mirrorDir });
  const skip = [...CRI_UNMATCHABLE.map((u) => u.spec), ...HOST_EXCEPTIONS.map((e) => e.spec)].map(escape).join('|');
  const report = path.join(cri.dir, 'critest.log');
  const out = fs.openSync(report, 'w');
  const code = await new Promise<number>((resolve) => {
    const p = spawn(
      critest,
      [
        '--runtime-endpoint',
        `unix://${cri!.socket}`,
        '--image-endpoint',
        `unix://${cri!.socket}`,
        '--ginkgo.no-color',
        `--ginkgo.skip=${skip}`,
        '--ginkgo.timeout=40m',
        '--ginkgo.v',
      ],
      { stdio: ['ignore', out, out] },
    );
    p.on('exit', (c) => resolve(c ?? -1));
  });
  fs.closeSync(out);
  const text = fs.readFileSync(report, 'utf8');
  const summary = /Ran (\d+) of (\d+) Specs[\s\S]*?(\d+) Passed \| (\d+) Failed \| (\d+) Pending \| (\d+) Skipped/.exec(text);
  t.log(summary ? summary[0].replace(/\n+/g, ' ') : text.slice(-2000));
  // Specs critest itself skips (features tsrun reports it lacks, or another platform's).
  const skipped = [...text.matchAll(/S \[SKIPPED\][^\n]*\n(.+)\n/g)].map((m) => m[1]!.trim());
  t.log(`skipped by critest: ${skipped.join('; ')}`);
  const failures = [...text.matchAll(/\[FAIL\] (.+)/g)].map((m) => m[1]);
  t.deepEqual(failures, [], `critest failures (log: ${report})`);
  t.is(code, 0);
});
