// Terminals: --console-socket hands the pty master to the caller (as containerd and podman
// expect); a foreground run relays the pty itself.
import test from 'ava';
import { spawn } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { makeBundle } from '../fixtures/busybox';
import { BUILD, newRoot, status, tsrun, uniqueId, waitFor } from '../helpers/tsrun';

const root = newRoot();

/** tsrun-recvtty listening on a socket; resolves with everything it printed once the pty closes. */
async function receiveTty(socket: string, input?: string): Promise<{ output: Promise<string> }> {
  const p = spawn(path.join(BUILD, 'tsrun-recvtty'), [socket, ...(input ? ['--input', input] : [])]);
  let out = '';
  p.stdout.on('data', (d) => (out += d));
  const done = new Promise<string>((resolve) => p.on('close', () => resolve(out)));
  await waitFor(() => out.includes('listening'));
  return { output: done };
}

test('--console-socket: the pty master reaches the socket; the process has the pty as its controlling terminal', async (t) => {
  const sock = path.join(os.tmpdir(), `${uniqueId('tty')}.sock`);
  const { output } = await receiveTty(sock);
  const id = uniqueId('tty');
  const bundle = makeBundle(['sh', '-c', 'tty; ls -l /proc/self/fd/0 | grep -o "/dev/pts/[0-9]*"; echo done'], (c) => (c.process!.terminal = true));
  const r = tsrun(root, ['run', '-d', '--console-socket', sock, '-b', bundle, id]);
  t.is(r.code, 0, r.stderr);
  const out = await output;
  t.regex(out, /pty \/dev\/pts\/\d+/);
  t.regex(out, /\/dev\/pts\/0\r?\n\/dev\/pts\/0\r?\ndone/);
  t.true(await waitFor(() => status(root, id) === 'stopped'));
  tsrun(root, ['delete', id]);
});

test('the pty carries input to the process', async (t) => {
  const sock = path.join(os.tmpdir(), `${uniqueId('tty')}.sock`);
  const { output } = await receiveTty(sock, 'hello-through-pty\n');
  const id = uniqueId('tty');
  const bundle = makeBundle(['sh', '-c', 'read line; echo "got:$line"'], (c) => (c.process!.terminal = true));
  t.is(tsrun(root, ['run', '-d', '--console-socket', sock, '-b', bundle, id]).code, 0);
  t.regex(await output, /got:hello-through-pty/);
  await waitFor(() => status(root, id) === 'stopped');
  tsrun(root, ['delete', id]);
});

test('exec --tty with a console socket', async (t) => {
  const id = uniqueId('xtty');
  t.is(tsrun(root, ['run', '-d', '-b', makeBundle(['sleep', '100']), id]).code, 0);
  const sock = path.join(os.tmpdir(), `${uniqueId('tty')}.sock`);
  const { output } = await receiveTty(sock);
  const r = tsrun(root, ['exec', '-d', '--tty', '--console-socket', sock, id, 'sh', '-c', 'tty']);
  t.is(r.code, 0, r.stderr);
  t.regex(await output, /\/dev\/pts\/\d+/);
  tsrun(root, ['delete', '-f', id]);
});

test('a foreground run with a terminal relays the pty through tsrun', (t) => {
  const bundle = makeBundle(['sh', '-c', 'tty; echo relay-ok'], (c) => (c.process!.terminal = true));
  const r = tsrun(root, ['run', '-b', bundle, uniqueId('fg')]);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /^\/dev\/pts\/0\r?\nrelay-ok/);
});

test('terminal without --console-socket in detached mode is refused before anything is made', (t) => {
  const id = uniqueId('notty');
  const r = tsrun(root, ['create', '-b', makeBundle(['true'], (c) => (c.process!.terminal = true)), id]);
  t.is(r.code, 1);
  t.regex(r.stderr, /needs --console-socket/);
  t.regex(tsrun(root, ['state', id]).stderr, /does not exist/);
});
