// What `tsrun pull` shows: on a terminal (a pty, from script(1)) a live bar per layer with bytes,
// rate and time left, redrawn in place; without a terminal one summary line; with -q nothing.
// The registry is Debian's docker-registry behind a throttling TCP proxy on loopback, so the
// bars have time to move.
import test from 'ava';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { busyboxRootfs } from '../fixtures/busybox';
import { OciLayout, push, tarOf, tarOfDir } from '../fixtures/oci-builder';
import { startRegistry, type Registry } from '../fixtures/registry';
import { newRoot, TSRUN, tsrunAsync } from '../helpers/tsrun';

const root = newRoot();
let registry: Registry;
let proxy: net.Server;
let ref: string;
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-pull-progress-'));
const store = (): string => fs.mkdtempSync(path.join(work, 'store-'));

/** Forwards to the registry, its answers in 128 KiB pieces 25 ms apart (about 5 MiB/s). */
function throttlingProxy(target: string): Promise<net.Server> {
  const [host, port] = target.split(':');
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(port), host!);
    client.pipe(upstream);
    let queue = Promise.resolve();
    upstream.on('data', (data: Buffer) => {
      upstream.pause();
      queue = queue.then(async () => {
        for (let i = 0; i < data.length; i += 128 << 10) {
          if (client.destroyed) return;
          client.write(data.subarray(i, i + (128 << 10)));
          await new Promise((r) => setTimeout(r, 25));
        }
        upstream.resume();
      });
    });
    upstream.on('end', () => void queue.then(() => client.end()));
    for (const s of [client, upstream]) s.on('error', () => (client.destroy(), upstream.destroy()));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** Runs a command on a pty (script -qec) without blocking this process (the proxy lives here). */
function onPty(command: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const p = spawn('script', ['-qec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    p.on('close', (code) => resolve({ code: code ?? -1, out }));
  });
}

test.before(async () => {
  registry = await startRegistry('plain');
  const layout = new OciLayout(fs.mkdtempSync(path.join(work, 'oci-')));
  // Random bytes do not compress: the layer is as big on the wire as on disk.
  const big = await tarOf([{ name: 'data/big.bin', body: randomBytes(3 << 20).toString('latin1') }]);
  layout.tag('v1', layout.image([tarOfDir(busyboxRootfs()), big], { Cmd: ['sh'] }));
  push(layout.dir, 'v1', `${registry.addr}/progress/app:v1`);
  proxy = await throttlingProxy(registry.addr);
  ref = `127.0.0.1:${(proxy.address() as net.AddressInfo).port}/progress/app:v1`;
});

test.after.always(async () => {
  proxy?.close();
  await registry?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

/* eslint-disable no-control-regex -- the tests read a terminal's escape sequences (ESC [ ...) */

// The screen as a person sees it at the end, and every line drawn on the way.
const frames = (out: string): string[] =>
  out
    .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '\n')
    .split(/[\r\n]+/)
    .map((l) => l.trim())
    .filter(Boolean);

test('on a terminal: a live bar per layer with bytes, rate and time left, then done', async (t) => {
  const r = await onPty(`${TSRUN} --root ${root} --store ${store()} pull ${ref}`);
  t.is(r.code, 0, r.out);
  const lines = frames(r.out);
  const ids = [...new Set(lines.map((l) => /^([0-9a-f]{12}): /.exec(l)?.[1]).filter(Boolean))];
  t.is(ids.length, 2, r.out);
  // Redrawn in place: the cursor goes up to rewrite the bars.
  t.regex(r.out, /\x1b\[1A/);
  // While pulling: bytes so far of the layer's size, a rate and the time left.
  t.true(
    lines.some((l) => /^[0-9a-f]{12}: pulling +\[=*>? *\] [\d.]+ (B|KiB|MiB)\/[\d.]+ MiB [\d.]+ (B|KiB|MiB)\/s ETA \d+s$/.test(l)),
    lines.join('\n'),
  );
  for (const id of ids)
    t.true(
      lines.some((l) => new RegExp(`^${id}: done +\\[=+\\] [\\d.]+ (KiB|MiB) in [\\d.]+ s \\([\\d.]+ (KiB|MiB)/s\\)$`).test(l)),
      `${id} done: ${lines.join('\n')}`,
    );
  t.regex(r.out, new RegExp(`pulled ${ref.replace(/[.]/g, '\\.')}: 2 layers, 2 fetched \\([\\d.]+ MiB in [\\d.]+ s, [\\d.]+ (KiB|MiB)/s\\)`));
  t.regex(r.out, /\x1b\[\?25h/, 'the cursor is shown again');
});

test('without a terminal: one summary line on stderr; the result on stdout', async (t) => {
  const s = store();
  const r = await tsrunAsync(root, ['--store', s, 'pull', ref]);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stderr, new RegExp(`^pulled ${ref.replace(/[.]/g, '\\.')}: 2 layers, 2 fetched \\([\\d.]+ MiB in [\\d.]+ s, [\\d.]+ (KiB|MiB)/s\\)\\n$`));
  t.regex(r.stdout, /^127\.0\.0\.1:\d+\/progress\/app:v1 sha256:[0-9a-f]{64}\n$/);
  const again = await tsrunAsync(root, ['--store', s, 'pull', ref]);
  t.regex(again.stderr, /^pulled .*: 2 layers, all already in the store\n$/);
});

test('-q: nothing but the result, on a terminal too', async (t) => {
  const r = await onPty(`${TSRUN} --root ${root} --store ${store()} pull -q ${ref}`);
  t.is(r.code, 0, r.out);
  t.regex(r.out, /^127\.0\.0\.1:\d+\/progress\/app:v1 sha256:[0-9a-f]{64}\r?\n$/);
  const plain = await tsrunAsync(root, ['--store', store(), 'pull', '--quiet', ref]);
  t.is(plain.stderr, '');
});
