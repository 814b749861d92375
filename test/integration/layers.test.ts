// Layer unpacking as overlayfs sees it: whiteouts hide, opaque dirs reset, metadata and
// special files survive, and hostile tars are rejected without leaving anything behind.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import { AUFS_METADATA, EVERY_KIND, HOSTILE_LAYERS, HOSTILE_WHITEOUTS, OVERLAY_LOWER, OVERLAY_UPPER } from '../fixtures/layer-cases';
import { tarOf } from '../fixtures/oci-builder';
import { LayerStore } from '../../src/image/store/layer-store';
import { sha256 } from '../../src/image/store/content-store';
import { lgetxattr } from '../../src/sys/native';

const makeTar = tarOf;

const store = (): LayerStore => new LayerStore(fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-layers-')));
const gz = (b: Buffer): Readable => Readable.from([zlib.gzipSync(b)]);
const GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';

test('two layers in an overlay: whiteouts hide files, an opaque dir hides the lower contents', async (t) => {
  const s = store();
  const lower = await s.unpack(gz(await makeTar(OVERLAY_LOWER)), GZIP);
  const upper = await s.unpack(gz(await makeTar(OVERLAY_UPPER)), GZIP);
  t.is(upper.whiteouts, 2);
  const st = fs.lstatSync(path.join(s.dir(upper.diffId), 'a', 'gone'));
  t.true(st.isCharacterDevice() && st.rdev === 0, 'a whiteout is a 0:0 character device');
  t.is(lgetxattr(path.join(s.dir(upper.diffId), 'd'), 'trusted.overlay.opaque')?.toString(), 'y');
  const merged = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-merged-'));
  execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${s.dir(upper.diffId)}:${s.dir(lower.diffId)}`, merged]);
  try {
    t.deepEqual(fs.readdirSync(path.join(merged, 'a')), ['keep']);
    t.deepEqual(fs.readdirSync(path.join(merged, 'd')), ['new']);
  } finally {
    execFileSync('umount', [merged]);
  }
});

test('owners, modes, mtimes, xattrs (security.capability), hardlinks, symlinks, fifos and devices are kept', async (t) => {
  const s = store();
  const raw = await makeTar(EVERY_KIND);
  const r = await s.unpack(Readable.from([raw]), 'application/vnd.oci.image.layer.v1.tar');
  t.is(r.diffId, sha256(raw), 'the diff ID is the digest of the uncompressed tar');
  const d = s.dir(r.diffId);
  const ping = fs.statSync(path.join(d, 'bin/ping'));
  t.is(ping.mode & 0o7777, 0o4755, 'setuid survives the chown');
  t.is(lgetxattr(path.join(d, 'bin/ping'), 'security.capability')?.toString('hex'), '0100000200200000000000000000000000000000');
  const f = fs.statSync(path.join(d, 'home/file'));
  t.deepEqual([f.uid, f.gid, f.mode & 0o777, f.mtimeMs], [1000, 1001, 0o600, 1_600_000_000_000]);
  t.is(fs.statSync(path.join(d, 'home/hard')).ino, f.ino, 'hardlink shares the inode');
  t.is(fs.readlinkSync(path.join(d, 'home/soft')), '/etc/passwd');
  const home = fs.statSync(path.join(d, 'home'));
  t.deepEqual([home.uid, home.mode & 0o777, home.mtimeMs], [1000, 0o700, 1_600_000_000_000], 'directory times are set last');
  const nul = fs.statSync(path.join(d, 'dev/null'));
  t.true(nul.isCharacterDevice());
  t.is(nul.rdev, (1 << 8) | 3);
  t.true(fs.statSync(path.join(d, 'dev/sda')).isBlockDevice());
  t.true(fs.statSync(path.join(d, 'run/pipe')).isFIFO());
});

test('zstd layers', async (t) => {
  const s = store();
  const raw = await makeTar([{ name: 'hello', body: 'zstd!\n' }]);
  const compressed = execFileSync('zstd', ['-c', '-q'], { input: raw });
  const r = await s.unpack(Readable.from([compressed]), 'application/vnd.oci.image.layer.v1.tar+zstd');
  t.is(fs.readFileSync(path.join(s.dir(r.diffId), 'hello'), 'utf8'), 'zstd!\n');
});

for (const [name, entries, msg] of HOSTILE_LAYERS) {
  test(`rejected, nothing left behind: ${name}`, async (t) => {
    const s = store();
    const before = fs.readdirSync(os.tmpdir()).filter((n) => n === 'evil' || n === 'escape');
    await t.throwsAsync(s.unpack(gz(await makeTar(entries)), GZIP), { message: msg });
    t.deepEqual(fs.readdirSync(path.join(s.root, 'layers', 'sha256')), [], 'no layer dir, no temporary dir');
    t.deepEqual(
      fs.readdirSync(os.tmpdir()).filter((n) => n === 'evil' || n === 'escape'),
      before,
    );
  });
}

// A whiteout hides one name in its directory; one that leaves "..", "." or nothing after ".wh."
// would hide the layer directory's parent (the store's whole layers/sha256) or itself.
for (const name of HOSTILE_WHITEOUTS) {
  test(`a whiteout named ${JSON.stringify(name)} is rejected and the store's other layers stay`, async (t) => {
    const s = store();
    const kept = await s.unpack(gz(await makeTar([{ name: 'keep', body: 'still here' }])), GZIP);
    const hostile = await makeTar([
      { name: 'a/b/', type: 'directory' },
      { name, body: '' },
    ]);
    await t.throwsAsync(s.unpack(gz(hostile), GZIP), { message: /layer whiteout .* does not name a file to hide/ });
    t.is(fs.readFileSync(path.join(s.dir(kept.diffId), 'keep'), 'utf8'), 'still here', 'the layer unpacked before is intact');
    t.deepEqual(fs.readdirSync(path.join(s.root, 'layers', 'sha256')), [kept.diffId.slice('sha256:'.length)], 'nothing else left in layers/sha256');
    const next = await s.unpack(gz(await makeTar([{ name: 'next', body: 'n' }])), GZIP);
    t.true(s.has(next.diffId), 'a later unpack still works');
  });
}

test('aufs metadata (.wh..wh.plnk) is skipped as docker and containerd do, not taken for a whiteout', async (t) => {
  const s = store();
  const r = await s.unpack(gz(await makeTar(AUFS_METADATA)), GZIP);
  t.deepEqual(fs.readdirSync(s.dir(r.diffId)), ['f']);
});

test('a decompression bomb is stopped at its bound, and leaves nothing', async (t) => {
  const s = store();
  // 8 MiB of zeros: a few KiB of gzip.
  const bomb = zlib.gzipSync(await makeTar([{ name: 'zeros', body: Buffer.alloc(8 << 20) }]));
  t.true(bomb.length < 64 << 10);
  await t.throwsAsync(s.unpack(Readable.from([bomb]), GZIP, undefined, 1 << 20), { message: /layer unpacks to more than 1048576 bytes, its bound/ });
  t.deepEqual(fs.readdirSync(path.join(s.root, 'layers', 'sha256')), [], 'no layer dir, no temporary dir');
  const r = await s.unpack(Readable.from([bomb]), GZIP, undefined, 16 << 20);
  t.is(fs.statSync(path.join(s.dir(r.diffId), 'zeros')).size, 8 << 20, 'within its bound it unpacks');
});

test('a corrupt or truncated gzip stream is an error, and leaves nothing', async (t) => {
  const s = store();
  const good = zlib.gzipSync(await makeTar([{ name: 'f', body: 'x'.repeat(10000) }]));
  await t.throwsAsync(s.unpack(Readable.from([good.subarray(0, good.length / 2)]), GZIP));
  await t.throwsAsync(s.unpack(Readable.from([Buffer.from('not gzip at all')]), GZIP), { message: /incorrect header check/ });
  t.deepEqual(fs.readdirSync(path.join(s.root, 'layers', 'sha256')), []);
});

test("a layer whose content does not match the config's diff ID is rejected", async (t) => {
  const s = store();
  const raw = await makeTar([{ name: 'f', body: 'x' }]);
  await t.throwsAsync(s.unpack(Readable.from([raw]), 'application/vnd.oci.image.layer.v1.tar', sha256('something else')), {
    message: /hashes to sha256:.*but the image config says/,
  });
  t.deepEqual(fs.readdirSync(path.join(s.root, 'layers', 'sha256')), []);
});
