// Pulling from a real registry (Debian's docker-registry on 127.0.0.1) images the tests build
// and push with skopeo, then running them: auth, platforms, compression, hostile registries.
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import * as zlib from 'node:zlib';
import { sha256 } from '../../src/image/store/content-store';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { busyboxRootfs } from '../fixtures/busybox';
import { OciLayout, push, tarOf, tarOfDir } from '../fixtures/oci-builder';
import { freePort, PASSWORD, registryBlobFile, startRegistry, USER, type Registry } from '../fixtures/registry';
import { newRoot, tsrun, uniqueId } from '../helpers/tsrun';
import { until } from '../helpers/until';

const root = newRoot();
const regs: Registry[] = [];
let plain: Registry;
let layout: OciLayout;
let base: Buffer;

function store(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-store-'));
}
const ts = (s: string, args: string[], extra: Parameters<typeof tsrun>[2] = {}) => tsrun(root, ['--store', s, ...args], extra);

test.before(async () => {
  plain = await startRegistry('plain');
  regs.push(plain);
  layout = new OciLayout(fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-oci-')));
  base = tarOfDir(busyboxRootfs());
  // Five layers: busybox; files (and a hardlink: tar writers keep those within one layer); a
  // whiteout and an opaque dir; a symlink; an overwritten file.
  const five = layout.image(
    [
      base,
      await tarOf([
        { name: 'data/', type: 'directory', mode: 0o755 },
        { name: 'data/keep', body: 'keep\n' },
        { name: 'data/remove-me', body: 'x\n' },
        { name: 'opq/', type: 'directory', mode: 0o755 },
        { name: 'opq/old', body: 'old\n' },
        { name: 'etc/', type: 'directory', mode: 0o755 },
        { name: 'etc/motd', body: 'first version\n' },
        { name: 'data/hard', type: 'link', linkname: 'data/keep' },
      ]),
      await tarOf([
        { name: 'data/.wh.remove-me', body: '' },
        { name: 'opq/', type: 'directory', mode: 0o755 },
        { name: 'opq/.wh..wh..opq', body: '' },
        { name: 'opq/new', body: 'new\n' },
      ]),
      await tarOf([{ name: 'data/soft', type: 'symlink', linkname: 'keep' }]),
      await tarOf([
        { name: 'etc/', type: 'directory', mode: 0o755 },
        { name: 'etc/motd', body: 'hello from five layers\n' },
      ]),
    ],
    {
      Cmd: ['sh', '-c', 'cat /etc/motd; ls /data; ls /opq; stat -c %h /data/keep; cat /data/soft; id -u; pwd'],
      Env: ['PATH=/bin'],
      WorkingDir: '/data',
      User: 'nobody',
    },
  );
  layout.tag('five', five);
  push(layout.dir, 'five', `${plain.addr}/test/five:v1`);
});

test.after.always(async () => {
  for (const r of regs) await r.stop();
});

test('pull a 5-layer image, bundle it, run it: whiteouts, opaque dirs, links, user, cwd', (t) => {
  const s = store();
  const p = ts(s, ['pull', `${plain.addr}/test/five:v1`]);
  t.is(p.code, 0, p.stderr);
  t.regex(p.stdout, new RegExp(`^${plain.addr}/test/five:v1 sha256:[a-f0-9]{64}\\n$`));
  const list = ts(s, ['images']).stdout;
  t.regex(list, new RegExp(`${plain.addr}/test/five:v1 +sha256:\\w+ +\\w+ +5 +`));
  const bundle = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-b-')), 'b');
  const b = ts(s, ['bundle', `${plain.addr}/test/five:v1`, bundle]);
  t.is(b.code, 0, b.stderr);
  const cfg = JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8'));
  t.deepEqual(cfg.process.user, { uid: 65534, gid: 65534, additionalGids: [] }, 'User "nobody" resolved from the image /etc/passwd');
  const r = ts(s, ['run', bundle + '/']);
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, 'hello from five layers\nhard\nkeep\nsoft\nnew\n2\nkeep\n65534\n/data\n');
  // runc runs the same bundle.
  const rr = spawnSync('runc', ['--root', path.join(s, 'runc'), 'run', '-b', bundle, uniqueId('runc')], { encoding: 'utf8' });
  t.is(rr.stdout, r.stdout, rr.stderr);
  t.is(ts(s, ['bundle', '--remove', bundle]).code, 0);
  t.false(fs.existsSync(bundle));
  // Nothing refers to the image's content after rmi: the store is empty again.
  t.is(ts(s, ['rmi', `${plain.addr}/test/five:v1`]).code, 0);
  t.deepEqual(fs.readdirSync(path.join(s, 'blobs', 'sha256')), []);
  t.deepEqual(fs.readdirSync(path.join(s, 'layers', 'sha256')), []);
});

test('rmi says what it freed and what stays; prune says what remains and what would free it', (t) => {
  const s = store();
  const ref = `${plain.addr}/test/five:v1`;
  t.is(ts(s, ['pull', '-q', ref]).code, 0);
  // Alone, the image's blobs and layers all go with it, and a prune after it has nothing to do.
  const alone = ts(s, ['rmi', ref]);
  t.regex(alone.stdout, /^removed 127\.0\.0\.1:\d+\/test\/five:v1: freed 7 blobs and 5 layers \([\d.]+ (KiB|MiB)\)\n$/);
  t.is(ts(s, ['prune']).stdout, 'nothing to remove: the store is empty\n');
  // With a bundle made from it, the layers stay for the bundle, and each step says so.
  t.is(ts(s, ['pull', '-q', ref]).code, 0);
  const bundle = path.join(s, 'bb');
  t.is(ts(s, ['bundle', ref, bundle]).code, 0);
  t.regex(ts(s, ['prune']).stdout, /^nothing to remove\nkept 7 blobs and 5 layers \([\d.]+ (KiB|MiB)\), in use by 1 image \(tsrun rmi IMAGE removes one\)\n$/);
  const held = ts(s, ['rmi', ref]);
  t.regex(
    held.stdout,
    new RegExp(
      `^removed .*/test/five:v1: freed 7 blobs and 0 layers \\([\\d.]+ (KiB|MiB)\\); kept the layers the bundle ${bundle} uses \\(tsrun bundle --remove ${bundle}, then tsrun prune, frees them\\)\n$`,
    ),
  );
  const prune = ts(s, ['prune']);
  t.regex(
    prune.stdout,
    new RegExp(
      `^nothing to remove\nkept 0 blobs and 5 layers \\([\\d.]+ (KiB|MiB)\\), in use by 1 bundle\n  the bundle ${bundle} holds layers of .*/test/five:v1, which was removed: tsrun bundle --remove ${bundle}, then tsrun prune, frees them\n$`,
    ),
  );
  t.is(ts(s, ['bundle', '--remove', bundle]).code, 0);
  t.regex(ts(s, ['prune']).stdout, /^removed 0 blobs and 5 layers \([\d.]+ (KiB|MiB)\)\n$/);
  t.deepEqual(fs.readdirSync(path.join(s, 'layers', 'sha256')), []);
  t.is(ts(s, ['prune']).stdout, 'nothing to remove: the store is empty\n');
});

// What a local user who is not root sees of the store and of a bundle (CVE-2021-41103 class):
// an image's setuid-root binary and its 0666 device node must be out of reach, or running the
// one gives that user euid 0 on the host and the other opens whatever device the image names.
test("an image's setuid binary and device node are out of reach of other local users (CVE-2021-41103 class)", async (t) => {
  const s = store();
  const img = layout.image(
    [
      base,
      await tarOf([
        { name: 'suid', body: fs.readFileSync('/bin/busybox'), mode: 0o4755, uid: 0, gid: 0 },
        { name: 'dev/', type: 'directory', mode: 0o755 },
        { name: 'dev/open-to-all', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 },
      ]),
    ],
    { Cmd: ['true'] },
  );
  layout.tag('suid', img);
  push(layout.dir, 'suid', `${plain.addr}/test/suid:v1`);
  fs.chmodSync(s, 0o755); // as /var/lib/tsrun is: open to all, so only the store's own modes protect
  t.is(ts(s, ['pull', `${plain.addr}/test/suid:v1`]).code, 0);
  const bundle = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-b-')), 'b');
  t.is(ts(s, ['bundle', `${plain.addr}/test/suid:v1`, bundle]).code, 0);
  fs.chmodSync(path.dirname(bundle), 0o755);
  const layerDirs = fs.readdirSync(path.join(s, 'layers', 'sha256')).map((h) => path.join(s, 'layers', 'sha256', h));
  const places = [...layerDirs.filter((d) => fs.existsSync(path.join(d, 'suid'))), path.join(bundle, 'rootfs')];
  t.is(places.length, 2);
  // setpriv keeps its capabilities up to its execve: a shell in between runs as nobody proper.
  const asNobody = (args: string[]) =>
    spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '/bin/busybox', 'sh', '-c', '"$@"', 'sh', ...args], { encoding: 'utf8' });
  for (const p of places) {
    t.true(fs.existsSync(path.join(p, 'suid')), `${p}/suid is there for root`);
    const run = asNobody([path.join(p, 'suid'), 'id', '-u']);
    t.regex(run.stderr, /Permission denied/, `nobody could run ${p}/suid: ${run.stdout}`);
    const dev = asNobody(['/bin/busybox', 'head', '-c', '0', path.join(p, 'dev', 'open-to-all')]);
    t.regex(dev.stderr, /Permission denied/, `nobody could open ${p}/dev/open-to-all`);
  }
  const ls = asNobody(['/bin/busybox', 'ls', path.join(s, 'blobs', 'sha256')]);
  t.regex(ls.stderr, /Permission denied/, 'the blobs are not listable');
  ts(s, ['bundle', '--remove', bundle]);
});

test('Docker schema 2 manifests (skopeo --format v2s2) pull and run the same', (t) => {
  push(layout.dir, 'five', `${plain.addr}/test/five-docker:v1`, { docker: true });
  const s = store();
  const p = ts(s, ['pull', `${plain.addr}/test/five-docker:v1`]);
  t.is(p.code, 0, p.stderr);
  const m = JSON.parse(fs.readFileSync(path.join(s, 'blobs', 'sha256', p.stdout.trim().split(' ')[1]!.slice(7)), 'utf8'));
  t.is(m.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
  const bundle = path.join(s, 'bundle');
  t.is(ts(s, ['bundle', `${plain.addr}/test/five-docker:v1`, bundle]).code, 0);
  t.regex(ts(s, ['run', bundle + '/']).stdout, /^hello from five layers\n/);
  ts(s, ['bundle', '--remove', bundle]);
});

test('a second pull of the same layers downloads and unpacks nothing again', (t) => {
  const s = store();
  t.is(ts(s, ['pull', `${plain.addr}/test/five:v1`]).code, 0);
  const layersBefore = fs.readdirSync(path.join(s, 'layers', 'sha256')).map((d) => fs.statSync(path.join(s, 'layers', 'sha256', d)).ino);
  const log = path.join(s, 'debug.json');
  t.is(ts(s, ['--debug', '--log-format', 'json', '--log', log, 'pull', `${plain.addr}/test/five:v1`]).code, 0);
  const steps = fs
    .readFileSync(log, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l).step?.kind);
  t.false(steps.includes('blob_fetched'));
  t.false(steps.includes('layer_unpacked'));
  t.deepEqual(
    fs.readdirSync(path.join(s, 'layers', 'sha256')).map((d) => fs.statSync(path.join(s, 'layers', 'sha256', d)).ino),
    layersBefore,
  );
});

test('each layer is unpacked as it downloads: with --concurrency 1 a layer is unpacked before the next blob is fetched', (t) => {
  const s = store();
  const log = path.join(s, 'debug.json');
  const r = ts(s, ['--debug', '--log-format', 'json', '--log', log, 'pull', '--concurrency', '1', `${plain.addr}/test/five:v1`]);
  t.is(r.code, 0, r.stderr);
  const steps = fs
    .readFileSync(log, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l).step)
    .filter((st) => st?.kind === 'blob_fetched' || st?.kind === 'layer_unpacked');
  // The config first, then each layer's blob and right after it that layer.
  t.deepEqual(
    steps.map((st) => st.kind),
    ['blob_fetched', ...Array.from({ length: 5 }, () => ['blob_fetched', 'layer_unpacked']).flat()],
  );
  for (let i = 1; i < steps.length; i += 2)
    t.true(steps[i + 1].detail.startsWith(steps[i].detail.split(' ')[0]), 'the unpacked layer is the blob just fetched');
  t.deepEqual(fs.readdirSync(path.join(s, 'blobs', 'sha256')).length, 5 + 2, 'every layer blob stored and verified, with the config and the manifest');
});

test('an interrupted download resumes where it stopped (Range)', (t) => {
  const s = store();
  const manifest = JSON.parse(fs.readFileSync(path.join(layout.dir, 'index.json'), 'utf8')).manifests.find(
    (m: { annotations: Record<string, string> }) => m.annotations['org.opencontainers.image.ref.name'] === 'five',
  );
  const m = JSON.parse(fs.readFileSync(path.join(layout.dir, 'blobs', 'sha256', manifest.digest.slice(7)), 'utf8'));
  const big = m.layers[0];
  const blob = fs.readFileSync(path.join(layout.dir, 'blobs', 'sha256', big.digest.slice(7)));
  fs.mkdirSync(path.join(s, 'ingest'), { recursive: true });
  fs.writeFileSync(path.join(s, 'ingest', `${big.digest.slice(7)}.partial`), blob.subarray(0, Math.floor(blob.length / 2)));
  const log = path.join(s, 'debug.json');
  const r = ts(s, ['--debug', '--log-format', 'json', '--log', log, 'pull', `${plain.addr}/test/five:v1`]);
  t.is(r.code, 0, r.stderr);
  t.regex(fs.readFileSync(log, 'utf8'), new RegExp(`${big.digest} ${big.size} bytes \\(resumed at ${Math.floor(blob.length / 2)}\\)`));
});

for (const kind of ['basic', 'token'] as const) {
  test(`${kind} auth: refused without credentials, pulled with --creds or a docker config.json, never printed`, async (t) => {
    const reg = await startRegistry(kind);
    regs.push(reg);
    push(layout.dir, 'five', `${reg.addr}/test/five:v1`, { creds: `${USER}:${PASSWORD}` });
    const s = store();
    const none = ts(s, ['pull', `${reg.addr}/test/five:v1`]);
    t.is(none.code, 1);
    t.regex(none.stderr, kind === 'basic' ? /authentication required|access denied/ : /token server .* refused|access denied/);
    const bad = ts(s, ['pull', '--creds', `${USER}:wrong`, `${reg.addr}/test/five:v1`]);
    t.is(bad.code, 1);
    const good = ts(s, ['pull', '--creds', `${USER}:${PASSWORD}`, `${reg.addr}/test/five:v1`]);
    t.is(good.code, 0, good.stderr);
    const cfgDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-dockercfg-'));
    fs.writeFileSync(
      path.join(cfgDir, 'config.json'),
      JSON.stringify({ auths: { [reg.addr]: { auth: Buffer.from(`${USER}:${PASSWORD}`).toString('base64') } } }),
    );
    const viaConfig = ts(store(), ['pull', `${reg.addr}/test/five:v1`], { env: { ...process.env, DOCKER_CONFIG: cfgDir } });
    t.is(viaConfig.code, 0, viaConfig.stderr);
    for (const out of [none, bad, good, viaConfig]) t.false(`${out.stdout}${out.stderr}`.includes(PASSWORD));
  });
}

test('a multi-platform index: the host platform by default, --platform for another', async (t) => {
  const idxLayout = new OciLayout(fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-oci-idx-')));
  const images = await Promise.all(
    ['amd64', 'arm64'].map(async (arch) => idxLayout.image([base, await tarOf([{ name: 'arch', body: `${arch}\n` }])], { Cmd: ['cat', '/arch'] }, { arch })),
  );
  idxLayout.tag('multi', idxLayout.index(images));
  push(idxLayout.dir, 'multi', `${plain.addr}/test/multi:v1`, { all: true });
  for (const [platform, want] of [
    [undefined, 'amd64'],
    ['linux/arm64', 'arm64'],
  ] as const) {
    const s = store();
    const p = ts(s, ['pull', ...(platform ? ['--platform', platform] : []), `${plain.addr}/test/multi:v1`]);
    t.is(p.code, 0, p.stderr);
    const bundle = path.join(s, 'bundle');
    t.is(ts(s, ['bundle', `${plain.addr}/test/multi:v1`, bundle]).code, 0);
    t.is(ts(s, ['run', bundle + '/']).stdout, `${want}\n`);
    ts(s, ['bundle', '--remove', bundle]);
  }
  const none = ts(store(), ['pull', '--platform', 'linux/s390x', `${plain.addr}/test/multi:v1`]);
  t.regex(none.stderr, /no manifest for platform linux\/s390x \(has: linux\/amd64, linux\/arm64\)/);
});

test('zstd-compressed layers', async (t) => {
  const z = new OciLayout(fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-oci-zstd-')));
  z.tag('z', z.image([base, await tarOf([{ name: 'zz', body: 'zstd layer\n' }])], { Cmd: ['cat', '/zz'] }, { compression: 'zstd' }));
  push(z.dir, 'z', `${plain.addr}/test/zstd:v1`);
  const s = store();
  t.is(ts(s, ['pull', `${plain.addr}/test/zstd:v1`]).code, 0);
  const bundle = path.join(s, 'bundle');
  t.is(ts(s, ['bundle', `${plain.addr}/test/zstd:v1`, bundle]).code, 0);
  t.is(ts(s, ['run', bundle + '/']).stdout, 'zstd layer\n');
  ts(s, ['bundle', '--remove', bundle]);
});

test('hostile or broken registries: corrupt blob, truncated blob, corrupt manifest, escaping layer', async (t) => {
  const reg = await startRegistry('plain');
  regs.push(reg);
  const h = new OciLayout(fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-oci-bad-')));
  const mk = async (name: string, extra: Buffer): Promise<{ manifest: string; layer: string }> => {
    const d = h.image([base, extra], { Cmd: ['true'] });
    h.tag(name, d);
    push(h.dir, name, `${reg.addr}/test/${name}:v1`);
    const m = JSON.parse(fs.readFileSync(path.join(h.dir, 'blobs', 'sha256', d.digest.slice(7)), 'utf8'));
    return { manifest: d.digest, layer: m.layers[1].digest };
  };
  const corrupt = await mk('corrupt', await tarOf([{ name: 'c', body: 'c'.repeat(4096) }]));
  const truncated = await mk('truncated', await tarOf([{ name: 't', body: 't'.repeat(4096) }]));
  const badManifest = await mk('badmanifest', await tarOf([{ name: 'm', body: 'm' }]));
  await mk('escape', await tarOf([{ name: '../../../tmp/escaped-by-layer', body: 'pwned' }]));
  const cf = registryBlobFile(reg, corrupt.layer);
  const data = fs.readFileSync(cf);
  data[data.length - 20] ^= 0xff;
  fs.writeFileSync(cf, data);
  const tf = registryBlobFile(reg, truncated.layer);
  fs.truncateSync(tf, Math.floor(fs.statSync(tf).size / 2));
  const mf = registryBlobFile(reg, badManifest.manifest);
  fs.writeFileSync(mf, fs.readFileSync(mf, 'utf8').replace('"schemaVersion":2', '"schemaVersion":2 '));
  const s = store();
  const cases: [string, RegExp][] = [
    ['corrupt', new RegExp(`blob ${corrupt.layer}: content hashes to sha256:`)],
    ['truncated', new RegExp(`blob ${truncated.layer}: got \\d+ bytes, expected \\d+`)],
    ['badmanifest', /manifest hashes to sha256:\w+ but the registry says/],
    ['escape', /climbs out with "\.\."/],
  ];
  for (const [name, msg] of cases) {
    const r = ts(s, ['pull', `${reg.addr}/test/${name}:v1`]);
    t.is(r.code, 1, name);
    t.regex(r.stderr, msg, name);
  }
  t.false(fs.existsSync('/tmp/escaped-by-layer'));
  // The store stays consistent: no failed image, no half-written blob, no stray layer.
  t.is(ts(s, ['images', '-q']).stdout, '');
  const blobs = fs.readdirSync(path.join(s, 'blobs', 'sha256')).map((b) => `sha256:${b}`);
  t.false(blobs.includes(corrupt.layer));
  t.false(blobs.includes(truncated.layer));
  t.deepEqual(
    fs.readdirSync(path.join(s, 'ingest')).filter((f) => !f.endsWith('.partial') || f.startsWith(truncated.layer.slice(7))),
    fs.readdirSync(path.join(s, 'ingest')).filter((f) => f.startsWith(truncated.layer.slice(7))),
  );
  t.deepEqual(
    fs.readdirSync(path.join(s, 'layers', 'sha256')).filter((d) => d.startsWith('.')),
    [],
    'no unpack leftovers',
  );
  t.is(ts(s, ['prune']).code, 0);
});

// A registry that lies: documents of any size, stalls after the headers, or never answers.
// Each pull ends within its bounds with an error that names what went wrong. The liar runs in
// a process of its own: this file's other tests block this one's event loop (spawnSync).
const LIAR = `
const http = require('http');
const hex = 'a'.repeat(64);
const manifest = (configSize) => JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: 'sha256:' + hex, size: configSize }, layers: [] });
const mt = { 'content-type': 'application/vnd.oci.image.manifest.v1+json' };
const server = http.createServer((req, res) => {
  const url = req.url || '';
  if (url === '/v2/') return res.end('{}');
  if (url === '/v2/lie/huge/manifests/v1') return res.writeHead(200, mt).end(' '.repeat(5 << 20));
  if (url === '/v2/lie/chunked/manifests/v1') {
    res.writeHead(200, mt); // no content-length: the size shows only as it arrives
    for (let i = 0; i < 6; i++) res.write(' '.repeat(1 << 20));
    return res.end();
  }
  if (url === '/v2/lie/stall/manifests/v1') { res.writeHead(200, { ...mt, 'content-length': '1000' }); return void res.write('{"schemaVersion"'); }
  if (url === '/v2/lie/silent/manifests/v1') return;
  if (url === '/v2/lie/bigconfig/manifests/v1') return res.writeHead(200, mt).end(manifest(300 << 20));
  if (url === '/v2/lie/blobstall/manifests/v1') return res.writeHead(200, mt).end(manifest(100));
  if (url === '/v2/lie/blobstall/blobs/sha256:' + hex) { res.writeHead(200, { 'content-length': '100' }); return void res.write('x'.repeat(10)); }
  res.writeHead(404).end();
});
server.listen(0, '127.0.0.1', () => process.stdout.write(String(server.address().port) + '\\n'));
setTimeout(() => process.exit(0), 120000).unref();
`;

test('a lying registry is bounded: huge manifests and configs refused, stalls timed out, nothing kept', async (t) => {
  const liar = spawn(process.execPath, ['-e', LIAR], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => liar.kill('SIGKILL'));
  const port = await new Promise<string>((resolve) => liar.stdout.once('data', (d: Buffer) => resolve(d.toString().trim())));
  const addr = `127.0.0.1:${port}`;
  const hex = 'a'.repeat(64);
  const s = store();
  const pull = (name: string) => ts(s, ['pull', `${addr}/lie/${name}:v1`], { env: { ...process.env, TSRUN_REGISTRY_TIMEOUT_MS: '1000' } });
  const cases: [string, RegExp][] = [
    ['huge', /manifest v1: larger than 4 MiB, the most a manifest or index may be/],
    ['chunked', /manifest v1: larger than 4 MiB/],
    ['stall', /manifest v1: the registry sent nothing for 1 s/],
    ['silent', /no answer within 1 s/],
    ['bigconfig', /the image config is declared as 314572800 bytes, more than 8 MiB/],
    ['blobstall', new RegExp(`blob sha256:${hex}: the registry sent nothing for 1 s`)],
  ];
  for (const [name, msg] of cases) {
    const t0 = Date.now();
    const r = pull(name);
    t.is(r.code, 1, `${name}: ${r.stdout}`);
    t.regex(r.stderr, msg, name);
    t.true(Date.now() - t0 < 20_000, `${name} ended within its bounds`);
  }
  t.is(ts(s, ['images', '-q']).stdout, '', 'no image recorded');
});

test("a mirror from hosts.toml serves another registry's names (path rewritten)", (t) => {
  const hosts = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-hosts-'));
  fs.mkdirSync(path.join(hosts, 'registry.example.test'));
  fs.writeFileSync(
    path.join(hosts, 'registry.example.test', 'hosts.toml'),
    `server = "https://registry.example.test"\n\n[host."http://${plain.addr}/v2"]\n  capabilities = ["pull", "resolve"]\n  override_path = true\n`,
  );
  const s = store();
  const r = ts(s, ['pull', '--hosts-dir', hosts, 'registry.example.test/test/five:v1']);
  t.is(r.code, 0, r.stderr);
  t.regex(ts(s, ['images', '-q']).stdout, /^registry\.example\.test\/test\/five:v1\n$/);
});

test('a non-distributable layer the registry lacks is fetched from its URLs', async (t) => {
  const reg = await startRegistry('plain');
  regs.push(reg);
  const l = new OciLayout(fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-oci-foreign-')));
  const extra = await tarOf([{ name: 'foreign', body: 'from a URL\n' }]);
  const gzBlob = zlib.gzipSync(extra);
  const served = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-httpd-'));
  fs.writeFileSync(path.join(served, 'layer.tar.gz'), gzBlob);
  const port = await freePort();
  // busybox httpd serves the layer as a plain web server would (its own process).
  const httpd = spawn('busybox', ['httpd', '-f', '-p', `127.0.0.1:${port}`, '-h', served], { stdio: 'ignore' });
  try {
    const baseDesc = l.blob(zlib.gzipSync(base), 'application/vnd.oci.image.layer.v1.tar+gzip');
    const foreign = { ...l.blob(gzBlob, 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip'), urls: [`http://127.0.0.1:${port}/layer.tar.gz`] };
    const cfg = l.blob(
      Buffer.from(
        JSON.stringify({
          architecture: 'amd64',
          os: 'linux',
          config: { Cmd: ['cat', '/foreign'] },
          rootfs: { type: 'layers', diff_ids: [sha256(base), sha256(extra)] },
        }),
      ),
      'application/vnd.oci.image.config.v1+json',
    );
    l.tag(
      'foreign',
      l.blob(
        Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: cfg, layers: [baseDesc, foreign] })),
        'application/vnd.oci.image.manifest.v1+json',
      ),
    );
    push(l.dir, 'foreign', `${reg.addr}/test/foreign:v1`);
    fs.rmSync(path.dirname(registryBlobFile(reg, foreign.digest)), { recursive: true, force: true });
    const listening = () =>
      new Promise<true | undefined>((r) =>
        net
          .connect(port, '127.0.0.1')
          .on('connect', function (this: net.Socket) {
            this.destroy();
            r(true);
          })
          .on('error', () => r(undefined)),
      );
    await until('busybox httpd listening', listening, 30_000, 50);
    const s = store();
    const p = ts(s, ['pull', `${reg.addr}/test/foreign:v1`]);
    t.is(p.code, 0, p.stderr);
    const bundle = path.join(s, 'bundle');
    t.is(ts(s, ['bundle', `${reg.addr}/test/foreign:v1`, bundle]).code, 0);
    t.is(ts(s, ['run', bundle + '/']).stdout, 'from a URL\n');
    ts(s, ['bundle', '--remove', bundle]);
  } finally {
    httpd.kill();
  }
});

test('bad references and unknown images are clear errors', (t) => {
  const s = store();
  t.regex(ts(s, ['pull', 'UPPER/case']).stderr, /invalid image reference "UPPER\/case": repository name must be lowercase/);
  t.regex(ts(s, ['pull', `${plain.addr}/test/nope:v1`]).stderr, /test\/nope: .*404/);
  t.regex(ts(s, ['bundle', 'never-pulled', path.join(s, 'x')]).stderr, /image never-pulled is not in the store/);
  t.regex(ts(s, ['rmi', 'never-pulled']).stderr, /image never-pulled is not in the store/);
});

// The image's /etc/passwd and /etc/group are read on the host to resolve its User: a fifo there
// blocked `tsrun bundle` (and the CRI server's CreateContainer) for ever, a zero device made it
// read half a GiB; only a regular file of bounded size is read.
test('an image whose /etc/passwd is a fifo or /etc/group a zero device is refused at once, never read', async (t) => {
  const s = store();
  const cases: [string, Parameters<typeof tarOf>[0], RegExp][] = [
    [
      'fifo',
      [
        { name: 'etc/', type: 'directory', mode: 0o755 },
        { name: 'etc/passwd', type: 'fifo', mode: 0o644 },
      ],
      /the image's \/etc\/passwd is not a regular file/,
    ],
    [
      'zero',
      [
        { name: 'etc/', type: 'directory', mode: 0o755 },
        { name: 'etc/passwd', body: 'app:x:1000:1000::/:/bin/sh\n' },
        { name: 'etc/group', type: 'character-device', devmajor: 1, devminor: 5, mode: 0o644 },
      ],
      /the image's \/etc\/group is not a regular file/,
    ],
  ];
  for (const [name, entries, msg] of cases) {
    const img = layout.image([base, await tarOf(entries)], { Cmd: ['true'], User: 'app:app' });
    layout.tag(`hostile-${name}`, img);
    push(layout.dir, `hostile-${name}`, `${plain.addr}/test/hostile-${name}:v1`);
    t.is(ts(s, ['pull', `${plain.addr}/test/hostile-${name}:v1`]).code, 0);
    const bundle = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-b-')), 'b');
    const r = ts(s, ['bundle', `${plain.addr}/test/hostile-${name}:v1`, bundle], { timeout: 20_000 });
    t.is(r.code, 1, `${name}: ${r.stderr}`);
    t.regex(r.stderr, msg, name);
    t.false(fs.existsSync(path.join(bundle, 'config.json')), `${name}: no bundle left`);
  }
});
