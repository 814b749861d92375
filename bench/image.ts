// Image benchmarks: pull + unpack of one multi-layer image from a local docker-registry into
// a cold store, tsrun beside containerd (`ctr pull`, which also unpacks into its snapshotter)
// and skopeo copy + umoci unpack; and unpacking alone beside `tar -xzf`. Ratios to ctr.
//   node dist/bench/image.js [--quick]
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { LayerStore } from '../src/image/store/layer-store';
import { busyboxRootfs } from '../test/fixtures/busybox';
import { OciLayout, push, tarOf, tarOfDir } from '../test/fixtures/oci-builder';
import { startRegistry } from '../test/fixtures/registry';
import { waitFor } from '../test/helpers/tsrun';
import { removeTree } from './lib/cri-env';
import { p50, quick, ROOT, row, runBench, type BenchResult } from './lib/report';

const TSRUN = path.join(ROOT, 'bin', 'tsrun');
const LAYERS = quick ? 3 : 5;
const LAYER_MB = quick ? 4 : 40;
const RUNS = quick ? 1 : 3;

const ms = (f: () => void): number => {
  const t = process.hrtime.bigint();
  f();
  return Number(process.hrtime.bigint() - t) / 1e6;
};
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-bench-image-'));
const tmp = (p: string): string => fs.mkdtempSync(path.join(work, p));

runBench('image', async () => {
  try {
    return await measure();
  } finally {
    removeTree(work);
  }
});

async function measure(): Promise<BenchResult> {
  // Half random (incompressible), half text-like: what real layers look like.
  const layers = [tarOfDir(busyboxRootfs())];
  for (let i = 0; i < LAYERS - 1; i++) {
    const files = Array.from({ length: 8 }, (_, j) => ({ name: `data${i}/f${j}`, body: j % 2 ? randomBytes((LAYER_MB * 1024 * 1024) / 8) : Buffer.from('tsrun '.repeat((LAYER_MB * 1024 * 1024) / 48)) }));
    layers.push(await tarOf([{ name: `data${i}/`, type: 'directory', mode: 0o755 }, ...files]));
  }
  const layout = new OciLayout(tmp('oci-'));
  layout.tag('bench', layout.image(layers, { Cmd: ['true'] }));
  const reg = await startRegistry('plain');
  const ref = `${reg.addr}/bench/image:v1`;
  push(layout.dir, 'bench', ref);

  const ctrDir = tmp('ctrd-');
  const sock = path.join(ctrDir, 'containerd.sock');
  fs.writeFileSync(path.join(ctrDir, 'config.toml'), `version = 2\nroot = "${ctrDir}/root"\nstate = "${ctrDir}/state"\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n[grpc]\n  address = "${sock}"\n[ttrpc]\n  address = "${sock}.ttrpc"\n`);
  const ctrd = spawn('containerd', ['--config', path.join(ctrDir, 'config.toml')], { stdio: 'ignore' });
  try {
    await waitFor(() => fs.existsSync(sock), 20_000);
    const times: Record<string, number[]> = {};
    const add = (key: string, xs: number[]): void => void (times[key] = xs);
    const runs = (f: () => void): number[] => Array.from({ length: RUNS }, () => ms(f));
    add('tsrun pull', runs(() => execFileSync(TSRUN, ['--store', tmp('store-'), 'pull', '-q', ref])));
    add('ctr pull', runs(() => {
      execFileSync('ctr', ['-a', sock, 'images', 'pull', '--plain-http', ref], { stdio: 'ignore' });
      execFileSync('ctr', ['-a', sock, 'images', 'rm', ref], { stdio: 'ignore' });
      // Every pull must be cold. containerd's own GC may delete a blob that prune also lists,
      // and then prune fails: ask again (a second failure stops the bench, with ctr's words).
      const prune = () => execFileSync('ctr', ['-a', sock, 'content', 'prune', 'references'], { stdio: ['ignore', 'ignore', 'pipe'] });
      try {
        prune();
      } catch {
        prune();
      }
    }));
    add('skopeo+umoci', runs(() => {
      const d = tmp('skopeo-');
      execFileSync('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${ref}`, `oci:${d}/oci:v1`]);
      execFileSync('umoci', ['unpack', '--image', `${d}/oci:v1`, `${d}/bundle`], { stdio: 'ignore' });
    }));
    // Unpack alone: the biggest layer, from the same gzip blob.
    const big = JSON.parse(fs.readFileSync(path.join(layout.dir, 'blobs', 'sha256', JSON.parse(fs.readFileSync(path.join(layout.dir, 'index.json'), 'utf8')).manifests[0].digest.slice(7)), 'utf8')).layers[1];
    const blob = path.join(layout.dir, 'blobs', 'sha256', big.digest.slice(7));
    const unpackTimes: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const s = new LayerStore(tmp('layers-'));
      const t = process.hrtime.bigint();
      await s.unpack(Readable.from(fs.createReadStream(blob)), big.mediaType);
      unpackTimes.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    add('tsrun unpack', unpackTimes);
    add('tar -xzf', runs(() => execFileSync('tar', ['-xzf', blob, '-C', tmp('tar-')])));
    const t = (k: string): number => p50(times[k]!);
    const name = `pull+unpack, ${LAYERS} layers`;
    return {
      rows: [
        row('image', name, 'ms', t('tsrun pull'), t('ctr pull'), 'ctr pull (containerd)'),
        row('image', name, 'ms', t('tsrun pull'), t('skopeo+umoci'), 'skopeo copy + umoci unpack'),
        row('image', `unpack one ${LAYER_MB} MB layer`, 'ms', t('tsrun unpack'), t('tar -xzf'), 'tar -xzf'),
      ],
      extra: { layers: LAYERS, layerMB: LAYER_MB, runs: RUNS, times },
      notes: [`a local docker-registry; busybox + ${LAYERS - 1} layers of ${LAYER_MB} MB (half random, half text); median of ${RUNS} cold pulls each`],
    };
  } finally {
    ctrd.kill('SIGTERM');
    await new Promise((r) => (ctrd.exitCode !== null ? r(null) : ctrd.once('exit', r)));
    await reg.stop();
  }
}
