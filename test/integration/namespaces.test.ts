// Namespaces, observed from inside the container.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { runScript } from '../helpers/run-in';
import { newRoot } from '../helpers/tsrun';

const root = newRoot();

test('every namespace in the config is new: its inode differs from the host one', (t) => {
  const kinds = ['pid', 'net', 'ipc', 'uts', 'mnt', 'cgroup'];
  const r = runScript(root, kinds.map((k) => `readlink /proc/self/ns/${k}`).join('; '));
  t.is(r.code, 0, r.stderr);
  const inside = r.stdout.trim().split('\n');
  kinds.forEach((k, i) => t.not(inside[i], fs.readlinkSync(`/proc/self/ns/${k}`), k));
  // Not asked for: the user and time namespaces stay the host's.
  const same = runScript(root, 'readlink /proc/self/ns/user; readlink /proc/self/ns/time');
  t.deepEqual(same.stdout.trim().split('\n'), [fs.readlinkSync('/proc/self/ns/user'), fs.readlinkSync('/proc/self/ns/time')]);
});

test('a namespace left out of the config is shared with the host', (t) => {
  const r = runScript(root, 'readlink /proc/self/ns/net', (c) => (c.linux!.namespaces = c.linux!.namespaces!.filter((n) => n.type !== 'network')));
  t.is(r.stdout.trim(), fs.readlinkSync('/proc/self/ns/net'));
});

test('pid namespace: the process is pid 1 and sees only its own processes', (t) => {
  const r = runScript(root, 'echo $$; ps -o pid,comm; true');
  const rows = r.stdout.trim().split('\n');
  t.is(rows[0], '1');
  t.deepEqual(
    rows.slice(2).map((l) => l.trim().split(/\s+/)),
    [
      ['1', 'sh'],
      ['2', 'ps'],
    ],
  );
});

test('uts namespace: hostname and domainname', (t) => {
  const r = runScript(root, 'hostname; cat /proc/sys/kernel/domainname', (c) => {
    c.hostname = 'box1';
    c.domainname = 'example.test';
  });
  t.is(r.stdout, 'box1\nexample.test\n', r.stderr);
});

test('cgroup namespace: the container sees its cgroup as the root', (t) => {
  const r = runScript(root, 'cat /proc/self/cgroup');
  t.is(r.code, 0, r.stderr);
  for (const line of r.stdout.trim().split('\n')) t.regex(line, /:\/$/, line);
});

test('user namespace: uid/gid maps written by the runtime; root inside is an unprivileged id outside', (t) => {
  const r = runScript(root, 'cat /proc/self/uid_map /proc/self/gid_map; id -u; grep ^Uid /proc/1/status', (c) => {
    c.linux!.namespaces!.push({ type: 'user' });
    c.linux!.uidMappings = [
      { containerID: 0, hostID: 100000, size: 1000 },
      { containerID: 1000, hostID: 300000, size: 64536 },
    ];
    c.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  });
  t.is(r.code, 0, r.stderr);
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/).join(' '));
  t.deepEqual(lines.slice(0, 4), ['0 100000 1000', '1000 300000 64536', '0 100000 65536', '0']);
});

test('time namespace: boottime offset shifts /proc/uptime', (t) => {
  const day = 86400;
  const hostUptime = (): number => Number(fs.readFileSync('/proc/uptime', 'utf8').split('.')[0]);
  // The host's uptime read before and after the run brackets the container's, shifted a year.
  const before = hostUptime();
  const r = runScript(root, 'cut -d. -f1 /proc/uptime', (c) => {
    c.linux!.namespaces!.push({ type: 'time' });
    c.linux!.timeOffsets = { boottime: { secs: 365 * day, nanosecs: 0 } };
  });
  const after = hostUptime();
  t.is(r.code, 0, r.stderr);
  const inside = Number(r.stdout);
  t.true(inside >= 365 * day + before && inside <= 365 * day + after, `${r.stdout} vs host ${before}..${after}`);
});

test('joining an existing namespace by path (setns): a network namespace made with ip netns', (t) => {
  const name = `tsrun-test-${process.pid}`;
  execFileSync('ip', ['netns', 'add', name]);
  try {
    execFileSync('ip', ['-n', name, 'link', 'add', 'probe0', 'type', 'veth', 'peer', 'name', 'probe1']);
    const r = runScript(root, 'ip -o link show | cut -d: -f2 | cut -d@ -f1', (c) => {
      c.linux!.namespaces = c.linux!.namespaces!.map((n) => (n.type === 'network' ? { type: 'network', path: `/var/run/netns/${name}` } : n));
    });
    t.is(r.code, 0, r.stderr);
    t.deepEqual(
      r.stdout
        .split('\n')
        .map((s) => s.trim())
        .filter(Boolean)
        .sort(),
      ['lo', 'probe0', 'probe1'],
    );
  } finally {
    execFileSync('ip', ['netns', 'del', name]);
  }
});

test('sysctl: namespaced keys are written inside the container', (t) => {
  const r = runScript(root, 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni', (c) => {
    c.linux!.sysctl = { 'net.ipv4.ip_forward': '1', 'kernel.shmmni': '2048' };
  });
  t.is(r.stdout, '1\n2048\n', r.stderr);
});
