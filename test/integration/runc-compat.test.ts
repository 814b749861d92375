// The same case on runc and on tsrun, expecting what a runc client observes (issue: OCI runtime
// compatibility). Each test runs both runtimes on one bundle, each with a --root of its own.
import test from 'ava';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RuntimeConfig } from '../../specs/oci/runtime-config';
import { busyboxRootfs, copyRootfs, makeBundle } from '../fixtures/busybox';
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
    for (let i = 0; i < 100 && JSON.parse(rt(name, ['state', id]).stdout).status !== 'stopped'; i++)
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
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
  const ns = (dir: string) =>
    (JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as { linux: { namespaces: { type: string }[] } }).linux.namespaces
      .map((n) => n.type)
      .sort();
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
    const bundle = makeBundle(
      ['sh', '-c', 'pwd; id -u'],
      (c) => {
        c.root = { path: rootfs, readonly: false };
        c.process!.cwd = '/root-only';
        c.process!.user = { uid: 1000, gid: 1000 };
        c.hooks = { createContainer: [{ path: '/bin/sh', args: ['sh', '-c', `pwd > ${marker}`] }] };
      },
      rootfs,
    );
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
    const bundle = makeBundle(
      ['sh', '-c', 'ls -d /tmp/hook-made 2>/dev/null; echo done'],
      (c) => {
        c.root = { path: rootfs, readonly: false };
        c.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] };
        c.hooks = { startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'mkdir /tmp/hook-made'] }] };
      },
      rootfs,
    );
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
    const bundle = makeBundle(
      ['sh', '-c', 'ls /dev/pts >/dev/null && echo pts; test -c /dev/null && echo null; touch /dev/x 2>/dev/null || echo read-only'],
      (c) => {
        const dev = c.mounts!.find((m) => m.destination === '/dev')!;
        dev.options = [...(dev.options ?? []), 'ro'];
      },
    );
    const r = rt(name, ['run', '--bundle', bundle, uniqueId(`rodev${name}`)]);
    t.is(r.code, 0, r.stderr);
    t.is(r.stdout, 'pts\nnull\nread-only\n');
  });
}

/** Removes `/sys/fs/cgroup/<each hierarchy>/<rel>` and what is below it, deepest first, where present. */
function removeCgroupTree(rel: string): void {
  for (const hier of fs.readdirSync('/sys/fs/cgroup')) {
    const top = path.join('/sys/fs/cgroup', hier, rel);
    if (!fs.existsSync(top)) continue;
    const dirs: string[] = [];
    const walk = (d: string): void => {
      dirs.push(d);
      for (const e of fs.readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(path.join(d, e.name));
    };
    walk(top);
    for (const d of dirs.reverse()) {
      try {
        fs.rmdirSync(d);
      } catch {
        /* still in use by the other runtime's test */
      }
    }
  }
}

/** The directory of `rel` in every v1 hierarchy and the hybrid cgroup2 tree that has it. */
const cgroupDirs = (rel: string): string[] =>
  fs
    .readdirSync('/sys/fs/cgroup')
    .map((h) => path.join('/sys/fs/cgroup', h, rel))
    .filter((d) => fs.existsSync(d));

// exec --cgroup: the process joins an existing sub-cgroup of the container's cgroup (runc 1.1).
for (const name of Object.keys(RUNTIMES) as Name[]) {
  test(`${name}: exec --cgroup joins a sub-cgroup (CTRL:SUB per hierarchy, SUB in all), and refuses paths out of the container's cgroup`, (t) => {
    const id = uniqueId(`sub${name}`);
    const parent = `tsrun-compat-${process.pid}-exec`;
    const bundle = makeBundle(['sleep', '100'], (c) => (c.linux!.cgroupsPath = `/${parent}/${id}`));
    t.is(rt(name, ['create', '--bundle', bundle, id]).code, 0);
    t.teardown(() => {
      rt(name, ['delete', '--force', id]);
      removeCgroupTree(parent);
    });
    t.is(rt(name, ['start', id]).code, 0);
    for (const h of ['memory', 'pids']) fs.mkdirSync(path.join('/sys/fs/cgroup', h, parent, id, 'sub'));
    const perController = rt(name, ['exec', '--cgroup', 'memory,pids:sub', id, 'cat', '/proc/self/cgroup']);
    t.is(perController.code, 0, perController.stderr);
    // The container has a cgroup namespace: its own cgroup is "/".
    t.deepEqual(
      perController.stdout
        .split('\n')
        .filter((l) => l.endsWith('/sub'))
        .map((l) => l.split(':')[1])
        .sort(),
      ['memory', 'pids'],
    );
    t.regex(perController.stdout, /:cpu:\/\n/, "the other hierarchies: the container's own cgroup");

    const out = rt(name, ['exec', '--cgroup', 'memory:../elsewhere', id, 'true']);
    t.is(out.code, 255);
    t.regex(out.stderr, /not a sub.cgroup path/);
    const missing = rt(name, ['exec', '--cgroup', 'memory:missing', id, 'true']);
    t.is(missing.code, 255);
    t.regex(missing.stderr, /missing/);

    // SUB alone: that path in every hierarchy (cpuset's filled, or it refuses tasks).
    for (const dir of cgroupDirs(path.join(parent, id))) {
      fs.mkdirSync(path.join(dir, 'sub'), { recursive: true });
      if (dir.includes('/cpuset/'))
        for (const f of ['cpuset.cpus', 'cpuset.mems']) fs.writeFileSync(path.join(dir, 'sub', f), fs.readFileSync(path.join(dir, f), 'utf8').trim());
    }
    const all = rt(name, ['exec', '--cgroup', 'sub', id, 'cat', '/proc/self/cgroup']);
    t.is(all.code, 0, all.stderr);
    t.deepEqual(
      all.stdout.split('\n').filter((l) => l && !l.endsWith(':/sub')),
      [],
      all.stdout,
    );
  });
}

test("tsrun: exec --cgroup refuses a sibling whose name starts with the container's (runc's prefix check lets it through)", (t) => {
  const id = uniqueId('subsib');
  const parent = `tsrun-compat-${process.pid}-sib`;
  const bundle = makeBundle(['sleep', '100'], (c) => (c.linux!.cgroupsPath = `/${parent}/${id}`));
  t.is(rt('tsrun', ['run', '-d', '--bundle', bundle, id]).code, 0);
  t.teardown(() => {
    rt('tsrun', ['delete', '--force', id]);
    removeCgroupTree(parent);
  });
  fs.mkdirSync(path.join('/sys/fs/cgroup/memory', parent, `${id}x`));
  const r = rt('tsrun', ['exec', '--cgroup', `memory:../${id}x`, id, 'true']);
  t.is(r.code, 255);
  t.regex(r.stderr, /not a sub-cgroup path/);
});

// A container placed in a frozen cgroup would never start: refused at once, never a hang.
for (const name of Object.keys(RUNTIMES) as Name[]) {
  test(`${name}: run -d and create into a frozen cgroup are refused ("unexpectedly frozen")`, (t) => {
    const parent = `tsrun-compat-${process.pid}-frozen-${name}`;
    const freezer = path.join('/sys/fs/cgroup/freezer', parent, 'ct');
    fs.mkdirSync(freezer, { recursive: true });
    t.teardown(() => {
      fs.writeFileSync(path.join(freezer, 'freezer.state'), 'THAWED');
      removeCgroupTree(parent);
    });
    fs.writeFileSync(path.join(freezer, 'freezer.state'), 'FROZEN');
    const bundle = makeBundle(['true'], (c) => (c.linux!.cgroupsPath = `/${parent}/ct`));
    for (const verb of [['run', '-d'], ['create']]) {
      const id = uniqueId(`frz${name}`);
      const r = runToFiles(RUNTIMES[name], ['--root', roots[name], ...verb, '--bundle', bundle, id], { timeout: 30_000 });
      t.is(r.code, 1, `${verb.join(' ')}: ${r.stderr}`);
      t.regex(r.stderr, /cgroup unexpectedly frozen/);
      t.false(fs.existsSync(path.join(roots[name], id)), 'no state is left');
    }
  });
}

test('tsrun: start of a created container whose cgroup was frozen since says so (runc waits for ever)', (t) => {
  const id = uniqueId('frzstart');
  t.is(rt('tsrun', ['create', '--bundle', makeBundle(['true']), id]).code, 0);
  t.teardown(() => void rt('tsrun', ['delete', '--force', id]));
  const freezer = path.join('/sys/fs/cgroup/freezer/tsrun', id, 'freezer.state');
  fs.writeFileSync(freezer, 'FROZEN');
  const r = runToFiles(TSRUN, ['--root', roots.tsrun, 'start', id], { timeout: 30_000 });
  t.is(r.code, 1, r.stderr);
  t.regex(r.stderr, /its cgroup is frozen/);
  fs.writeFileSync(freezer, 'THAWED');
  t.is(rt('tsrun', ['start', id]).code, 0, 'once thawed, it starts');
});

// A parent cgroup made by someone else with empty cpuset.cpus/mems (a new cpuset cgroup is
// empty): every level is filled from its parent, or joining fails with ENOSPC.
for (const name of Object.keys(RUNTIMES) as Name[]) {
  test(`${name}: a pre-made parent cgroup with an empty cpuset is filled from its own parent`, (t) => {
    const parent = `tsrun-compat-${process.pid}-cpuset-${name}`;
    fs.mkdirSync(path.join('/sys/fs/cgroup/cpuset', parent, 'mid'), { recursive: true });
    t.teardown(() => removeCgroupTree(parent));
    t.is(fs.readFileSync(path.join('/sys/fs/cgroup/cpuset', parent, 'mid', 'cpuset.cpus'), 'utf8').trim(), '');
    const r = rt(name, [
      'run',
      '--bundle',
      makeBundle(['cat', '/sys/fs/cgroup/cpuset/cpuset.cpus'], (c) => (c.linux!.cgroupsPath = `/${parent}/mid/ct`)),
      uniqueId(`cs${name}`),
    ]);
    t.is(r.code, 0, r.stderr);
    t.is(r.stdout, fs.readFileSync('/sys/fs/cgroup/cpuset/cpuset.cpus', 'utf8'));
  });
}

// Device rules are normalised as runc's devices emulator does: a rule inside a wider one, or
// with a letter that is not r, w or m, is merged rather than written as given.
for (const name of Object.keys(RUNTIMES) as Name[]) {
  test(`${name}: a redundant device rule with a stray access letter gives the devices.list runc gives`, (t) => {
    const bundle = makeBundle(['sort', '/sys/fs/cgroup/devices/devices.list'], (c) =>
      c.linux!.resources!.devices!.push({ allow: true, type: 'c', major: 1, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 11, access: 'rwa' }),
    );
    const r = rt(name, ['run', '--bundle', bundle, uniqueId(`dev${name}`)]);
    t.is(r.code, 0, r.stderr);
    t.is(
      r.stdout,
      [
        'b *:* m',
        'c *:* m',
        'c 10:200 rwm',
        'c 136:* rwm',
        'c 1:* rwm',
        'c 1:11 rw',
        'c 1:3 rwm',
        'c 1:5 rwm',
        'c 1:7 rwm',
        'c 1:8 rwm',
        'c 1:9 rwm',
        'c 5:0 rwm',
        'c 5:2 rwm',
        '',
      ].join('\n'),
    );
  });
}

// In a user namespace the init's root cannot enter a host directory only host root may: the
// runtime opens bind sources for it, as runc passes its mount sources.
for (const name of Object.keys(RUNTIMES) as Name[]) {
  test(`${name}: a user-namespaced container binds a source below a directory only host root may enter`, (t) => {
    const rootfs = copyRootfs();
    execFileSync('chown', ['-R', '-h', '200000:200000', rootfs]);
    const locked = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-locked-'));
    fs.chmodSync(locked, 0o700);
    fs.mkdirSync(path.join(locked, 'data'), { mode: 0o755 });
    fs.writeFileSync(path.join(locked, 'data', 'file'), 'host data\n', { mode: 0o644 });
    t.teardown(() => {
      fs.rmSync(rootfs, { recursive: true, force: true });
      fs.rmSync(locked, { recursive: true, force: true });
    });
    const map = [{ containerID: 0, hostID: 200000, size: 65536 }];
    const bundle = makeBundle(
      ['cat', '/data/file'],
      (c) => {
        c.root = { path: rootfs, readonly: false };
        c.linux!.namespaces!.push({ type: 'user' });
        c.linux!.uidMappings = map;
        c.linux!.gidMappings = map;
        c.mounts!.push({ destination: '/data', type: 'bind', source: path.join(locked, 'data'), options: ['rbind', 'ro'] });
      },
      rootfs,
    );
    const r = rt(name, ['run', '--bundle', bundle, uniqueId(`lock${name}`)]);
    t.is(r.code, 0, r.stderr);
    t.is(r.stdout, 'host data\n');
  });
}

// --no-pivot: the host's procfs and sysfs stay in the mount namespace, where the kernel would
// let a nested user namespace mount a fresh procfs; they are unmounted first, as runc does.
for (const name of Object.keys(RUNTIMES) as Name[]) {
  test(`${name}: with --no-pivot, a nested unshare -mrpf cannot mount a fresh procfs`, (t) => {
    const bundle = makeBundle(
      ['sh', '-c', 'unshare -mrpf true && echo userns; if unshare -mrpf mount -t proc proc /mnt 2>/dev/null; then echo mounted; else echo refused; fi'],
      (c) => {
        c.process!.user = { uid: 1000, gid: 1000 };
      },
    );
    const r = rt(name, ['run', '--no-pivot', '--bundle', bundle, uniqueId(`nopivot${name}`)]);
    t.is(r.code, 0, r.stderr);
    t.is(r.stdout, 'userns\nrefused\n');
  });
}

// No "mount" in linux.namespaces: the container shares the runtime's mount namespace (the spec's
// "inherit"), chrooted into its rootfs. Each runtime runs in a throwaway mount namespace of its
// own here, so that what runc leaves behind goes with it.
for (const name of Object.keys(RUNTIMES) as Name[]) {
  test(`${name}: a container without a mount namespace shares the runtime's and sees its rootfs as /`, (t) => {
    const bundle = makeBundle(['sh', '-c', 'readlink /proc/self/ns/mnt; test -x /bin/busybox && test ! -e /etc/debian_version && echo rootfs'], (c) => {
      c.linux!.namespaces = c.linux!.namespaces!.filter((n) => n.type !== 'mount');
      // runc refuses masked and read-only paths without a mount namespace (tsrun applies them).
      c.linux!.maskedPaths = [];
      c.linux!.readonlyPaths = [];
    });
    const script = `readlink /proc/self/ns/mnt; exec ${RUNTIMES[name]} --root ${roots[name]} run --bundle ${bundle} ${uniqueId(`nomnt${name}`)}`;
    const r = runToFiles('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script]);
    t.is(r.code, 0, r.stderr);
    const [runtime, container, seen] = r.stdout.split('\n');
    t.regex(runtime!, /^mnt:\[\d+\]$/);
    t.not(runtime, fs.readlinkSync('/proc/self/ns/mnt'), 'the throwaway namespace the runtime ran in');
    t.is(container, runtime, 'the container shares it');
    t.is(seen, 'rootfs');
  });
}

test("tsrun: without a mount namespace, masked paths and a read-only root apply, exec enters the container's root, delete (or a failed create) leaves no mount", (t) => {
  const id = uniqueId('nomntx');
  const noMountNs = (c: RuntimeConfig): void => void (c.linux!.namespaces = c.linux!.namespaces!.filter((n) => n.type !== 'mount'));
  const bundle = makeBundle(['sleep', '100'], noMountNs);
  const failing = makeBundle(['true'], (c) => {
    noMountNs(c);
    c.mounts!.push({ destination: '/data', type: 'nosuchfs', source: 'x' });
  });
  const rootfs = fs.realpathSync(busyboxRootfs());
  const script = [
    `T="${TSRUN} --root ${roots.tsrun}"`,
    `$T run -d --bundle ${bundle} ${id} </dev/null || exit 1`,
    `$T exec ${id} sh -c 'test -e /etc/debian_version || echo in-rootfs; touch /x 2>/dev/null || echo read-only; grep -c " /proc/sys " /proc/mounts'`,
    `echo mounts: $(grep -c " ${rootfs}" /proc/self/mountinfo)`,
    `$T delete --force ${id}`,
    `echo after: $(grep -c " ${rootfs}" /proc/self/mountinfo)`,
    `$T create --bundle ${failing} ${id}-bad </dev/null 2>/dev/null && echo created`,
    `echo after a failed create: $(grep -c " ${rootfs}" /proc/self/mountinfo)`,
  ].join('\n');
  const r = runToFiles('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script]);
  t.is(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  t.is(lines[0], 'in-rootfs');
  t.is(lines[1], 'read-only');
  t.true(Number(lines[2]) >= 1, 'the read-only paths are bound');
  t.regex(lines[3]!, /^mounts: [1-9]/);
  t.is(lines[4], 'after: 0');
  t.is(lines[5], 'after a failed create: 0');
});

// Two conditions on one syscall argument: libseccomp takes them only as separate rules (OR).
for (const name of Object.keys(RUNTIMES) as Name[]) {
  test(`${name}: two seccomp conditions on one argument match either value`, (t) => {
    const bundle = makeBundle(
      ['sh', '-c', 'trap "" USR1 USR2 HUP; for s in USR1 USR2 HUP; do kill -s $s $$ 2>/dev/null && echo $s sent || echo $s refused; done'],
      (c) => {
        c.linux!.seccomp = {
          defaultAction: 'SCMP_ACT_ALLOW',
          syscalls: [
            {
              names: ['kill'],
              action: 'SCMP_ACT_ERRNO',
              args: [
                { index: 1, value: 10, op: 'SCMP_CMP_EQ' },
                { index: 1, value: 12, op: 'SCMP_CMP_EQ' },
              ],
            },
          ],
        };
      },
    );
    const r = rt(name, ['run', '--bundle', bundle, uniqueId(`scarg${name}`)]);
    t.is(r.code, 0, r.stderr);
    t.is(r.stdout, 'USR1 refused\nUSR2 refused\nHUP sent\n');
  });
}

// An unknown capability: runtime-spec 1.1.0 and later say warn and go on; 1.0.x says error.
for (const name of Object.keys(RUNTIMES) as Name[]) {
  test(`${name}: an unknown capability in a 1.1+ config is warned about, and the container runs`, (t) => {
    const bundle = makeBundle(['true'], (c) => {
      c.ociVersion = '1.1.0';
      c.process!.capabilities!.bounding!.push('CAP_NO_SUCH_THING');
    });
    const r = rt(name, ['run', '--bundle', bundle, uniqueId(`cap${name}`)]);
    t.is(r.code, 0, r.stderr);
    t.regex(r.stderr, /warn.*CAP_NO_SUCH_THING/);
  });
}

test('an unknown capability in a 1.0.x config: tsrun refuses it as runtime-spec 1.0 says; runc 1.1.5 warns', (t) => {
  const bundle = makeBundle(['true'], (c) => {
    c.ociVersion = '1.0.2-dev';
    c.process!.capabilities!.bounding!.push('CAP_NO_SUCH_THING');
  });
  const refused = rt('tsrun', ['run', '--bundle', bundle, uniqueId('cap10')]);
  t.is(refused.code, 1);
  t.regex(refused.stderr, /process\.capabilities\.bounding\[3\]: unknown capability "CAP_NO_SUCH_THING"/);
  const runc = rt('runc', ['run', '--bundle', bundle, uniqueId('cap10')]);
  t.is(runc.code, 0, runc.stderr);
});
