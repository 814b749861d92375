// A tty exec's terminal comes to the CRI server as an fd over a unix socket: the server asks to
// listen, then starts the exec, whose init connects at once. The socket must be there when the
// call returns, however busy the thread pool that then waits for the connection is (under load
// the init found no socket: "connect to the console socket ...: No such file or directory").
import test from 'ava';
import { spawn } from 'node:child_process';
import { pbkdf2 } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { receiveFd } from '../../src/sys/native';

test('receiveFd listens before it returns, with the thread pool busy, and hands over the fd a sender passes', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-console-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  // Keep every thread of libuv's pool (4 by default) busy for a while.
  const busy = Array.from({ length: 8 }, () => new Promise((r) => pbkdf2('tsrun', 'salt', 200_000, 64, 'sha512', r)));
  const sock = path.join(dir, 'console.sock');
  const got = receiveFd(sock, 30_000);
  t.true(fs.existsSync(sock), 'the socket is there as soon as receiveFd returns');
  // The sender: what the init does with the pty master, here with a file it opened.
  const marker = path.join(dir, 'passed');
  fs.writeFileSync(marker, 'the passed file\n');
  const sender = spawn(
    'python3',
    [
      '-c',
      'import socket,sys,os; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); socket.send_fds(s, [b"/dev/pts/0"], [os.open(sys.argv[2], os.O_RDONLY)])',
      sock,
      marker,
    ],
    { stdio: 'inherit' },
  );
  // Listened for now: the sender may exit before the fd's promise resolves.
  const senderExited = new Promise((r) => sender.once('exit', r));
  const fd = await got;
  t.is(fs.readFileSync(fd, 'utf8'), 'the passed file\n');
  fs.closeSync(fd);
  await senderExited;
  t.false(fs.existsSync(sock), 'the socket is removed once used');
  await Promise.all(busy);
});

test('receiveFd takes a socket path longer than a unix address holds (a deep run dir), and the sender reaches it through the directory', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-console-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const deep = path.join(dir, 'd'.repeat(60), 'e'.repeat(60));
  fs.mkdirSync(deep, { recursive: true });
  const sock = path.join(deep, 'console.sock');
  t.true(sock.length > 108, sock);
  const got = receiveFd(sock, 30_000);
  t.true(fs.existsSync(sock), 'the socket is at its full path');
  const marker = path.join(dir, 'passed');
  fs.writeFileSync(marker, 'the passed file\n');
  const send =
    'import socket,sys,os; d=os.open(os.path.dirname(sys.argv[1]), os.O_PATH); s=socket.socket(socket.AF_UNIX); ' +
    's.connect("/proc/self/fd/%d/%s" % (d, os.path.basename(sys.argv[1]))); socket.send_fds(s, [b"/dev/pts/0"], [os.open(sys.argv[2], os.O_RDONLY)])';
  const sender = spawn('python3', ['-c', send, sock, marker], { stdio: 'inherit' });
  const senderExited = new Promise((r) => sender.once('exit', r));
  const fd = await got;
  t.is(fs.readFileSync(fd, 'utf8'), 'the passed file\n');
  fs.closeSync(fd);
  await senderExited;
  t.false(fs.existsSync(sock), 'the socket is removed once used');
});
