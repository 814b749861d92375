// Image benchmarks: pull + unpack of one multi-layer image from a local docker-registry into
// a cold store, tsrun beside containerd (`ctr pull`, which also unpacks into its snapshotter)
// and skopeo copy + umoci unpack; and unpacking alone beside `gzip -dc | tar -x`. Then the same
// for a 1 GB image of Debian packages (bench/lib/debian-image.ts, built once per machine),
// with the peak memory of the pull beside containerd's. Ratios to ctr.
//   node dist/bench/image.js [--quick]   (--quick leaves the Debian image out)
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LayerStore } from '../src/image/store/layer-store';
import { busyboxRootfs } from '../test/fixtures/busybox';
import { OciLayout, push, tarOf, tarOfDir } from '../test/fixtures/oci-builder';
import { startRegistry } from '../test/fixtures/registry';
import { waitFor } from '../test/helpers/tsrun';
import { removeTree } from './lib/cri-env';
import { debianImage, DEBIAN_REPO, DEBIAN_TAG } from './lib/debian-image';
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
    const small = await measure();
    if (quick) return small;
    const big = await measureDebian();
    return { rows: [...small.rows, ...big.rows], extra: { small: small.extra, debian: big.extra }, notes: [...(small.notes ?? []), ...(big.notes ?? [])] };
  } finally {
    removeTree(work);
  }
});

/** A containerd of its own (no CRI) on a socket in a fresh directory. */
async function startContainerd(): Promise<{ sock: string; proc: ChildProcess; stop: () => Promise<void> }> {
  const ctrDir = tmp('ctrd-');
  const sock = path.join(ctrDir, 'containerd.sock');
  fs.writeFileSync(
    path.join(ctrDir, 'config.toml'),
    `version = 2\nroot = "${ctrDir}/root"\nstate = "${ctrDir}/state"\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n[grpc]\n  address = "${sock}"\n[ttrpc]\n  address = "${sock}.ttrpc"\n`,
  );
  const proc = spawn('containerd', ['--config', path.join(ctrDir, 'config.toml')], { stdio: 'ignore' });
  await waitFor(() => fs.existsSync(sock), 20_000);
  return {
    sock,
    proc,
    stop: async () => {
      proc.kill('SIGTERM');
      await new Promise((r) => (proc.exitCode !== null ? r(null) : proc.once('exit', r)));
    },
  };
}

/** A cold `ctr pull` (which unpacks too); afterwards the image, its content and its snapshots are gone. */
function ctrPull(sock: string, ref: string): void {
  execFileSync('ctr', ['-a', sock, 'images', 'pull', '--plain-http', ref], { stdio: 'ignore' });
  // --sync: wait for containerd's GC, so the snapshots are gone before the next pull.
  execFileSync('ctr', ['-a', sock, 'images', 'rm', '--sync', ref], { stdio: 'ignore' });
  // Every pull must be cold. containerd's own GC may delete a blob that prune also lists,
  // and then prune fails: ask again (a second failure stops the bench, with ctr's words).
  const prune = () => execFileSync('ctr', ['-a', sock, 'content', 'prune', 'references'], { stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    prune();
  } catch {
    prune();
  }
}

/** Unpacks a gzip layer blob into a fresh layer store, in this process. */
async function tsrunUnpack(blob: string, mediaType: string): Promise<number> {
  const s = new LayerStore(tmp('layers-'));
  const t = process.hrtime.bigint();
  await s.unpack(fs.createReadStream(blob, { highWaterMark: 1 << 20 }), mediaType);
  const took = Number(process.hrtime.bigint() - t) / 1e6;
  removeTree(s.root);
  return took;
}

/** The same layer through `gzip -dc | tar -x` (what `tar -xzf` runs). */
function tarUnpack(blob: string): void {
  const d = tmp('tar-');
  execFileSync('sh', ['-c', 'gzip -dc "$1" | tar -x -C "$2"', 'sh', blob, d]);
  removeTree(d);
}

/** Runs a command to its end: wall time and its peak RSS (getrusage of the child, via python3). */
function measured(cmd: string[]): { ms: number; maxRssMiB: number } {
  const script =
    'import resource,subprocess,sys\nr=subprocess.run(sys.argv[1:],stdout=subprocess.DEVNULL)\nprint(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\nsys.exit(r.returncode)';
  const t = process.hrtime.bigint();
  const out = execFileSync('python3', ['-c', script, ...cmd], { encoding: 'utf8' });
  return { ms: Number(process.hrtime.bigint() - t) / 1e6, maxRssMiB: Number(out.trim()) / 1024 };
}

async function measureDebian(): Promise<BenchResult> {
  const image = await debianImage((s) => process.stdout.write(`${s}\n`));
  const reg = await startRegistry('plain', { dataDir: image.storage });
  const ref = `${reg.addr}/${DEBIAN_REPO}:${DEBIAN_TAG}`;
  const ctrd = await startContainerd();
  try {
    const runs = 2;
    const tsrun = Array.from({ length: runs }, () => {
      const store = tmp('store-');
      const m = measured([TSRUN, '--store', store, 'pull', '-q', ref]);
      removeTree(store);
      return m;
    });
    const ctr = Array.from({ length: runs }, () => ms(() => ctrPull(ctrd.sock, ref)));
    // containerd started just for these pulls: its high-water mark is what they cost it.
    const ctrHwm = Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${ctrd.proc.pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
    // Unpack alone: the Go layer, the one with most files.
    const layer = image.layers.reduce((a, b) => (b.files > a.files ? b : a));
    const unpack: number[] = [];
    const tar: number[] = [];
    for (let i = 0; i < runs; i++) {
      unpack.push(await tsrunUnpack(layer.blob, 'application/vnd.oci.image.layer.v1.tar+gzip'));
      tar.push(ms(() => tarUnpack(layer.blob)));
    }
    const gb = (image.unpacked / 1e9).toFixed(1);
    const name = `pull+unpack, Debian image (${gb} GB, ${image.layers.length} layers, ${image.files} files)`;
    const t = p50(tsrun.map((m) => m.ms));
    return {
      rows: [
        row('image', name, 'ms', t, p50(ctr), 'ctr pull (containerd)'),
        row('image', `peak RSS of that pull`, 'MiB', Math.max(...tsrun.map((m) => m.maxRssMiB)), ctrHwm, 'containerd VmHWM'),
        row(
          'image',
          `unpack one Debian layer (${(layer.unpacked / 1e6).toFixed(0)} MB, ${layer.files} files)`,
          'ms',
          p50(unpack),
          p50(tar),
          'gzip -dc | tar -x',
        ),
      ],
      extra: { image: { compressed: image.compressed, unpacked: image.unpacked, files: image.files }, tsrun, ctr, ctrHwmMiB: ctrHwm, unpack, tar },
      notes: [
        `the Debian image: ${(image.compressed / 1e6).toFixed(0)} MB gzip'd, ${gb} GB unpacked, built once per machine from Debian 12 packages (apt-get download + dpkg-deb -x) into ${path.dirname(image.storage)}; median of ${runs} cold pulls each`,
      ],
    };
  } finally {
    await ctrd.stop();
    await reg.stop();
  }
}

async function measure(): Promise<BenchResult> {
  // Half random (incompressible), half text-like: what real layers look like.
  const layers = [tarOfDir(busyboxRootfs())];
  for (let i = 0; i < LAYERS - 1; i++) {
    const files = Array.from({ length: 8 }, (_, j) => ({
      name: `data${i}/f${j}`,
      body: j % 2 ? randomBytes((LAYER_MB * 1024 * 1024) / 8) : Buffer.from('tsrun '.repeat((LAYER_MB * 1024 * 1024) / 48)),
    }));
    layers.push(await tarOf([{ name: `data${i}/`, type: 'directory', mode: 0o755 }, ...files]));
  }
  const layout = new OciLayout(tmp('oci-'));
  layout.tag('bench', layout.image(layers, { Cmd: ['true'] }));
  const reg = await startRegistry('plain');
  const ref = `${reg.addr}/bench/image:v1`;
  push(layout.dir, 'bench', ref);

  const ctrd = await startContainerd();
  const sock = ctrd.sock;
  try {
    const times: Record<string, number[]> = {};
    const add = (key: string, xs: number[]): void => void (times[key] = xs);
    const runs = (f: () => void): number[] => Array.from({ length: RUNS }, () => ms(f));
    add(
      'tsrun pull',
      runs(() => execFileSync(TSRUN, ['--store', tmp('store-'), 'pull', '-q', ref])),
    );
    add(
      'ctr pull',
      runs(() => ctrPull(sock, ref)),
    );
    add(
      'skopeo+umoci',
      runs(() => {
        const d = tmp('skopeo-');
        execFileSync('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${ref}`, `oci:${d}/oci:v1`]);
        execFileSync('umoci', ['unpack', '--image', `${d}/oci:v1`, `${d}/bundle`], { stdio: 'ignore' });
      }),
    );
    // Unpack alone: the biggest layer, from the same gzip blob.
    const big = JSON.parse(
      fs.readFileSync(
        path.join(layout.dir, 'blobs', 'sha256', JSON.parse(fs.readFileSync(path.join(layout.dir, 'index.json'), 'utf8')).manifests[0].digest.slice(7)),
        'utf8',
      ),
    ).layers[1];
    const blob = path.join(layout.dir, 'blobs', 'sha256', big.digest.slice(7));
    const unpackTimes: number[] = [];
    const tarTimes: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      unpackTimes.push(await tsrunUnpack(blob, big.mediaType));
      tarTimes.push(ms(() => tarUnpack(blob)));
    }
    add('tsrun unpack', unpackTimes);
    add('gzip -dc | tar -x', tarTimes);
    const t = (k: string): number => p50(times[k]!);
    const name = `pull+unpack, ${LAYERS} layers`;
    return {
      rows: [
        row('image', name, 'ms', t('tsrun pull'), t('ctr pull'), 'ctr pull (containerd)'),
        row('image', name, 'ms', t('tsrun pull'), t('skopeo+umoci'), 'skopeo copy + umoci unpack'),
        row('image', `unpack one ${LAYER_MB} MB layer`, 'ms', t('tsrun unpack'), t('gzip -dc | tar -x'), 'gzip -dc | tar -x'),
      ],
      extra: { layers: LAYERS, layerMB: LAYER_MB, runs: RUNS, times },
      notes: [`a local docker-registry; busybox + ${LAYERS - 1} layers of ${LAYER_MB} MB (half random, half text); median of ${RUNS} cold pulls each`],
    };
  } finally {
    await ctrd.stop();
    await reg.stop();
  }
}
