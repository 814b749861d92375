// containerd (Debian's 1.6, its runc shim) drives tsrun unchanged: `ctr run --runc-binary`.
import test from 'ava';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { busyboxOciLayout } from '../fixtures/oci-image';
import { TSRUN, waitFor } from '../helpers/tsrun';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-containerd-'));
const sock = path.join(work, 'containerd.sock');
let daemon: ChildProcess | undefined;

function ctr(args: string[]): { code: number; out: string } {
  const r = spawnSync('ctr', ['-a', sock, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

test.before(async () => {
  fs.writeFileSync(
    path.join(work, 'config.toml'),
    [
      'version = 2',
      `root = "${work}/root"`,
      `state = "${work}/state"`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      '[grpc]',
      `  address = "${sock}"`,
      '[ttrpc]',
      `  address = "${sock}.ttrpc"`,
    ].join('\n'),
  );
  const log = fs.openSync(path.join(work, 'containerd.log'), 'w');
  daemon = spawn('containerd', ['--config', path.join(work, 'config.toml')], { stdio: ['ignore', log, log] });
  if (!(await waitFor(() => fs.existsSync(sock), 20_000))) throw new Error('containerd did not start');
  const r = ctr(['images', 'import', '--base-name', 'tsrun.test/busybox', busyboxOciLayout().tar]);
  if (r.code !== 0) throw new Error(`ctr images import: ${r.out}`);
});

test.after.always(() => {
  daemon?.kill('SIGTERM');
});

test('ctr run: output and exit code come back through the runc shim', (t) => {
  const r = ctr(['run', '--rm', '--runc-binary', TSRUN, 'tsrun.test/busybox:latest', 'ctr1', 'sh', '-c', 'echo hello from containerd; exit 3']);
  t.is(r.code, 3, r.out);
  t.regex(r.out, /hello from containerd/);
});

test('ctr: detached task, exec into it, kill, remove', async (t) => {
  t.is(ctr(['run', '-d', '--runc-binary', TSRUN, 'tsrun.test/busybox:latest', 'ctr2', 'sleep', '100']).code, 0);
  const ex = ctr(['task', 'exec', '--exec-id', 'e1', 'ctr2', 'sh', '-c', 'echo from-exec; exit 4']);
  t.is(ex.code, 4, ex.out);
  t.regex(ex.out, /from-exec/);
  t.regex(ctr(['task', 'ls']).out, /ctr2\s+\d+\s+RUNNING/);
  t.is(ctr(['task', 'kill', '-s', 'KILL', 'ctr2']).code, 0);
  t.true(await waitFor(() => /ctr2\s+\d+\s+STOPPED/.test(ctr(['task', 'ls']).out), 10_000));
  t.is(ctr(['task', 'rm', 'ctr2']).code, 0);
  t.is(ctr(['containers', 'rm', 'ctr2']).code, 0);
});
