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

const ROOT = path.resolve(__dirname, '..', '..');
const TSRUN = path.join(ROOT, 'bin', 'tsrun');
const quick = process.argv.includes('--quick');
const LAYERS = quick ? 3 : 5;
const LAYER_MB = quick ? 4 : 40;
const RUNS = quick ? 1 : 3;

const ms = (f: () => void): number => {
  const t = process.hrtime.bigint();
  f();
  return Number(process.hrtime.bigint() - t) / 1e6;
};
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const tmp = (p: string): string => fs.mkdtempSync(path.join(os.tmpdir(), p));

async function main(): Promise<void> {
  // Half random (incompressible), half text-like: what real layers look like.
  const layers = [tarOfDir(busyboxRootfs())];
  for (let i = 0; i < LAYERS - 1; i++) {
    const files = Array.from({ length: 8 }, (_, j) => ({ name: `data${i}/f${j}`, body: j % 2 ? randomBytes((LAYER_MB * 1024 * 1024) / 8) : Buffer.from('tsrun '.repeat((LAYER_MB * 1024 * 1024) / 48)) }));
    layers.push(await tarOf([{ name: `data${i}/`, type: 'directory', mode: 0o755 }, ...files]));
  }
  const layout = new OciLayout(tmp('tsrun-bench-oci-'));
  layout.tag('bench', layout.image(layers, { Cmd: ['true'] }));
  const reg = await startRegistry('plain');
  const ref = `${reg.addr}/bench/image:v1`;
  push(layout.dir, 'bench', ref);

  const ctrDir = tmp('tsrun-bench-ctrd-');
  const sock = path.join(ctrDir, 'containerd.sock');
  fs.writeFileSync(path.join(ctrDir, 'config.toml'), `version = 2\nroot = "${ctrDir}/root"\nstate = "${ctrDir}/state"\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n[grpc]\n  address = "${sock}"\n[ttrpc]\n  address = "${sock}.ttrpc"\n`);
  const ctrd = spawn('containerd', ['--config', path.join(ctrDir, 'config.toml')], { stdio: 'ignore' });
  await waitFor(() => fs.existsSync(sock), 20_000);

  const rows: { bench: string; tool: string; ms: number }[] = [];
  const add = (bench: string, tool: string, xs: number[]): void => void rows.push({ bench, tool, ms: median(xs) });
  const runs = (f: () => void): number[] => Array.from({ length: RUNS }, () => ms(f));
  add('pull+unpack', 'tsrun', runs(() => execFileSync(TSRUN, ['--store', tmp('tsrun-bench-store-'), 'pull', '-q', ref])));
  add('pull+unpack', 'ctr', runs(() => {
    execFileSync('ctr', ['-a', sock, 'images', 'pull', '--plain-http', ref], { stdio: 'ignore' });
    execFileSync('ctr', ['-a', sock, 'images', 'rm', ref], { stdio: 'ignore' });
    execFileSync('ctr', ['-a', sock, 'content', 'prune', 'references'], { stdio: 'ignore' });
  }));
  add('pull+unpack', 'skopeo+umoci', runs(() => {
    const d = tmp('tsrun-bench-skopeo-');
    execFileSync('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${ref}`, `oci:${d}/oci:v1`]);
    execFileSync('umoci', ['unpack', '--image', `${d}/oci:v1`, `${d}/bundle`], { stdio: 'ignore' });
  }));
  // Unpack alone: the biggest layer, from the same gzip blob.
  const big = JSON.parse(fs.readFileSync(path.join(layout.dir, 'blobs', 'sha256', JSON.parse(fs.readFileSync(path.join(layout.dir, 'index.json'), 'utf8')).manifests[0].digest.slice(7)), 'utf8')).layers[1];
  const blob = path.join(layout.dir, 'blobs', 'sha256', big.digest.slice(7));
  const unpackTimes: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const s = new LayerStore(tmp('tsrun-bench-layers-'));
    const t = process.hrtime.bigint();
    await s.unpack(Readable.from(fs.createReadStream(blob)), big.mediaType);
    unpackTimes.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  add('unpack one layer', 'tsrun', unpackTimes);
  add('unpack one layer', 'tar -xzf', runs(() => execFileSync('tar', ['-xzf', blob, '-C', tmp('tsrun-bench-tar-')])));

  ctrd.kill('SIGTERM');
  await reg.stop();
  const base = (b: string): number => rows.find((r) => r.bench === b && (r.tool === 'ctr' || r.tool === 'tar -xzf'))!.ms;
  const lines = ['| bench | tool | median ms | ratio |', '|---|---|---|---|', ...rows.map((r) => `| ${r.bench} | ${r.tool} | ${r.ms.toFixed(0)} | ${(r.ms / base(r.bench)).toFixed(2)} |`)];
  const meta = { date: new Date().toISOString(), cpus: os.cpus().length, layers: LAYERS, layerMB: LAYER_MB, runs: RUNS };
  const outDir = path.join(ROOT, 'bench', 'results');
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, 'image.json'), JSON.stringify({ meta, rows }, null, 2));
  const md = `${lines.join('\n')}\n\n(${meta.date}; ${LAYERS} layers, ${LAYER_MB} MB each besides busybox; ratios to ctr pull / tar -xzf; ${RUNS} runs)\n`;
  fs.writeFileSync(path.join(outDir, 'image.md'), md);
  process.stdout.write(md);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
