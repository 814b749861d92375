// Resource limits enforced, not just written (cgroup v1 on this host; the v2 lane runs these
// against a pure cgroup v2 guest), and pause/resume/update/events.
import test from 'ava';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RuntimeConfig } from '../../specs/oci/runtime-config';
import { copyRootfs, makeBundle } from '../fixtures/busybox';
import { runScript } from '../helpers/run-in';
import { leftovers, newRoot, status, TSRUN, tsrun, uniqueId, waitFor } from '../helpers/tsrun';

const root = newRoot();
const v2 = fs.existsSync('/sys/fs/cgroup/cgroup.controllers');
// Inside the container the cgroup mount shows the container's own cgroups.
const file = (v1: string, v2file: string): string => (v2 ? `/sys/fs/cgroup/${v2file}` : `/sys/fs/cgroup/${v1}`);

test('a memory limit OOM-kills, and `events` reports the OOM', async (t) => {
  const id = uniqueId('oom');
  // `events` counts OOM kills from when it starts: the container waits for /mnt/go, which the
  // test makes once events has printed (so it is watching), not for a guessed delay.
  // The pipeline raises its own oom_score_adj: a second OOM, before the kernel has reaped tail,
  // must take head, not the shell that reports tail's status (it did, 1 run in 5, on cgroup v2).
  const sync = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-oom-sync-'));
  const script =
    'until [ -e /mnt/go ]; do sleep 0.1; done; (echo 1000 > /proc/self/oom_score_adj; head -c 200000000 /dev/zero | tail > /dev/null); echo tail-exited-$?; sleep 100';
  const bundle = makeBundle(['sh', '-c', script], (c) => {
    c.linux!.resources = { memory: { limit: 32 * 1024 * 1024, swap: 32 * 1024 * 1024 } };
    c.mounts!.push({ destination: '/mnt', type: 'bind', source: sync, options: ['rbind', 'rw'] });
  });
  const out = path.join(os.tmpdir(), `${id}.out`);
  const outFd = fs.openSync(out, 'w');
  t.is(tsrun(root, ['create', '-b', bundle, id], { stdio: ['ignore', outFd, 'inherit'] }).code, 0);
  const events = spawn(TSRUN, ['--root', root, 'events', '--interval', '1s', id]);
  let lines = '';
  events.stdout.on('data', (d) => (lines += d));
  t.is(tsrun(root, ['start', id]).code, 0);
  // Generous: under the v2 lane's emulation, starting node alone takes seconds.
  t.true(await waitFor(() => lines.includes('"type":"stats"'), 120_000), 'a stats event every interval');
  fs.writeFileSync(path.join(sync, 'go'), '');
  t.true(await waitFor(() => lines.includes('"type":"oom"'), 60_000), `events printed: ${lines.slice(0, 300)}`);
  t.true(
    await waitFor(() => fs.readFileSync(out, 'utf8').includes('tail-exited-137'), 60_000),
    `the process over the limit was killed; the container printed ${JSON.stringify(fs.readFileSync(out, 'utf8'))}, its status is ${status(root, id)}`,
  );
  const stats = JSON.parse(lines.split('\n').find((l) => l.includes('"type":"stats"')) ?? '{}');
  t.true(stats.data?.memory?.usage?.limit === 32 * 1024 * 1024, 'stats carry the limit');
  tsrun(root, ['delete', '-f', id]);
  await waitFor(() => events.exitCode !== null, 60_000);
  t.not(events.exitCode, null, 'events ends when the container is gone');
  fs.closeSync(outFd);
  fs.rmSync(sync, { recursive: true, force: true });
});

test('pids.max stops a fork bomb', (t) => {
  // 40 forks against a limit of 10: the kernel refuses the rest (pids.events "max"), the peak stays at 10.
  // busybox sh gives up at the first refused fork: bomb from a subshell.
  const r = runScript(
    root,
    `(for i in $(seq 40); do sleep 10 & done) 2>/dev/null; sleep 1.5; cat ${file('pids/pids.events', 'pids.events')} ${file('pids/pids.peak', 'pids.peak')}`,
    (c) => {
      c.linux!.resources = { pids: { limit: 10 } };
    },
  );
  t.is(r.code, 0, r.stderr);
  const refused = Number(/max (\d+)/.exec(r.stdout)?.[1]);
  const peak = Number(r.stdout.trim().split('\n').pop());
  t.true(refused >= 1, `forks refused: ${refused}`);
  t.is(peak, 10, 'the peak is the limit');
});

test('a cpu quota throttles a busy loop (cpu.stat) and events --stats shows it', (t) => {
  const busy = 'end=$(($(date +%s)+2)); while [ $(date +%s) -lt $end ]; do :; done';
  const r = runScript(root, `${busy}; cat ${file('cpu/cpu.stat', 'cpu.stat')}`, (c) => {
    c.linux!.resources = { cpu: { quota: 20000, period: 100000 } };
  });
  t.is(r.code, 0, r.stderr);
  const throttled = Number(/nr_throttled (\d+)/.exec(r.stdout)?.[1]);
  t.true(throttled > 5, r.stdout);
  const free = runScript(root, `${busy}; cat ${file('cpu/cpu.stat', 'cpu.stat')}`);
  t.is(Number(/nr_throttled (\d+)/.exec(free.stdout)?.[1] ?? 0), 0, 'without a quota nothing is throttled');
});

test('pause freezes the container (no progress, state paused); resume thaws it', async (t) => {
  const host = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-freeze-'));
  const counter = path.join(host, 'n');
  const id = uniqueId('frz');
  const bundle = makeBundle(['sh', '-c', 'i=0; while true; do i=$((i+1)); echo $i > /data/n; sleep 0.01; done'], (c) => {
    c.mounts!.push({ destination: '/data', type: 'bind', source: host, options: ['rbind'] });
  });
  t.is(tsrun(root, ['run', '-d', '-b', bundle, id]).code, 0);
  await waitFor(() => fs.existsSync(counter) && Number(fs.readFileSync(counter, 'utf8')) > 3);
  t.is(tsrun(root, ['pause', id]).code, 0);
  t.is(status(root, id), 'paused');
  t.regex(tsrun(root, ['pause', id]).stderr, /cannot pause container .*paused/);
  const frozenAt = fs.readFileSync(counter, 'utf8');
  await new Promise((r) => setTimeout(r, 400));
  t.is(fs.readFileSync(counter, 'utf8'), frozenAt, 'no progress while frozen');
  t.is(tsrun(root, ['resume', id]).code, 0);
  t.is(status(root, id), 'running');
  t.true(await waitFor(() => Number(fs.readFileSync(counter, 'utf8')) > Number(frozenAt) + 3), 'progress after resume');
  t.regex(tsrun(root, ['resume', id]).stderr, /cannot resume container .*not paused/);
  t.is(tsrun(root, ['pause', id]).code, 0);
  t.is(tsrun(root, ['delete', '--force', id]).code, 0, 'a paused container can be force-deleted');
  t.deepEqual(leftovers(root, id), []);
});

test('devices: a device denied by the cgroup cannot be opened; allowed, it can', (t) => {
  const withLoop =
    (allow: boolean) =>
    (c: RuntimeConfig): void => {
      c.linux!.devices = [{ type: 'b', path: '/dev/testloop', major: 7, minor: 0, fileMode: 0o600 }];
      c.linux!.resources = { devices: [{ allow: false, access: 'rwm' }, ...(allow ? [{ allow: true, type: 'b', major: 7, minor: 0, access: 'r' }] : [])] };
    };
  const denied = runScript(root, 'head -c 1 /dev/testloop > /dev/null && echo opened', withLoop(false));
  t.regex(denied.stderr, /Operation not permitted/);
  t.notRegex(denied.stdout, /opened/);
  const allowed = runScript(root, 'head -c 1 /dev/testloop > /dev/null && echo opened', withLoop(true));
  t.regex(allowed.stdout, /opened/, allowed.stderr);
  const writeDenied = runScript(root, 'echo x > /dev/testloop', withLoop(true));
  t.regex(writeDenied.stderr, /Operation not permitted/, 'read-only access refuses writes');
});

test('seccomp: a denied syscall returns the configured errno; KILL_PROCESS kills', (t) => {
  const base =
    (action: 'SCMP_ACT_ERRNO' | 'SCMP_ACT_KILL_PROCESS') =>
    (c: RuntimeConfig): void => {
      c.mounts!.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs' });
      c.linux!.seccomp = {
        defaultAction: 'SCMP_ACT_ALLOW',
        architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
        syscalls: [{ names: ['mkdir', 'mkdirat', 'no_such_syscall'], action, errnoRet: 38 }],
      };
    };
  const r = runScript(root, 'mkdir /tmp/x; echo rc=$?; grep ^Seccomp: /proc/self/status; touch /tmp/file && echo touched', base('SCMP_ACT_ERRNO'));
  t.regex(r.stderr, /mkdir: can't create directory '\/tmp\/x': Function not implemented/);
  t.regex(r.stdout, /rc=1\nSeccomp:\s+2\ntouched/);
  t.regex(r.stderr, /syscalls unknown to this libseccomp were skipped: no_such_syscall/);
  const k = runScript(root, 'exec mkdir /tmp/x', (c) => {
    base('SCMP_ACT_KILL_PROCESS')(c);
    c.linux!.namespaces = c.linux!.namespaces!.filter((n) => n.type !== 'pid');
  });
  t.is(k.code, 128 + 31, 'killed by SIGSYS');
});

test('seccomp: an invalid profile is refused before anything is made', (t) => {
  for (const [seccomp, msg] of [
    [{ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_PDP11'] }, /linux\.seccomp: architectures: unknown architecture SCMP_ARCH_PDP11/],
    [{ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_BOGUS'] }, /linux\.seccomp: flags: unknown flag/],
    [
      { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] },
      /linux\.seccomp: listenerPath: SCMP_ACT_NOTIFY needs a listenerPath/,
    ],
    [{ defaultAction: 'SCMP_ACT_BOGUS' }, /linux\.seccomp\.defaultAction/],
  ] as const) {
    const id = uniqueId('badsc');
    const r = tsrun(root, [
      'create',
      '-b',
      makeBundle(
        ['true'],
        (c) => (c.linux!.seccomp = seccomp as unknown as RuntimeConfig['linux'] extends infer L ? (L extends { seccomp?: infer S } ? S : never) : never),
      ),
      id,
    ]);
    t.is(r.code, 1);
    t.regex(r.stderr, msg);
    t.deepEqual(leftovers(root, id), []);
  }
});

test('a user-namespaced root cannot touch host-owned files', (t) => {
  const host = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-owned-'));
  fs.chmodSync(host, 0o755);
  fs.writeFileSync(path.join(host, 'secret'), 'host data\n', { mode: 0o644 });
  const rootfs = copyRootfs();
  const r = runScript(root, 'cat /data/secret; echo x >> /data/secret; touch /data/new; chown 0 /data/secret; id -u; ls -ln /data/secret', (c) => {
    c.root = { path: rootfs, readonly: false };
    c.linux!.namespaces!.push({ type: 'user' });
    c.linux!.uidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
    c.linux!.gidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
    c.mounts!.push({ destination: '/data', type: 'bind', source: host, options: ['rbind'] });
  });
  t.regex(r.stdout, /^host data\n0\n/, r.stderr);
  t.regex(r.stderr, /can't create \/data\/secret: Permission denied/);
  t.regex(r.stderr, /touch: \/data\/new: Permission denied/);
  t.regex(r.stderr, /chown: \/data\/secret: (Operation not permitted|Invalid argument)/);
  t.regex(r.stdout, /65534\s+65534/, 'host root appears as the overflow id');
  t.is(fs.readFileSync(path.join(host, 'secret'), 'utf8'), 'host data\n');
  t.false(fs.existsSync(path.join(host, 'new')));
});

test("update changes a running container's limits, seen from inside", (t) => {
  const id = uniqueId('upd');
  // Sleeps for good: in the v2 lane under load each tsrun call can take tens of seconds.
  t.is(
    tsrun(root, [
      'run',
      '-d',
      '-b',
      makeBundle(['sleep', '100000'], (c) => (c.linux!.resources = { memory: { limit: 64 * 1024 * 1024 }, pids: { limit: 50 } })),
      id,
    ]).code,
    0,
  );
  const read = (): string => {
    const r = tsrun(root, ['exec', id, 'cat', file('memory/memory.limit_in_bytes', 'memory.max'), file('pids/pids.max', 'pids.max')]);
    return r.code === 0 ? r.stdout : `exec failed (${r.code}): ${r.stderr}`;
  };
  t.is(read(), `${64 * 1024 * 1024}\n50\n`);
  t.is(tsrun(root, ['update', '--memory', '48m', '--pids-limit', '7', id]).code, 0);
  t.is(read(), `${48 * 1024 * 1024}\n7\n`);
  // containerd's shim sends the resources as JSON on stdin.
  const r = tsrun(root, ['update', '--resources', '-', id], { input: JSON.stringify({ pids: { limit: 9 } }), stdio: ['pipe', 'pipe', 'pipe'] });
  t.is(r.code, 0, r.stderr);
  t.is(read(), `${48 * 1024 * 1024}\n9\n`);
  t.regex(tsrun(root, ['update', '--memory', 'lots', id]).stderr, /--memory: invalid size "lots"/);
  tsrun(root, ['delete', '-f', id]);
});

test('limits the host cannot provide are errors naming them, and nothing is left behind', (t) => {
  const cases: [RuntimeConfig['linux'], RegExp][] = v2
    ? [[{ resources: { network: { classID: 1 } } }, /net_cls and net_prio do not exist in cgroup v2/]]
    : [
        [{ resources: { unified: { 'memory.high': '1000000' } } }, /linux\.resources\.unified: raw cgroup v2 keys need a cgroup v2 host/],
        [{ resources: { network: { classID: 1 } } }, /the net_cls controller is not mounted on this host/],
      ];
  for (const [linux, msg] of cases) {
    const id = uniqueId('nores');
    const r = tsrun(root, ['create', '-b', makeBundle(['true'], (c) => Object.assign(c.linux!, linux)), id]);
    t.is(r.code, 1);
    t.regex(r.stderr, msg);
    t.deepEqual(leftovers(root, id), []);
  }
});

test('an AppArmor profile or SELinux label on a host without them is refused', (t) => {
  const a = tsrun(root, ['create', '-b', makeBundle(['true'], (c) => (c.process!.apparmorProfile = 'docker-default')), uniqueId('aa')]);
  t.regex(a.stderr, /process\.apparmorProfile: "docker-default" requested, but (AppArmor is not enabled on this host|tsrun cannot apply)/);
  const s = tsrun(root, ['create', '-b', makeBundle(['true'], (c) => (c.process!.selinuxLabel = 'system_u:system_r:container_t:s0')), uniqueId('se')]);
  t.regex(s.stderr, /process\.selinuxLabel: .* requested, but/);
});

test('kill --all reaches every process, also ones that keep forking', async (t) => {
  const id = uniqueId('killall');
  t.is(tsrun(root, ['run', '-d', '-b', makeBundle(['sh', '-c', 'while true; do sleep 10 & sleep 0.05; done']), id]).code, 0);
  await new Promise((r) => setTimeout(r, 300));
  t.is(tsrun(root, ['kill', '--all', id, 'KILL']).code, 0);
  t.true(await waitFor(() => status(root, id) === 'stopped'));
  t.true(await waitFor(() => JSON.parse(tsrun(root, ['ps', '--format', 'json', id]).stdout || '[]').length === 0));
  tsrun(root, ['delete', id]);
});

test('seccomp SCMP_ACT_NOTIFY: the listener gets the notify fd with the state; without an agent the call fails ENOSYS', async (t) => {
  const { spawn: spawnChild } = await import('node:child_process');
  const sock = path.join(os.tmpdir(), `${uniqueId('agent')}.sock`);
  const agent = spawnChild(path.resolve(__dirname, '..', '..', '..', 'build', 'Release', 'tsrun-recvtty'), [sock]);
  let heard = '';
  agent.stdout.on('data', (d) => (heard += d));
  await waitFor(() => heard.includes('listening'));
  const r = runScript(root, 'mkdir /tmp/x; echo rc=$?', (c) => {
    c.mounts!.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs' });
    c.linux!.seccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      listenerPath: sock,
      listenerMetadata: 'hello-agent',
      syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }],
    };
  });
  t.regex(r.stdout, /rc=1/);
  t.regex(r.stderr, /Function not implemented/);
  await waitFor(() => agent.exitCode !== null);
  const msg = JSON.parse(
    heard
      .split('\n')
      .find((l) => l.startsWith('pty '))!
      .slice(4),
  );
  t.deepEqual(msg.fds, ['seccompFd']);
  t.is(msg.metadata, 'hello-agent');
  t.is(msg.state.status, 'creating');
  t.true(msg.state.pid > 0);
});
