// The runtime's own safety: no fd leaks into the container, the init binary out of reach,
// no cwd escape through a leaked fd.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { copyRootfs, makeBundle } from '../fixtures/busybox';
import { BUILD, TSRUN, newRoot, tsrun, uniqueId, waitFor } from '../helpers/tsrun';

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
  return fs
    .readFileSync(out, 'utf8')
    .trim()
    .split('\n')
    .sort((a, b) => Number(a) - Number(b));
}

test('the container inherits only stdio, or the fds passed with --preserve-fds (CVE-2024-21626 class: leaked fds)', (t) => {
  t.deepEqual(fdsSeenInside(3, 0), ['0', '1', '2']);
  t.deepEqual(fdsSeenInside(3, 2), ['0', '1', '2', '3', '4']);
});

test('the init runs from a sealed memfd, non-dumpable: the container cannot reach the runtime binary (CVE-2019-5736 class)', (t) => {
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
    const r = tsrun(root, [
      'run',
      '-b',
      makeBundle(['sh', '-c', 'ls -a . .. ../.. 2>/dev/null'], (c) => (c.process!.cwd = `/proc/self/fd/${fd}`)),
      uniqueId('cwd'),
    ]);
    t.false(r.stdout.includes(marker), `fd ${fd}: the host /tmp was reachable`);
  }
  fs.rmSync(path.join('/', 'tmp', marker));
});

// A create killed after its record was written but before the init reported its pid (and before
// the cgroup was made) leaves {"status":"creating","pid":0}. kill(2) with pid 0 is the caller's
// own process group: delete --force must clean such a record and signal nobody.
test('delete --force of a create killed before its pid was known signals no process group, and cleans up', async (t) => {
  const id = uniqueId('pid0');
  t.is(tsrun(root, ['create', '-b', makeBundle(['sleep', '100']), id]).code, 0);
  const file = path.join(root, id, 'state.json');
  const rec = JSON.parse(fs.readFileSync(file, 'utf8')) as { pid: number; cgroup: { dirs: Record<string, string> } };
  process.kill(rec.pid, 'SIGKILL');
  await waitFor(() => !fs.existsSync(`/proc/${rec.pid}`) || /^State:\s+Z/m.test(fs.readFileSync(`/proc/${rec.pid}/status`, 'utf8')));
  for (const d of Object.values(rec.cgroup.dirs)) await waitFor(() => (fs.existsSync(d) ? (fs.rmdirSync(d), true) : true) && !fs.existsSync(d));
  fs.writeFileSync(file, JSON.stringify({ ...rec, status: 'creating', pid: 0, pidStartTime: undefined }));
  // delete runs in a process group of its own beside a sentinel: that group is what pid 0 names.
  const r = spawnSync(
    'setsid',
    ['--wait', 'sh', '-c', `sleep 30 & s=$!; ${TSRUN} --root ${root} delete --force ${id}; echo "rc=$?"; kill -0 $s && echo sentinel-alive; kill $s`],
    { encoding: 'utf8', timeout: 60_000 },
  );
  t.is(r.stdout, 'rc=0\nsentinel-alive\n', r.stderr);
  t.false(fs.existsSync(path.join(root, id)), 'the record is gone');
  t.is(tsrun(root, ['state', id]).code, 1);
});

// --preserve-fds N hands fds 3..3+N-1 over: when the caller passed fewer, those numbers are
// tsrun's own (Node's event loop, the state dir's lock) and must never reach the container.
test('--preserve-fds beyond the fds the caller passed is refused, and nothing is left behind', (t) => {
  const id = uniqueId('pfd');
  const extras = [fs.openSync('/etc/hostname', 'r'), fs.openSync('/etc/hostname', 'r')];
  const out = path.join(os.tmpdir(), `${id}.out`);
  const outFd = fs.openSync(out, 'w+');
  const errFile = path.join(os.tmpdir(), `${id}.err`);
  const errFd = fs.openSync(errFile, 'w+');
  const r = spawnSync(TSRUN, ['--root', root, 'run', '--preserve-fds', '16', '-b', makeBundle(['sh', '-c', 'ls -1 /proc/$$/fd']), id], {
    stdio: ['ignore', outFd, errFd, ...extras],
    timeout: 60_000,
  });
  extras.forEach((fd) => fs.closeSync(fd));
  fs.closeSync(outFd);
  fs.closeSync(errFd);
  const stderr = fs.readFileSync(errFile, 'utf8');
  t.is(r.status, 1, `the container ran with tsrun's fds: ${fs.readFileSync(out, 'utf8')}`);
  t.regex(stderr, /--preserve-fds 16: fd 5 (is not open|\(.*\) was not passed by the caller)/);
  t.regex(stderr, /pass fds 3\.\.18 to tsrun, or a smaller --preserve-fds/);
  t.false(fs.existsSync(path.join(root, id)), 'no state dir');
  t.is(fs.readFileSync(out, 'utf8'), '');
  fs.rmSync(out);
  fs.rmSync(errFile);
  // The fds really passed still go through, and nothing more.
  t.deepEqual(fdsSeenInside(2, 2), ['0', '1', '2', '3', '4']);
});

// With no /dev tmpfs in the config, /dev/null is the image's: a symlink there must never become
// what covers a masked path (it would put a host file such as core_pattern in the container).
test("a masked path is never covered through the image's /dev/null symlink (CVE-2025-31133 class)", (t) => {
  const rootfs = copyRootfs();
  fs.mkdirSync(path.join(rootfs, 'dev'), { recursive: true });
  fs.rmSync(path.join(rootfs, 'dev', 'null'), { force: true });
  fs.symlinkSync('/proc/sys/kernel/core_pattern', path.join(rootfs, 'dev', 'null'));
  const before = fs.readFileSync('/proc/sys/kernel/core_pattern', 'utf8');
  const bundle = makeBundle(
    ['sh', '-c', 'cat /proc/timer_list; echo x > /proc/timer_list'],
    (c) => {
      c.mounts = c.mounts!.filter((m) => m.destination !== '/dev' && !m.destination.startsWith('/dev/'));
      c.linux!.maskedPaths = ['/proc/timer_list'];
      c.root!.readonly = false;
    },
    rootfs,
  );
  const id = uniqueId('devnull');
  const r = tsrun(root, ['run', '-b', bundle, id]);
  t.not(r.code, 0, `the container ran with a mask through the symlink: ${r.stdout}`);
  t.regex(r.stderr, /\/dev\/null in the container is not the null device/);
  t.is(fs.readFileSync('/proc/sys/kernel/core_pattern', 'utf8'), before, 'the host core_pattern is untouched');
  t.false(fs.existsSync(path.join(root, id)), 'nothing left behind');
  // A real null device node in the image is what masks, then.
  fs.rmSync(path.join(rootfs, 'dev', 'null'));
  spawnSync('mknod', ['-m', '666', path.join(rootfs, 'dev', 'null'), 'c', '1', '3']);
  const ok = tsrun(root, ['run', '-b', bundle, uniqueId('devnull')]);
  t.is(ok.stdout, '', ok.stderr);
  fs.rmSync(rootfs, { recursive: true, force: true });
});

// The terminal is bound on /dev/console (a default device of the runtime spec) from the pty's own
// fd, onto a target opened without following links: an image whose /dev/console is a symlink to
// a procfs file must not get the pty mounted over that file (runc 1.1.5 does: its container then
// sees a pty at /proc/sys/kernel/core_pattern), nor the file bound on /dev/console.
test("the terminal reaches /dev/console only through its own fd, never through an image's /dev/console symlink (CVE-2025-52565 class)", (t) => {
  const ok = tsrun(root, [
    'run',
    '-b',
    makeBundle(
      ['sh', '-c', '[ "$(stat -c %t:%T /dev/console)" = "$(stat -L -c %t:%T "$(tty)")" ] && echo console-is-the-tty'],
      (c) => (c.process!.terminal = true),
    ),
    uniqueId('console'),
  ]);
  t.is(ok.code, 0, ok.stderr);
  t.regex(ok.stdout, /console-is-the-tty/, "/dev/console is the container's terminal");

  const rootfs = copyRootfs();
  fs.rmSync(path.join(rootfs, 'dev'), { recursive: true, force: true });
  fs.mkdirSync(path.join(rootfs, 'dev', 'pts'), { recursive: true });
  fs.symlinkSync('/proc/sys/kernel/core_pattern', path.join(rootfs, 'dev', 'console'));
  const bundle = makeBundle(
    ['sh', '-c', 'stat -c %F /proc/sys/kernel/core_pattern /dev/console'],
    (c) => {
      // No /dev tmpfs: the image's /dev (and its link) is what the container gets; devpts stays.
      c.mounts = c.mounts!.filter((m) => m.destination !== '/dev');
      c.process!.terminal = true;
      c.root!.readonly = false;
    },
    rootfs,
  );
  const id = uniqueId('console');
  const r = tsrun(root, ['run', '-b', bundle, id]);
  t.not(r.code, 0, `the container ran with its terminal bound through the link: ${r.stdout}`);
  t.regex(r.stderr, /\/dev\/console in the container is a symlink: refusing to bind the terminal through it/);
  t.false(fs.existsSync(path.join(root, id)), 'nothing left behind');
  fs.rmSync(rootfs, { recursive: true, force: true });
});

/** A config-named volume (a host dir) holding a fake procfs file the container wants the runtime to trust. */
function fakeProcDir(files: Record<string, string>, links: Record<string, string> = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-fakeproc-'));
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  for (const [name, target] of Object.entries(links)) fs.symlinkSync(target, path.join(dir, name));
  return dir;
}

const BOUNDING = /^CapBnd:\s*0000000020000420$/m; // the default spec's three capabilities

// An image's symlink (/settings -> /proc/sys/kernel) turns a volume mounted on it into the
// container's /proc/sys/kernel once /proc is mounted; with a cap_last_cap of 0 there, a runtime
// that trusts it drops nothing from the bounding set, and a root process without
// no_new_privileges (Kubernetes' default) gets every capability at its first execve. runc
// refuses such a destination ("cannot be mounted because it is inside /proc"); so does tsrun.
test("a mount destination that an image's symlink leads into /proc is refused (CVE-2025-52881 class: a volume over /proc/sys/kernel)", (t) => {
  const rootfs = copyRootfs();
  fs.symlinkSync('/proc/sys/kernel', path.join(rootfs, 'settings'));
  const vol = fakeProcDir({ cap_last_cap: '0\n' });
  const bundle = makeBundle(
    ['sh', '-c', 'grep CapBnd /proc/self/status'],
    (c) => {
      c.process!.noNewPrivileges = false;
      c.mounts!.push({ destination: '/settings', type: 'bind', source: vol, options: ['rbind', 'rw'] });
    },
    rootfs,
  );
  const id = uniqueId('procredir');
  const r = tsrun(root, ['run', '-b', bundle, id]);
  t.not(r.code, 0, `the volume was mounted over the container's /proc/sys/kernel: ${r.stdout}`);
  t.regex(r.stderr, /mounts\[\d+\]: mount .* on \/settings: the destination resolves into \/proc through a symlink in the rootfs/);
  t.false(fs.existsSync(path.join(root, id)), 'nothing left behind');
  fs.rmSync(rootfs, { recursive: true, force: true });
  fs.rmSync(vol, { recursive: true, force: true });
});

// A config may still mount over parts of /proc (lxcfs does): what the container sees there is its
// own business, but the runtime's reads and writes (cap_last_cap, sysctls, oom_score_adj) go
// through its own procfs, so a fake file or a symlink out of the volume reaches nothing.
test("the runtime reads and writes procfs through its own /proc, never through mounts over the container's (CVE-2025-52881 class)", async (t) => {
  const victim = fakeProcDir({ file: 'untouched\n', oom: 'untouched\n' });
  const vol = fakeProcDir({ cap_last_cap: '0\n' }, { shmmax: '/victim/file' });
  const bundle = makeBundle(['sh', '-c', 'grep CapBnd /proc/self/status > /victim/capbnd'], (c) => {
    c.process!.noNewPrivileges = false;
    c.process!.oomScoreAdj = 500;
    c.linux!.sysctl = { 'kernel.shmmax': '123456' };
    c.mounts!.push(
      { destination: '/proc/sys/kernel', type: 'bind', source: vol, options: ['rbind', 'rw'] },
      { destination: '/proc/self/oom_score_adj', type: 'bind', source: path.join(victim, 'oom'), options: ['bind', 'rw'] },
      { destination: '/victim', type: 'bind', source: victim, options: ['rbind', 'rw'] },
    );
  });
  const id = uniqueId('procwrite');
  const c = tsrun(root, ['create', '-b', bundle, id]);
  t.is(c.code, 0, c.stderr);
  const pid = JSON.parse(tsrun(root, ['state', id]).stdout).pid as number;
  t.is(fs.readFileSync(`/proc/${pid}/oom_score_adj`, 'utf8').trim(), '500', 'oom_score_adj reached the init itself');
  const shm = spawnSync('nsenter', ['-t', String(pid), '-i', 'cat', '/proc/sys/kernel/shmmax'], { encoding: 'utf8' });
  t.is(shm.stdout.trim(), '123456', `the sysctl reached the container's ipc namespace: ${shm.stderr}`);
  t.is(tsrun(root, ['start', id]).code, 0);
  t.true(await waitFor(() => fs.existsSync(path.join(victim, 'capbnd')) && fs.readFileSync(path.join(victim, 'capbnd'), 'utf8').includes('\n')));
  t.regex(fs.readFileSync(path.join(victim, 'capbnd'), 'utf8'), BOUNDING, "the bounding set was dropped up to the kernel's own cap_last_cap");
  t.is(fs.readFileSync(path.join(victim, 'file'), 'utf8'), 'untouched\n', "the sysctl was not written through the volume's symlink");
  t.is(fs.readFileSync(path.join(victim, 'oom'), 'utf8'), 'untouched\n', 'oom_score_adj was not written into the file mounted over it');
  tsrun(root, ['delete', '-f', id]);
  fs.rmSync(victim, { recursive: true, force: true });
  fs.rmSync(vol, { recursive: true, force: true });
});
