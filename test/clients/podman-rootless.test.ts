// Rootless podman (Debian's 4.3) drives tsrun as an ordinary user: podman makes its own user
// namespace from the user's subordinate ids and runs tsrun as root of it, and gives the container
// slirp4netns networking. The user is a real one the test makes (see helpers/rootless-user.ts),
// with a storage config under its home, as a rootless podman user has.
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { busyboxOciLayout } from '../fixtures/oci-image';
import { createRootlessUser, type RootlessUser } from '../helpers/rootless-user';

let user: RootlessUser;
let image: string;

test.before(() => {
  user = createRootlessUser();
  // The user's own copy of the image layout (the fixture's index.json is root's, 0600).
  image = path.join(user.home, 'busybox-oci');
  fs.cpSync(busyboxOciLayout().layout, image, { recursive: true });
  const conf = path.join(user.home, '.config', 'containers');
  fs.mkdirSync(conf, { recursive: true });
  fs.writeFileSync(
    path.join(conf, 'storage.conf'),
    `[storage]\ndriver = "overlay"\ngraphroot = "${user.home}/.local/share/containers/storage"\nrunroot = "${user.runtimeDir}/containers"\n`,
  );
  for (const p of [image, path.join(user.home, '.config')]) chownTree(p, user.uid, user.gid);
});
test.after.always(() => {
  user?.remove();
});

function chownTree(p: string, uid: number, gid: number): void {
  fs.lchownSync(p, uid, gid);
  if (fs.lstatSync(p).isDirectory()) for (const e of fs.readdirSync(p)) chownTree(path.join(p, e), uid, gid);
}

// Hybrid cgroups: a rootless podman can only use cgroupfs (and then makes no cgroups). This host
// lacks CAP_SYS_RESOURCE, so podman's default rlimits (raised hard limits) are lowered.
const GLOBAL = ['--cgroup-manager', 'cgroupfs', '--events-backend', 'file'];
const RUN = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];

function podman(args: string[]): { code: number; out: string; stdout: string } {
  const r = user.run('podman', [...GLOBAL, '--runtime', user.tsrun, ...args]);
  return { code: r.code, out: r.stdout + r.stderr, stdout: r.stdout };
}

test.serial('podman as an ordinary user runs a container through tsrun: output, exit code, its own user namespace', (t) => {
  const r = podman(['run', '--rm', '--network', 'none', ...RUN, `oci:${image}:latest`, 'sh', '-c', 'id -u; cat /proc/self/uid_map; exit 5']);
  t.is(r.code, 5, r.out);
  const lines = r.out
    .split('\n')
    .filter((l) => /^\s*\d/.test(l))
    .map((l) => l.trim().split(/\s+/).join(' '));
  // podman's user namespace: root is the user, then the user's subordinate range.
  t.true(lines.includes(`0 ${user.uid} 1`), r.out);
  t.true(lines.includes(`1 ${user.sub.start} ${user.sub.count}`), r.out);
});

test.serial('podman run -d (slirp4netns network), exec, stop, rm as an ordinary user', (t) => {
  const r = podman(['run', '-d', '--name', 'rl1', ...RUN, `oci:${image}:latest`, 'sleep', '1000']);
  t.is(r.code, 0, r.out);
  const id = r.stdout.trim();
  // tsrun keeps the container's state where runc would keep it for this user: $XDG_RUNTIME_DIR/tsrun.
  t.true(fs.existsSync(path.join(user.runtimeDir, 'tsrun', id)), `tsrun's state for ${id}`);
  const ex = podman(['exec', 'rl1', 'sh', '-c', 'ip -o -4 addr show tap0; echo podman-exec; exit 6']);
  t.is(ex.code, 6, ex.out);
  t.regex(ex.out, /podman-exec/);
  t.regex(ex.out, /tap0\s+inet 10\.0\.2\.100\//, "slirp4netns's address");
  t.is(podman(['stop', '-t', '1', 'rl1']).code, 0);
  t.is(podman(['rm', 'rl1']).code, 0);
  t.false(fs.existsSync(path.join(user.runtimeDir, 'tsrun', id)), 'tsrun delete removed its state');
  t.notRegex(podman(['ps', '-a']).out, /rl1/);
});
