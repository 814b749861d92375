// The runtime's own safety: no fd leaks into the container, the init binary out of reach,
// no cwd escape through a leaked fd.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { makeBundle } from '../fixtures/busybox';
import { BUILD, TSRUN, newRoot, tsrun, uniqueId } from '../helpers/tsrun';

const root = newRoot();

function fdsSeenInside(extraFds: number, preserve: number): string[] {
  const out = path.join(os.tmpdir(), `${uniqueId('fds')}.out`);
  const outFd = fs.openSync(out, 'w+');
  const extras = Array.from({ length: extraFds }, () => fs.openSync('/etc/hostname', 'r'));
  // No pipeline: while sh sets one up, its own pipe fds would show.
  const bundle = makeBundle(['sh', '-c', 'ls -1 /proc/$$/fd; true']);
  const args = ['--root', root, 'run', ...(preserve ? ['--preserve-fds', String(preserve)] : []), '-b', bundle, uniqueId('fds')];
  // fds 3.. of tsrun are open files, as a careless caller (or a leaking parent) would leave them.
  const r = spawnSync(TSRUN, args, { stdio: ['ignore', outFd, 'inherit', ...extras] });
  extras.forEach((fd) => fs.closeSync(fd));
  fs.closeSync(outFd);
  if (r.status !== 0) throw new Error(`run failed: ${r.status}`);
  return fs.readFileSync(out, 'utf8').trim().split('\n').sort((a, b) => Number(a) - Number(b));
}

test('the container inherits only stdio, or the fds passed with --preserve-fds', (t) => {
  t.deepEqual(fdsSeenInside(3, 0), ['0', '1', '2']);
  t.deepEqual(fdsSeenInside(3, 2), ['0', '1', '2', '3', '4']);
});

test('the init runs from a sealed memfd, non-dumpable: the container cannot reach the runtime binary', (t) => {
  const id = uniqueId('exe');
  const binary = path.join(BUILD, 'tsrun-init');
  const before = createHash('sha256').update(fs.readFileSync(binary)).digest('hex');
  t.is(tsrun(root, ['create', '-b', makeBundle(['sleep', '100']), id]).code, 0);
  const pid = JSON.parse(tsrun(root, ['state', id]).stdout).pid as number;
  t.regex(fs.readlinkSync(`/proc/${pid}/exe`), /^\/memfd:tsrun-init/, 'the waiting init is a memfd copy, not the file on disk');
  // From inside the container (an exec joins it while its init still waits), try the attacks.
  const attack = tsrun(root, ['exec', id, 'sh', '-c', 'echo pwned >> /proc/1/exe; cat /proc/1/environ; ls -l /proc/1/exe']);
  t.regex(attack.stderr, /can't create \/proc\/1\/exe: (Permission denied|Operation not permitted|Text file busy)/);
  t.regex(attack.stderr, /environ'?: Permission denied/, 'non-dumpable: /proc/1 is closed to the container');
  const after = createHash('sha256').update(fs.readFileSync(binary)).digest('hex');
  t.is(after, before);
  tsrun(root, ['delete', '-f', id]);
});

test('a cwd through /proc/self/fd cannot escape into the host (CVE-2024-21626)', (t) => {
  const marker = `host-only-${process.pid}`;
  fs.writeFileSync(path.join('/', 'tmp', marker), '');
  for (let fd = 3; fd <= 9; fd++) {
    const r = tsrun(root, ['run', '-b', makeBundle(['sh', '-c', 'ls -a . .. ../.. 2>/dev/null'], (c) => (c.process!.cwd = `/proc/self/fd/${fd}`)), uniqueId('cwd')]);
    t.false(r.stdout.includes(marker), `fd ${fd}: the host /tmp was reachable`);
  }
  fs.rmSync(path.join('/', 'tmp', marker));
});
