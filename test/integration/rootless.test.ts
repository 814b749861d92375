// Rootless: tsrun run by a real unprivileged user the test makes (useradd, its own subordinate
// ids), as runc --rootless and podman's default run. On this host (hybrid cgroups) the user gets
// no cgroup; in the cgroup v2 lane it gets a delegated subtree and its limits apply there.
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import type { RuntimeConfig } from '../../specs/oci/runtime-config';
import { detectCgroupLayout } from '../../src/cgroups/detect';
import { busyboxRootfs } from '../fixtures/busybox';
import { createRootlessUser, userRootfs, type RootlessUser } from '../helpers/rootless-user';
import { uniqueId, waitFor } from '../helpers/tsrun';

const V2 = detectCgroupLayout().mode === 'v2';
let user: RootlessUser;

test.before(() => {
  user = createRootlessUser();
});
test.after.always(() => {
  user?.remove();
});

/** A bundle owned by the user, with `tsrun spec --rootless`'s config (written by the user), edited. */
function bundle(args: string[], edit?: (c: RuntimeConfig) => void): string {
  const dir = userRootfs(user, busyboxRootfs());
  const r = user.tsrunAs(['spec', '--rootless', '--bundle', dir]);
  if (r.code !== 0) throw new Error(`tsrun spec --rootless: ${r.stderr}`);
  const file = path.join(dir, 'config.json');
  const c = JSON.parse(fs.readFileSync(file, 'utf8')) as RuntimeConfig;
  c.process!.terminal = false;
  c.process!.args = args;
  c.root = { path: 'rootfs', readonly: false };
  edit?.(c);
  fs.writeFileSync(file, JSON.stringify(c));
  return dir;
}

const subMaps = (c: RuntimeConfig): void => {
  c.linux!.uidMappings = [
    { containerID: 0, hostID: user.uid, size: 1 },
    { containerID: 1, hostID: user.sub.start, size: user.sub.count },
  ];
  c.linux!.gidMappings = [
    { containerID: 0, hostID: user.gid, size: 1 },
    { containerID: 1, hostID: user.sub.start, size: user.sub.count },
  ];
};

test.serial('tsrun spec --rootless writes what runc spec --rootless writes', (t) => {
  const dir = fs.mkdtempSync(path.join(user.home, 'spec-'));
  fs.chownSync(dir, user.uid, user.gid);
  t.is(user.run('runc', ['spec', '--rootless'], { cwd: dir }).code, 0);
  const runc = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as RuntimeConfig;
  fs.rmSync(path.join(dir, 'config.json'));
  const r = user.tsrunAs(['spec', '--rootless'], { cwd: dir });
  t.is(r.code, 0, r.stderr);
  const ours = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as RuntimeConfig;
  // The version and the hostname name the runtime; runc 1.1 adds no cgroup namespace on a hybrid host either.
  for (const c of [runc, ours]) {
    delete (c as Partial<RuntimeConfig>).ociVersion;
    delete c.hostname;
  }
  t.deepEqual(ours, runc);
  t.deepEqual(ours.linux!.uidMappings, [{ containerID: 0, hostID: user.uid, size: 1 }]);
});

test.serial('an ordinary user runs a container: root inside is the user outside, state under $XDG_RUNTIME_DIR', (t) => {
  const dir = bundle([
    'sh',
    '-c',
    'id -u; cat /proc/self/uid_map; stat -c %u /bin/busybox; echo made > /root/made; grep -c . /proc/self/setgroups; cat /proc/self/setgroups',
  ]);
  const id = uniqueId('rl');
  const r = user.tsrunAs(['run', '--bundle', dir, id]);
  t.is(r.code, 0, r.stderr);
  const [uid, map, owner, , setgroups] = r.stdout.split('\n');
  t.is(uid, '0');
  t.deepEqual(map!.trim().split(/\s+/), ['0', String(user.uid), '1']);
  t.is(owner, '0', "the user's files are root's inside");
  t.is(setgroups, 'deny', 'a single-id gid map needs setgroups denied');
  t.is(fs.statSync(path.join(dir, 'rootfs', 'root', 'made')).uid, user.uid, "root's file is the user's on the host");
  const stateRoot = path.join(user.runtimeDir, 'tsrun');
  t.is(fs.statSync(stateRoot).mode & 0o7777, 0o1700, 'as runc: 0700 and sticky');
  t.false(fs.existsSync(path.join(stateRoot, id)), 'run removed its state');
  t.false(fs.existsSync(path.join('/run/tsrun', id)));
});

test.serial('subordinate ids from /etc/subuid and /etc/subgid are mapped through newuidmap/newgidmap', (t) => {
  const dir = bundle(['sh', '-c', 'cat /proc/self/uid_map /proc/self/gid_map; touch /tmp/by5 && chown 5:7 /tmp/by5 && echo chowned'], (c) => {
    subMaps(c);
    c.process!.capabilities!.effective!.push('CAP_CHOWN');
    c.process!.capabilities!.permitted!.push('CAP_CHOWN');
    c.process!.capabilities!.bounding!.push('CAP_CHOWN');
  });
  const r = user.tsrunAs(['run', '--bundle', dir, uniqueId('rl')]);
  t.is(r.code, 0, r.stderr);
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/).join(' '));
  t.deepEqual(lines, [`0 ${user.uid} 1`, `1 ${user.sub.start} ${user.sub.count}`, `0 ${user.gid} 1`, `1 ${user.sub.start} ${user.sub.count}`, 'chowned']);
  const st = fs.statSync(path.join(dir, 'rootfs', 'tmp', 'by5'));
  t.deepEqual([st.uid, st.gid], [user.sub.start + 4, user.sub.start + 6], 'uid 5 inside is the 5th subordinate id outside');
});

test.serial("ids that are not the user's are refused before anything is made, naming the field and the fix", (t) => {
  const dir = bundle(['true'], (c) => {
    subMaps(c);
    c.linux!.uidMappings![1]!.hostID = user.sub.start + user.sub.count;
  });
  const id = uniqueId('rl');
  const r = user.tsrunAs(['run', '--bundle', dir, id]);
  t.is(r.code, 1);
  t.regex(
    r.stderr,
    new RegExp(
      `linux.uidMappings\\[1\\]: host uids ${user.sub.start + user.sub.count}-\\d+ are not yours: .*/etc/subuid gives it \\(${user.sub.start}-${user.sub.start + user.sub.count - 1}\\).*usermod --add-subuids`,
    ),
  );
  t.false(fs.existsSync(path.join(user.runtimeDir, 'tsrun', id)), 'no state left behind');
});

test.serial("runc's rootless rules: a user namespace is required, idmapped mounts are refused, saying what the user gets instead", (t) => {
  const noUserns = bundle(['true'], (c) => {
    c.linux!.namespaces = c.linux!.namespaces!.filter((n) => n.type !== 'user');
    delete c.linux!.uidMappings;
    delete c.linux!.gidMappings;
  });
  const r1 = user.tsrunAs(['run', '--bundle', noUserns, uniqueId('rl')]);
  t.is(r1.code, 1);
  t.regex(r1.stderr, /linux.namespaces: rootless container requires user namespaces/);
  const idmapped = bundle(['true'], (c) => {
    c.mounts!.push({
      destination: '/data',
      type: 'bind',
      source: user.home,
      options: ['rbind'],
      uidMappings: [{ containerID: 0, hostID: user.uid, size: 1 }],
      gidMappings: [{ containerID: 0, hostID: user.gid, size: 1 }],
    });
  });
  const r2 = user.tsrunAs(['run', '--bundle', idmapped, uniqueId('rl')]);
  t.is(r2.code, 1);
  t.regex(r2.stderr, /mounts\[\d+\]: id-mapped mounts are not supported for rootless containers .*sees files through its own user namespace/);
});

test.serial('a detached rootless container: exec, ps, kill --all, delete', async (t) => {
  const dir = bundle(['sleep', '1000'], subMaps);
  const id = uniqueId('rl');
  t.is(user.tsrunAs(['run', '--detach', '--bundle', dir, id]).code, 0);
  const ex = user.tsrunAs(['exec', id, 'sh', '-c', 'id -u; echo in-container; exit 4']);
  t.is(ex.code, 4, ex.stderr);
  t.is(ex.stdout, '0\nin-container\n');
  const st = JSON.parse(user.tsrunAs(['state', id]).stdout) as { pid: number; status: string };
  t.is(st.status, 'running');
  user.tsrunAs(['exec', '--detach', id, 'sleep', '999']);
  // Without a cgroup of its own (hybrid host), ps finds the container's processes by its PID namespace.
  const ps = user.tsrunAs(['ps', id]);
  t.is(ps.code, 0, ps.stderr);
  t.regex(ps.stdout, /sleep 1000/);
  t.regex(ps.stdout, /sleep 999/);
  t.notRegex(ps.stdout, /setpriv|tsrun/, "nothing of the caller's own");
  t.is(user.tsrunAs(['kill', '--all', id, 'KILL']).code, 0);
  t.true(await waitFor(() => JSON.parse(user.tsrunAs(['state', id]).stdout).status === 'stopped'));
  t.is(user.tsrunAs(['delete', id]).code, 0);
  t.false(fs.existsSync(path.join(user.runtimeDir, 'tsrun', id)));
});

// On this host (hybrid) the user may make no cgroup: limits are refused in runc's words. In the v2
// lane the test delegates a cgroup to the user (as systemd's user@.service does: the directory and
// its cgroup.procs, cgroup.subtree_control, cgroup.threads are the user's) and runs tsrun from inside it.
test.serial('resources: refused without a delegated cgroup; applied inside one on cgroup v2', (t) => {
  const dir = bundle(['sh', '-c', 'cat /proc/self/cgroup; cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max 2>/dev/null; true'], (c) => {
    c.linux!.resources = { memory: { limit: 64 * 1024 * 1024 }, pids: { limit: 42 } };
    // No cgroup namespace: /proc/self/cgroup shows where the container is in the host's tree
    // (/sys/fs/cgroup is then a bind of its own cgroup).
    c.linux!.namespaces = c.linux!.namespaces!.filter((n) => n.type !== 'cgroup');
  });
  const id = uniqueId('rl');
  if (!V2) {
    const r = user.tsrunAs(['run', '--bundle', dir, id]);
    t.is(r.code, 1);
    t.regex(
      r.stderr,
      /cannot set memory limit: container could not join or create cgroup.*rootless needs no limits \+ no cgrouppath when no permission is granted for cgroups/,
    );
    t.false(fs.existsSync(path.join(user.runtimeDir, 'tsrun', id)));
    return;
  }
  const deleg = `/sys/fs/cgroup/tsrun-deleg-${user.name}`;
  fs.mkdirSync(path.join(deleg, 'launcher'), { recursive: true });
  try {
    for (const f of ['', 'cgroup.procs', 'cgroup.subtree_control', 'cgroup.threads']) fs.chownSync(path.join(deleg, f), user.uid, user.gid);
    fs.chownSync(path.join(deleg, 'launcher'), user.uid, user.gid);
    fs.chownSync(path.join(deleg, 'launcher', 'cgroup.procs'), user.uid, user.gid);
    // The caller (sh, then setpriv, then tsrun) starts in deleg/launcher: the container goes beside it.
    const r = user.tsrunAs(['run', '--bundle', dir, id], { cgroup: path.join(deleg, 'launcher') });
    t.is(r.code, 0, r.stderr);
    t.regex(r.stdout, new RegExp(`^0::/tsrun-deleg-${user.name}/${id}$`, 'm'));
    t.regex(r.stdout, /^67108864$/m);
    t.regex(r.stdout, /^42$/m);
    t.false(fs.existsSync(path.join(deleg, id)), "delete removed the container's cgroup");
  } finally {
    for (let i = 0; i < 100 && fs.existsSync(deleg); i++) {
      for (const d of fs.readdirSync(deleg, { withFileTypes: true }).filter((e) => e.isDirectory())) {
        try {
          fs.rmdirSync(path.join(deleg, d.name));
        } catch {
          /* busy for a moment */
        }
      }
      try {
        fs.rmdirSync(deleg);
      } catch {
        spawnSync('sleep', ['0.05']);
      }
    }
  }
});

// tsrun does no networking of its own (neither do runc and crun): a rootless container has its own
// network namespace with only lo, or the host's. User-mode networking (slirp4netns, as podman
// gives its rootless containers) attaches to that namespace from outside, as the user.
test.serial('networking: a network namespace of its own with only lo; slirp4netns, run by the user, connects it to the host', async (t) => {
  const server = net.createServer((s) => s.end('hello from the host\n'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const script = [
    'ip -o link show | cut -d: -f2 | tr -d " " | sort | tr "\\n" " " > /root/links',
    'i=0; until ip -o addr show tap0 2>/dev/null | grep -q 10.0.2.100; do i=$((i+1)); [ $i -lt 1800 ] || exit 9; sleep 0.1; done',
    `nc 10.0.2.2 ${port} </dev/null > /root/reply`,
  ].join('; ');
  const dir = bundle(['sh', '-c', script], (c) => {
    c.linux!.namespaces!.push({ type: 'network' });
  });
  const id = uniqueId('rl');
  // slirp4netns needs /dev/net/tun, which any user may open (udev's rule: MODE="0666"). A guest
  // with no udev (the v2 lane) has no node until the module is loaded, and then devtmpfs's 0600.
  if (!fs.existsSync('/dev/net/tun')) {
    spawnSync('modprobe', ['tun']);
    fs.chmodSync('/dev/net/tun', 0o666);
  }
  try {
    t.is(user.tsrunAs(['run', '--detach', '--bundle', dir, id]).code, 0);
    const pid = (JSON.parse(user.tsrunAs(['state', id]).stdout) as { pid: number }).pid;
    // slirp4netns joins the container's user and network namespaces, as the user who owns them.
    const slirp = spawn(user.asUser[0]!, [...user.asUser.slice(1), 'slirp4netns', '--configure', '--mtu=65520', String(pid), 'tap0'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let said = '';
    let slirpExit: number | null | undefined;
    slirp.stderr!.on('data', (b: Buffer) => (said = (said + b.toString()).slice(-4000)));
    slirp.on('exit', (code) => (slirpExit = code));
    try {
      // The container ends once it has its answer; slirp4netns failing ends the wait too.
      await waitFor(() => slirpExit !== undefined || JSON.parse(user.tsrunAs(['state', id]).stdout).status === 'stopped', 180_000);
      t.is(slirpExit, undefined, `slirp4netns exited: ${said}`);
      t.is(JSON.parse(user.tsrunAs(['state', id]).stdout).status, 'stopped', `slirp4netns: ${said}`);
    } finally {
      slirp.kill('SIGTERM');
    }
    t.is(fs.readFileSync(path.join(dir, 'rootfs', 'root', 'links'), 'utf8'), 'lo ', 'before slirp4netns: only lo');
    t.is(fs.readFileSync(path.join(dir, 'rootfs', 'root', 'reply'), 'utf8'), 'hello from the host\n');
  } finally {
    user.tsrunAs(['delete', '--force', id]);
    server.close();
  }
});
