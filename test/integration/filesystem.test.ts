// The container's filesystem view: root, mounts and their flags, /dev, masked and read-only paths.
import test from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { copyRootfs, makeBundle } from '../fixtures/busybox';
import { runScript } from '../helpers/run-in';
import { newRoot, tsrun, uniqueId } from '../helpers/tsrun';

const root = newRoot();

function mountOptions(mounts: string, dest: string): string[] {
  const line = mounts.split('\n').find((l) => l.split(' ')[1] === dest);
  return line ? line.split(' ')[3]!.split(',') : [];
}

test('root is read-only when root.readonly; default mounts carry their flags', (t) => {
  const r = runScript(root, 'cat /proc/mounts; touch /x 2>&1 || true');
  t.is(r.code, 0, r.stderr);
  t.true(mountOptions(r.stdout, '/').includes('ro'));
  t.regex(r.stdout, /Read-only file system/);
  for (const o of ['nosuid', 'nodev', 'noexec']) t.true(mountOptions(r.stdout, '/dev/shm').includes(o), o);
  t.true(mountOptions(r.stdout, '/sys').includes('ro'));
  t.true(mountOptions(r.stdout, '/dev/pts').includes('noexec'));
  t.regex(r.stdout, /^proc \/proc proc /m);
  t.regex(r.stdout, /^mqueue \/dev\/mqueue mqueue /m);
  const rw = runScript(root, 'touch /x && echo wrote', (c) => (c.root = { path: copyRootfs(), readonly: false }));
  t.is(rw.stdout, 'wrote\n', rw.stderr);
});

test('bind mounts: ro and rw, files and directories, from the host', (t) => {
  const host = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-bind-'));
  fs.writeFileSync(path.join(host, 'hello'), 'from host\n');
  const r = runScript(root, 'cat /data/hello; echo new > /rw/made; touch /data/x 2>&1; cat /one-file; grep " /data " /proc/mounts', (c) => {
    c.mounts!.push({ destination: '/data', type: 'bind', source: host, options: ['rbind', 'ro'] });
    c.mounts!.push({ destination: '/rw', type: 'bind', source: host, options: ['rbind', 'rw'] });
    c.mounts!.push({ destination: '/one-file', source: path.join(host, 'hello'), options: ['bind', 'ro'] });
  });
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /^from host\n.*Read-only file system\nfrom host\n/s);
  t.true(mountOptions(r.stdout, '/data').includes('ro'));
  t.is(fs.readFileSync(path.join(host, 'made'), 'utf8'), 'new\n');
});

test('tmpfs with options; mounts are created in order, later ones on top of earlier', (t) => {
  const r = runScript(root, 'grep " /scratch" /proc/mounts', (c) => {
    c.mounts!.push({ destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'size=1m', 'mode=700'] });
    c.mounts!.push({ destination: '/scratch/inner', type: 'tmpfs', source: 'tmpfs', options: ['ro'] });
  });
  t.is(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  t.is(lines.length, 2);
  t.regex(lines[0]!, /^tmpfs \/scratch tmpfs rw,nosuid,.*size=1024k,mode=700/);
  t.regex(lines[1]!, /^tmpfs \/scratch\/inner tmpfs ro/);
});

test('default devices, linux.devices and /dev symlinks', (t) => {
  const r = runScript(
    root,
    'for d in null zero full random urandom tty mydev; do stat -c "%n %F %t:%T %a %u:%g" /dev/$d; done; for l in fd ptmx stdin; do readlink /dev/$l; done; echo x > /dev/null && echo null-ok',
    (c) => {
      c.linux!.devices = [{ type: 'c', path: '/dev/mydev', major: 1, minor: 3, fileMode: 0o620, uid: 7, gid: 8 }];
    },
  );
  t.is(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  t.is(lines[0], '/dev/null character special file 1:3 666 0:0');
  t.is(lines[5], '/dev/tty character special file 5:0 666 0:0');
  t.is(lines[6], '/dev/mydev character special file 1:3 620 7:8');
  t.deepEqual(lines.slice(7, 10), ['/proc/self/fd', 'pts/ptmx', '/proc/self/fd/0']);
  t.is(lines[10], 'null-ok');
});

test('masked paths read as empty; read-only paths refuse writes', (t) => {
  t.not(fs.readdirSync('/sys/firmware').length, 0, 'the host has something to hide');
  const script = 'wc -c < /proc/cpuinfo; ls -A /sys/firmware | wc -l; { echo 1 > /proc/sys/vm/overcommit_memory; } 2>&1; true';
  const r = runScript(root, script, (c) => {
    c.linux!.readonlyPaths = ['/proc/sys'];
    c.linux!.maskedPaths = ['/proc/cpuinfo', '/sys/firmware', '/does/not/exist'];
  });
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /^0\n0\n.*Read-only file system/s);
  const open = runScript(root, script, (c) => {
    c.linux!.readonlyPaths = [];
    c.linux!.maskedPaths = [];
  });
  t.notRegex(open.stdout, /^0\n0\n/, 'without the config the same paths are visible');
});

test('a symlink in the rootfs cannot lead a mount destination out of the rootfs (CVE-2019-16884 / CVE-2023-27561 class)', (t) => {
  const rootfs = copyRootfs();
  const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-outside-'));
  // Absolute and relative escapes: both must resolve inside the rootfs.
  fs.symlinkSync(outside, path.join(rootfs, 'abs-escape'));
  fs.symlinkSync('../../../../../../..' + outside, path.join(rootfs, 'rel-escape'));
  const r = runScript(root, 'grep -c " /tmp/tsrun-outside-" /proc/mounts; ls /abs-escape/ | wc -l', (c) => {
    c.root = { path: rootfs, readonly: false };
    c.mounts!.push({ destination: '/abs-escape/m1', type: 'tmpfs', source: 'tmpfs' });
    c.mounts!.push({ destination: '/rel-escape/m2', type: 'tmpfs', source: 'tmpfs' });
  });
  t.is(r.code, 0, r.stderr);
  t.deepEqual(fs.readdirSync(outside), [], 'nothing was created on the host side');
  t.true(fs.existsSync(path.join(rootfs, outside, 'm1')), 'the mount point was made inside the rootfs');
  t.true(fs.existsSync(path.join(rootfs, outside, 'm2')));
  t.false(fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(outside), 'no mount on the host');
});

test('root.path relative to the bundle; rootfsPropagation applied', (t) => {
  const bundle = makeBundle(['sh', '-c', 'grep -E "^[0-9]+ [0-9]+ [^ ]+ [^ ]+ / " /proc/self/mountinfo'], (c) => {
    c.linux!.rootfsPropagation = 'shared';
  });
  const cfgPath = path.join(bundle, 'config.json');
  const cfg = JSON.parse(fs.readFileSync(cfgPath, 'utf8'));
  fs.symlinkSync(cfg.root.path, path.join(bundle, 'rootfs'));
  cfg.root.path = 'rootfs';
  fs.writeFileSync(cfgPath, JSON.stringify(cfg));
  const r = tsrun(root, ['run', '-b', bundle, uniqueId('rel')]);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /shared:\d+/);
});
