// The same case on runc and on tsrun, expecting what a runc client observes (issue: OCI runtime
// compatibility). Each test runs both runtimes on one bundle, each with a --root of its own.
import test from 'ava';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { copyRootfs, makeBundle } from '../fixtures/busybox';
import { newRoot, runToFiles, TSRUN, uniqueId, type Result } from '../helpers/tsrun';

const RUNTIMES = { runc: 'runc', tsrun: TSRUN } as const;
type Name = keyof typeof RUNTIMES;
const roots: Record<Name, string> = { runc: newRoot(), tsrun: newRoot() };
const rt = (name: Name, args: string[]): Result => runToFiles(RUNTIMES[name], ['--root', roots[name], ...args]);

/** A running container (sleep) on each runtime; removed when the test ends. */
function running(t: import('ava').ExecutionContext, name: Name): string {
  const id = uniqueId(name);
  const bundle = makeBundle(['sleep', '100']);
  t.is(rt(name, ['create', '--bundle', bundle, id]).code, 0);
  t.is(rt(name, ['start', id]).code, 0);
  t.teardown(() => void rt(name, ['delete', '--force', id]));
  return id;
}

for (const name of Object.keys(RUNTIMES) as Name[]) {
  test(`${name}: kill ID 0 checks that the container lives (0), and fails once it is gone`, (t) => {
    const id = running(t, name);
    const alive = rt(name, ['kill', id, '0']);
    t.is(alive.code, 0, alive.stderr);
    t.is(rt(name, ['kill', id, 'KILL']).code, 0);
    // Once stopped, signal 0 is refused like any signal.
    for (let i = 0; i < 100 && JSON.parse(rt(name, ['state', id]).stdout).status !== 'stopped'; i++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    t.not(rt(name, ['kill', id, '0']).code, 0);
  });

  test(`${name}: ps ID -e -x and ps -- ID -o pid,comm take what follows the id as ps's own arguments`, (t) => {
    const id = running(t, name);
    const ex = rt(name, ['ps', id, '-e', '-x']);
    t.is(ex.code, 0, ex.stderr);
    t.regex(ex.stdout, /sleep 100/);
    const dashed = rt(name, ['ps', '--', id, '-o', 'pid,comm']);
    t.is(dashed.code, 0, dashed.stderr);
    t.regex(dashed.stdout, /^\s*PID COMMAND\n\s*\d+ sleep\n$/);
  });

  test(`${name}: exec's own failures exit 255; the process's status is its own`, (t) => {
    const id = running(t, name);
    t.is(rt(name, ['exec', id, 'sh', '-c', 'exit 3']).code, 3);
    t.is(rt(name, ['exec', id, 'no-such-binary']).code, 255, 'missing binary');
    t.is(rt(name, ['exec', 'no-such-container', 'true']).code, 255, 'unknown container');
    t.is(rt(name, ['exec', '--pid-file', '/nonexistent-dir/x.pid', id, 'true']).code, 255, 'pid file in a missing dir');
  });

  test(`${name}: exec -p takes a process.json without user (as uid 0)`, (t) => {
    const id = running(t, name);
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-pj-')), 'process.json');
    fs.writeFileSync(file, JSON.stringify({ args: ['id', '-u'], cwd: '/', env: ['PATH=/bin'] }));
    const r = rt(name, ['exec', '-p', file, id]);
    t.is(r.code, 0, r.stderr);
    t.is(r.stdout, '0\n');
  });
}

for (const name of Object.keys(RUNTIMES) as Name[]) {
  test(`${name}: exec into a paused container is refused, and with --ignore-paused runs once resumed`, async (t) => {
    const id = running(t, name);
    t.is(rt(name, ['pause', id]).code, 0);
    const refused = rt(name, ['exec', id, 'echo', 'hi']);
    t.not(refused.code, 0);
    t.regex(refused.stderr, /paused/);
    const late = new Promise<{ code: number; out: string }>((resolve) => {
      const p = spawn(RUNTIMES[name], ['--root', roots[name], 'exec', '--ignore-paused', id, 'echo', 'after resume'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      p.stdout.on('data', (d: Buffer) => (out += d));
      p.on('close', (code) => resolve({ code: code ?? -1, out }));
    });
    await new Promise((r) => setTimeout(r, 500));
    t.is(rt(name, ['resume', id]).code, 0);
    const r = await late;
    t.is(r.out, 'after resume\n');
    t.is(r.code, 0);
  });
}

// runc 1.1.5's spec has a cgroup namespace only on a pure cgroup v2 host.
test('spec: the namespaces runc spec writes on this host', (t) => {
  const dirs = { runc: fs.mkdtempSync(path.join(os.tmpdir(), 'runc-spec-')), tsrun: fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-spec-')) };
  for (const name of Object.keys(RUNTIMES) as Name[]) t.is(runToFiles(RUNTIMES[name], ['spec', '--bundle', dirs[name]]).code, 0);
  const ns = (dir: string) => (JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as { linux: { namespaces: { type: string }[] } }).linux.namespaces.map((n) => n.type).sort();
  t.deepEqual(ns(dirs.tsrun), ns(dirs.runc));
});

// Sub-cgroups made inside the container's own cgroup (a container that manages its cgroupfs
// does so) are the container's: delete --force removes the whole subtree, deepest first.
for (const name of Object.keys(RUNTIMES) as Name[]) {
  test(`${name}: delete --force removes sub-cgroups made inside the container's cgroup`, (t) => {
    const id = uniqueId(`sub${name}`);
    const cgroupsPath = `/tsrun-compat-${process.pid}/${id}`;
    const bundle = makeBundle(['sleep', '100'], (c) => (c.linux!.cgroupsPath = cgroupsPath));
    t.is(rt(name, ['create', '--bundle', bundle, id]).code, 0);
    t.is(rt(name, ['start', id]).code, 0);
    const made: string[] = [];
    for (const hier of ['memory', 'pids', 'freezer']) {
      const base = path.join('/sys/fs/cgroup', hier, cgroupsPath);
      if (!fs.existsSync(base)) continue;
      fs.mkdirSync(path.join(base, 'child', 'grandchild'), { recursive: true });
      made.push(path.join(base, 'child', 'grandchild'));
    }
    t.true(made.length > 0);
    const d = rt(name, ['delete', '--force', id]);
    t.is(d.code, 0, d.stderr);
    for (const m of made) t.false(fs.existsSync(path.dirname(path.dirname(m))), `${m} and the container's cgroup are gone`);
    for (const hier of fs.readdirSync('/sys/fs/cgroup')) {
      try {
        fs.rmdirSync(path.join('/sys/fs/cgroup', hier, `tsrun-compat-${process.pid}`));
      } catch {
        /* not made in this hierarchy, or the other runtime's test still uses it */
      }
    }
  });
}

// cgroup v1: memory.limit may never exceed memory.memsw.limit, so lifting the memory limit
// while a memory+swap limit is set must lift (and first write) memsw, as runc does.
for (const name of Object.keys(RUNTIMES) as Name[]) {
  test(`${name}: update --memory -1 while a memory+swap limit is set lifts both`, (t) => {
    const id = uniqueId(`mem${name}`);
    const cgroupsPath = `/tsrun-compat-${process.pid}/${id}`;
    const bundle = makeBundle(['sleep', '100'], (c) => {
      c.linux!.cgroupsPath = cgroupsPath;
      c.linux!.resources = { ...c.linux!.resources, memory: { limit: 64 << 20, swap: 128 << 20 } };
    });
    t.is(rt(name, ['create', '--bundle', bundle, id]).code, 0);
    t.teardown(() => {
      rt(name, ['delete', '--force', id]);
      for (const hier of fs.readdirSync('/sys/fs/cgroup')) {
        try {
          fs.rmdirSync(path.join('/sys/fs/cgroup', hier, `tsrun-compat-${process.pid}`));
        } catch {
          /* not here, or still in use */
        }
      }
    });
    const dir = path.join('/sys/fs/cgroup/memory', cgroupsPath);
    const read = (f: string) => Number(fs.readFileSync(path.join(dir, f), 'utf8'));
    t.is(read('memory.limit_in_bytes'), 64 << 20);
    const u = rt(name, ['update', '--memory', '-1', id]);
    t.is(u.code, 0, u.stderr);
    t.true(read('memory.limit_in_bytes') > 1 << 40, 'memory unlimited');
    t.true(read('memory.memsw.limit_in_bytes') > 1 << 40, 'memory+swap unlimited');
    // Down again, both at once: the smaller memory limit is written first.
    t.is(rt(name, ['update', '--memory', '32m', '--memory-swap', '48m', id]).code, 0);
    t.is(read('memory.limit_in_bytes'), 32 << 20);
    t.is(read('memory.memsw.limit_in_bytes'), 48 << 20);
  });
}

test('tsrun: linux.resources.memory.kernelTCP is applied on cgroup v1 (memory.kmem.tcp.limit_in_bytes)', (t) => {
  const id = uniqueId('tcp');
  const bundle = makeBundle(['sleep', '100'], (c) => (c.linux!.resources = { ...c.linux!.resources, memory: { kernelTCP: 16 << 20 } }));
  t.is(rt('tsrun', ['create', '--bundle', bundle, id]).code, 0);
  t.teardown(() => void rt('tsrun', ['delete', '--force', id]));
  t.is(Number(fs.readFileSync(path.join('/sys/fs/cgroup/memory/tsrun', id, 'memory.kmem.tcp.limit_in_bytes'), 'utf8')), 16 << 20);
});

for (const name of Object.keys(RUNTIMES) as Name[]) {
  test(`${name}: a rootfs whose /proc is a symlink is refused`, (t) => {
    const rootfs = copyRootfs();
    fs.rmSync(path.join(rootfs, 'proc'), { recursive: true, force: true });
    fs.symlinkSync('/tmp', path.join(rootfs, 'proc'));
    const id = uniqueId(`proclink${name}`);
    const r = rt(name, ['run', '--bundle', makeBundle(['true'], undefined, rootfs), id]);
    t.not(r.code, 0);
    t.regex(r.stderr, /must be mounted on (an )?ordinary directory/);
    rt(name, ['delete', '--force', id]);
    fs.rmSync(rootfs, { recursive: true, force: true });
  });
}

for (const name of Object.keys(RUNTIMES) as Name[]) {
  test(`${name}: a cwd only root may enter works for a non-root process; createContainer hooks run in the container's root`, (t) => {
    const rootfs = copyRootfs();
    fs.mkdirSync(path.join(rootfs, 'root-only'), { mode: 0o700 });
    fs.chmodSync(path.join(rootfs, 'root-only'), 0o700);
    const marker = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-hookcwd-')), 'cwd');
    const bundle = makeBundle(['sh', '-c', 'pwd; id -u'], (c) => {
      c.root = { path: rootfs, readonly: false };
      c.process!.cwd = '/root-only';
      c.process!.user = { uid: 1000, gid: 1000 };
      c.hooks = { createContainer: [{ path: '/bin/sh', args: ['sh', '-c', `pwd > ${marker}`] }] };
    }, rootfs);
    const r = rt(name, ['run', '--bundle', bundle, uniqueId(`cwd${name}`)]);
    t.is(r.code, 0, r.stderr);
    t.is(r.stdout, '/root-only\n1000\n');
    t.is(fs.readFileSync(marker, 'utf8').trim(), rootfs, 'the hook ran in the rootfs');
    fs.rmSync(rootfs, { recursive: true, force: true });
  });
}

for (const name of Object.keys(RUNTIMES) as Name[]) {
  test(`${name}: startContainer hooks run under the container's seccomp filter`, (t) => {
    const rootfs = copyRootfs();
    const bundle = makeBundle(['sh', '-c', 'ls -d /tmp/hook-made 2>/dev/null; echo done'], (c) => {
      c.root = { path: rootfs, readonly: false };
      c.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] };
      c.hooks = { startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'mkdir /tmp/hook-made'] }] };
    }, rootfs);
    const id = uniqueId(`scmp${name}`);
    const r = rt(name, ['run', '--bundle', bundle, id]);
    t.not(r.code, 0, `the hook's mkdir went through the filter: ${r.stdout}`);
    t.false(fs.existsSync(path.join(rootfs, 'tmp', 'hook-made')));
    rt(name, ['delete', '--force', id]);
    fs.rmSync(rootfs, { recursive: true, force: true });
  });
}

for (const name of Object.keys(RUNTIMES) as Name[]) {
  test(`${name}: the process's stdio becomes its user's (a uid-1000 process owns its stdout)`, (t) => {
    const bundle = makeBundle(['sh', '-c', 'stat -c %u /proc/self/fd/1'], (c) => (c.process!.user = { uid: 1000, gid: 1000 }));
    const r = rt(name, ['run', '--bundle', bundle, uniqueId(`stdio${name}`)]);
    t.is(r.code, 0, r.stderr);
    t.is(r.stdout, '1000\n');
  });
}

for (const name of Object.keys(RUNTIMES) as Name[]) {
  test(`${name}: a read-only /dev is filled first (its mounts and devices), then made read-only`, (t) => {
    const bundle = makeBundle(['sh', '-c', 'ls /dev/pts >/dev/null && echo pts; test -c /dev/null && echo null; touch /dev/x 2>/dev/null || echo read-only'], (c) => {
      const dev = c.mounts!.find((m) => m.destination === '/dev')!;
      dev.options = [...(dev.options ?? []), 'ro'];
    });
    const r = rt(name, ['run', '--bundle', bundle, uniqueId(`rodev${name}`)]);
    t.is(r.code, 0, r.stderr);
    t.is(r.stdout, 'pts\nnull\nread-only\n');
  });
}
