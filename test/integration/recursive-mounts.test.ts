// Recursive mount options (rro, rnoexec, ...): mount_setattr(AT_RECURSIVE) reaches the mounts
// below a bind, which "ro" (one MS_REMOUNT of the top mount) leaves writable.
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { makeBundle } from '../fixtures/busybox';
import { runScript } from '../helpers/run-in';
import { BUILD, TSRUN, leftovers, newRoot, runToFiles, uniqueId, type Result } from '../helpers/tsrun';

const root = newRoot();

// mount_setattr has one number on every architecture (it came after the syscall tables merged).
const SYS_MOUNT_SETATTR = 442;

/** A host directory with a tmpfs mounted on its "sub" directory; unmounted when the test ends. */
function hostTreeWithSubmount(t: { teardown(fn: () => void): void }): string {
  const host = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-rro-'));
  const sub = path.join(host, 'sub');
  fs.mkdirSync(sub);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tsrun-rro', sub]);
  t.teardown(() => {
    spawnSync('umount', ['-l', sub]);
    fs.rmSync(host, { recursive: true, force: true });
  });
  fs.writeFileSync(path.join(sub, 'hello'), 'in the submount\n');
  return host;
}

const WRITE_BOTH =
  'cat /data/sub/hello; for f in /data/top /data/sub/made; do if echo x > $f; then echo "$f written"; fi; done 2>&1; grep " /data" /proc/mounts';

test('["rbind","ro"] leaves a mount below the bind writable: the gap rro closes', (t) => {
  const host = hostTreeWithSubmount(t);
  const r = runScript(root, WRITE_BOTH, (c) => {
    c.mounts!.push({ destination: '/data', type: 'bind', source: host, options: ['rbind', 'ro'] });
  });
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /^in the submount\n/);
  t.regex(r.stdout, /\/data\/top: Read-only file system/);
  t.regex(r.stdout, /\/data\/sub\/made written/);
  t.is(fs.readFileSync(path.join(host, 'sub', 'made'), 'utf8'), 'x\n', 'the write reached the host');
});

test('["rbind","rro"] makes the bind and every mount below it read-only', (t) => {
  const host = hostTreeWithSubmount(t);
  const r = runScript(root, WRITE_BOTH, (c) => {
    c.mounts!.push({ destination: '/data', type: 'bind', source: host, options: ['rbind', 'rro'] });
  });
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /^in the submount\n/, 'the submount is still there and readable');
  t.regex(r.stdout, /\/data\/top: Read-only file system/);
  t.regex(r.stdout, /\/data\/sub\/made: Read-only file system/);
  t.notRegex(r.stdout, /written/);
  const lines = r.stdout.split('\n').filter((l) => / \/data(\/sub)? /.test(l));
  t.is(lines.length, 2, r.stdout);
  for (const l of lines) t.is(l.split(' ')[3]!.split(',')[0], 'ro', l);
  t.false(fs.existsSync(path.join(host, 'sub', 'made')));
  t.notThrows(() => fs.writeFileSync(path.join(host, 'sub', 'host-write'), 'ok'), "the host's own mounts stay writable");
});

test('other recursive options reach the submount too: rnoexec', (t) => {
  const host = hostTreeWithSubmount(t);
  fs.writeFileSync(path.join(host, 'sub', 'prog'), '#!/bin/sh\necho ran\n', { mode: 0o755 });
  const script = '/data/sub/prog; true';
  const plain = runScript(root, script, (c) => {
    c.mounts!.push({ destination: '/data', type: 'bind', source: host, options: ['rbind', 'noexec'] });
  });
  t.is(plain.code, 0, plain.stderr);
  t.is(plain.stdout, 'ran\n', 'noexec alone stops at the top mount');
  const rec = runScript(root, script, (c) => {
    c.mounts!.push({ destination: '/data', type: 'bind', source: host, options: ['rbind', 'rnoexec'] });
  });
  t.is(rec.code, 0, rec.stderr);
  t.regex(rec.stdout + rec.stderr, /Permission denied/);
  t.notRegex(rec.stdout, /ran/);
});

// runc ignores recursive options on a mount that is not a bind; crun applies them. A mount the
// config calls read-only must not come out writable, so tsrun applies them as crun does.
test('rro on a fresh (non-bind) tmpfs makes it read-only', (t) => {
  const r = runScript(root, 'touch /scratch/x 2>&1; grep " /scratch " /proc/mounts', (c) => {
    c.mounts!.push({ destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['rro', 'size=1m'] });
  });
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /Read-only file system/);
  t.regex(r.stdout, /^tmpfs \/scratch tmpfs ro,/m);
});

test('a kernel without mount_setattr: rro fails with a clear error, no container is left', (t) => {
  const host = hostTreeWithSubmount(t);
  const id = uniqueId('nomsa');
  const bundle = makeBundle(['sh', '-c', 'echo x > /data/sub/made'], (c) => {
    c.mounts!.push({ destination: '/data', type: 'bind', source: host, options: ['rbind', 'rro'] });
  });
  const r = withoutSyscalls([SYS_MOUNT_SETATTR], ['--root', root, 'run', '-b', bundle, id]);
  t.not(r.code, 0);
  t.regex(
    r.stderr,
    /recursive mount options .* of \/data need mount_setattr\(2\), which this kernel does not have \(Linux 5\.12 or later\): Function not implemented/,
  );
  t.false(fs.existsSync(path.join(host, 'sub', 'made')), 'the container never ran');
  t.deepEqual(leftovers(root, id), []);
  // Without rro the same kernel runs the container: only the recursive options need the syscall.
  const plain = withoutSyscalls([SYS_MOUNT_SETATTR], ['--root', root, 'run', '-b', makeBundle(['true']), uniqueId('nomsa')]);
  t.is(plain.code, 0, plain.stderr);
});

test('features lists the recursive mount options', (t) => {
  const r = spawnSync(TSRUN, ['features'], { encoding: 'utf8' });
  const f = JSON.parse(r.stdout) as { mountOptions: string[] };
  for (const o of ['rro', 'rrw', 'rnosuid', 'rnodev', 'rnoexec', 'rnoatime', 'rnosymfollow']) t.true(f.mountOptions.includes(o), o);
});

/** tsrun as it runs on a kernel without the given syscalls (they fail with ENOSYS). */
function withoutSyscalls(nrs: number[], args: string[]): Result {
  return runToFiles(path.join(BUILD, 'tsrun-enosys'), [nrs.join(','), TSRUN, ...args]);
}
