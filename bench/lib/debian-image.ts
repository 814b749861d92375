// A large image made of Debian packages, for the image benchmark: the packages of each layer
// are fetched with apt-get download and unpacked with dpkg-deb -x (no maintainer scripts run),
// then each layer is tarred by GNU tar and gzip'd. About 1 GB unpacked in some 21,000 files (300 MB gzip'd):
// a toolchain, a Go distribution (its many small source files), LLVM. Built once per machine
// into /var/cache/tsrun-bench-images/<version>/ as the storage of a docker-registry, which
// the bench serves as it is (no push per run). Never committed.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { OciLayout, push } from '../../test/fixtures/oci-builder';
import { startRegistry, type Registry } from '../../test/fixtures/registry';

export const CACHE = '/var/cache/tsrun-bench-images';
const VERSION = 'debian-v1';
export const DEBIAN_REPO = 'bench/debian';
export const DEBIAN_TAG = 'v1';

/** Lowest layer first; each a list of Debian 12 packages. */
const LAYERS: string[][] = [
  [
    'libc6',
    'libgcc-s1',
    'libstdc++6',
    'coreutils',
    'bash',
    'dash',
    'perl-base',
    'zlib1g',
    'libzstd1',
    'libselinux1',
    'libacl1',
    'libattr1',
    'libpcre2-8-0',
    'libgmp10',
    'libtinfo6',
  ],
  [
    'gcc-12',
    'cpp-12',
    'g++-12',
    'binutils',
    'binutils-x86-64-linux-gnu',
    'libbinutils',
    'libgcc-12-dev',
    'libstdc++-12-dev',
    'libc6-dev',
    'linux-libc-dev',
    'libisl23',
    'libmpc3',
    'libmpfr6',
  ],
  ['python3.11', 'python3.11-minimal', 'libpython3.11-stdlib', 'libpython3.11-minimal', 'perl-modules-5.36', 'libperl5.36'],
  ['golang-1.19-go', 'golang-1.19-src'],
  ['libllvm15', 'libclang-cpp15', 'libicu72', 'libxml2'],
];

export interface DebianImage {
  /** what a registry started on it serves as DEBIAN_REPO:DEBIAN_TAG */
  storage: string;
  /** the OCI layout it was pushed from (its blobs: the layers, for the unpack benchmark) */
  layout: string;
  /** bytes of all layers, compressed and unpacked */
  compressed: number;
  unpacked: number;
  files: number;
  layers: { digest: string; size: number; unpacked: number; files: number; blob: string }[];
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The image, built first if this machine has none (a few minutes: downloads and gzip). */
export async function debianImage(log: (s: string) => void): Promise<DebianImage> {
  const done = path.join(CACHE, VERSION);
  const info = path.join(done, 'image.json');
  fs.mkdirSync(CACHE, { recursive: true });
  const lock = path.join(CACHE, `${VERSION}.lock`);
  for (;;) {
    if (fs.existsSync(info)) return JSON.parse(fs.readFileSync(info, 'utf8')) as DebianImage;
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: 'wx' });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = Number(fs.readFileSync(lock, 'utf8') || 0);
      if (owner && !alive(owner)) fs.rmSync(lock, { force: true });
      else await new Promise((r) => setTimeout(r, 1000));
    }
  }
  const work = fs.mkdtempSync(path.join(CACHE, `.build-${VERSION}-`));
  try {
    log(`building the Debian benchmark image once into ${done} (apt-get download, dpkg-deb -x, tar, gzip)`);
    fs.rmSync(done, { recursive: true, force: true });
    const out = path.join(work, 'out');
    const layout = new OciLayout(path.join(out, 'oci'));
    const layers: DebianImage['layers'] = [];
    const diffIds: string[] = [];
    for (const [i, pkgs] of LAYERS.entries()) {
      const debs = path.join(work, `debs${i}`);
      const root = path.join(work, `root${i}`);
      fs.mkdirSync(debs);
      fs.mkdirSync(root, { mode: 0o755 });
      execFileSync('apt-get', ['download', '-q', ...pkgs], { cwd: debs, stdio: ['ignore', 'ignore', 'pipe'] });
      for (const deb of fs.readdirSync(debs)) execFileSync('dpkg-deb', ['-x', path.join(debs, deb), root]);
      const l = await tarGzip(root, path.join(out, 'oci', 'blobs', 'sha256'));
      layers.push({ digest: l.digest, size: l.size, unpacked: l.tarSize, files: l.files, blob: path.join(done, 'oci', 'blobs', 'sha256', l.digest.slice(7)) });
      diffIds.push(l.diffId);
      fs.rmSync(root, { recursive: true, force: true });
      fs.rmSync(debs, { recursive: true, force: true });
      log(`  layer ${i + 1}/${LAYERS.length}: ${(l.tarSize / 1e6).toFixed(0)} MB in ${l.files} entries, ${(l.size / 1e6).toFixed(0)} MB gzip'd`);
    }
    const config = layout.blob(
      Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['/usr/bin/true'] }, rootfs: { type: 'layers', diff_ids: diffIds } })),
      'application/vnd.oci.image.config.v1+json',
    );
    const manifest = layout.blob(
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          config,
          layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: l.digest, size: l.size })),
        }),
      ),
      'application/vnd.oci.image.manifest.v1+json',
    );
    layout.tag('debian', manifest);
    const storage = path.join(out, 'registry');
    fs.mkdirSync(storage);
    const reg: Registry = await startRegistry('plain', { dataDir: storage });
    try {
      push(layout.dir, 'debian', `${reg.addr}/${DEBIAN_REPO}:${DEBIAN_TAG}`);
    } finally {
      await reg.stop();
    }
    const image: DebianImage = {
      storage: path.join(done, 'registry'),
      layout: path.join(done, 'oci'),
      compressed: layers.reduce((a, l) => a + l.size, 0),
      unpacked: layers.reduce((a, l) => a + l.unpacked, 0),
      files: layers.reduce((a, l) => a + l.files, 0),
      layers,
    };
    fs.writeFileSync(path.join(out, 'image.json'), JSON.stringify(image, null, 2) + '\n');
    fs.renameSync(out, done);
    return image;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
    fs.rmSync(lock, { force: true });
  }
}

/** GNU tar of a directory (sorted, root-owned) -> gzip blob named by its digest in `blobs`. */
async function tarGzip(dir: string, blobs: string): Promise<{ digest: string; size: number; diffId: string; tarSize: number; files: number }> {
  const tmp = path.join(blobs, `.tmp-${process.pid}`);
  const tar = spawn('tar', ['-C', dir, '--numeric-owner', '--format=gnu', '--sort=name', '--owner=0', '--group=0', '-cf', '-', '.'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const diff = createHash('sha256');
  const blob = createHash('sha256');
  let tarSize = 0;
  let size = 0;
  const gzip = zlib.createGzip({ level: 6 });
  const out = fs.createWriteStream(tmp);
  tar.stdout.on('data', (c: Buffer) => {
    diff.update(c);
    tarSize += c.length;
  });
  gzip.on('data', (c: Buffer) => {
    blob.update(c);
    size += c.length;
  });
  const exited = new Promise<number | null>((r) => tar.on('close', r));
  await new Promise<void>((resolve, reject) => {
    tar.stdout.pipe(gzip).pipe(out);
    out.on('finish', resolve);
    out.on('error', reject);
    gzip.on('error', reject);
  });
  if ((await exited) !== 0) throw new Error(`tar of ${dir} failed`);
  const digest = 'sha256:' + blob.digest('hex');
  fs.renameSync(tmp, path.join(blobs, digest.slice(7)));
  const files = Number(execFileSync('sh', ['-c', 'find . | wc -l'], { cwd: dir, encoding: 'utf8' }).trim());
  return { digest, size, diffId: 'sha256:' + diff.digest('hex'), tarSize, files };
}
