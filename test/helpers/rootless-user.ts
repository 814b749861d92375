// A real unprivileged user for the rootless tests: made with useradd under a random name, given
// a subordinate id range of its own (usermod --add-subuids, in a range nobody has), a home and a
// $XDG_RUNTIME_DIR (/run/user/UID, 0700), and removed again with all of it (its processes, its
// ranges, its home). Nothing of any other user is touched.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT_DIR, runToFiles, type Result } from './tsrun';

export interface RootlessUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
  runtimeDir: string;
  /** the subordinate range given to it in /etc/subuid and /etc/subgid */
  sub: { start: number; count: number };
  /** tsrun as the user reaches it (the checkout, or a view of it the user may enter) */
  tsrun: string;
  /** the command line prefix that runs a program as the user */
  asUser: string[];
  /**
   * runs `cmd args` as the user (setpriv: no root process stays behind, as runuser's would), with HOME, USER, XDG_RUNTIME_DIR, PATH set; with
   * `cgroup`, root first moves it into that cgroup directory (a subtree delegated to the user).
   */
  run(cmd: string, args: string[], opts?: RunOptions): Result;
  /** `tsrun args` as the user (its default --root: $XDG_RUNTIME_DIR/tsrun) */
  tsrunAs(args: string[], opts?: RunOptions): Result;
  /** the user's processes (podman leaves a pause process holding its user namespace) */
  pids(): number[];
  remove(): void;
}

export type RunOptions = SpawnSyncOptions & { env?: Record<string, string>; cgroup?: string };

function must(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.error?.message}`);
  return r.stdout;
}

/** A range of `count` ids above every range /etc/subuid and /etc/subgid already give anyone. */
function freeRange(count: number): { start: number; count: number } {
  let top = 1_000_000;
  for (const f of ['/etc/subuid', '/etc/subgid']) {
    let text = '';
    try {
      text = fs.readFileSync(f, 'utf8');
    } catch {
      /* none yet */
    }
    for (const line of text.split('\n')) {
      const [, start, n] = line.split(':');
      if (start && n) top = Math.max(top, Number(start) + Number(n));
    }
  }
  // A random gap too, so that two test files making users at once do not pick the same range.
  const start = top + crypto.randomInt(1, 1000) * count;
  return { start, count };
}

export function createRootlessUser(): RootlessUser {
  const name = `tsrl${crypto.randomBytes(4).toString('hex')}`;
  // No automatic subordinate range (useradd would take one from login.defs): the test gives its own.
  must('useradd', ['--create-home', '--shell', '/bin/sh', '-K', 'SUB_UID_COUNT=0', '-K', 'SUB_GID_COUNT=0', name]);
  const uid = Number(must('id', ['-u', name]).trim());
  const gid = Number(must('id', ['-g', name]).trim());
  const home = must('getent', ['passwd', name]).split(':')[5]!;
  const sub = freeRange(65536);
  const range = `${sub.start}-${sub.start + sub.count - 1}`;
  must('usermod', ['--add-subuids', range, '--add-subgids', range, name]);
  const runtimeDir = `/run/user/${uid}`;
  fs.mkdirSync('/run/user', { recursive: true, mode: 0o755 });
  fs.mkdirSync(runtimeDir, { mode: 0o700 });
  fs.chownSync(runtimeDir, uid, gid);

  // The user must reach the checkout's bin/tsrun, dist/, build/ and node_modules/: a checkout
  // below a private directory (/root/...) is shown to it through a bind mount in a private
  // mount namespace of its commands instead.
  const asUserArgs = ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--init-groups', '--'];
  const reachable =
    spawnSync(asUserArgs[0]!, [
      ...asUserArgs.slice(1),
      'test',
      '-x',
      path.join(ROOT_DIR, 'bin', 'tsrun'),
      '-a',
      '-r',
      path.join(ROOT_DIR, 'dist', 'src', 'cli', 'main.js'),
    ]).status === 0;
  const view = reachable && !process.env['TSRUN_TEST_ROOTLESS_VIEW'] ? ROOT_DIR : fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-checkout-'));
  if (view !== ROOT_DIR) fs.chmodSync(view, 0o755);
  const tsrun = path.join(view, 'bin', 'tsrun');

  const envFor = (extra: Record<string, string> = {}): string[] =>
    Object.entries({
      HOME: home,
      USER: name,
      LOGNAME: name,
      XDG_RUNTIME_DIR: runtimeDir,
      PATH: '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin',
      ...extra,
    }).map(([k, v]) => `${k}=${v}`);

  const run = (cmd: string, args: string[], opts: RunOptions = {}): Result => {
    const { env, cgroup, ...rest } = opts;
    // setpriv execs the command itself: in a delegated cgroup everything is then the user's
    // (a runuser would stay as root, and the kernel refuses the user to move root's tasks).
    const asUser = [...asUserArgs, 'env', '-i', ...envFor(env), cmd, ...args];
    const moved = cgroup ? ['sh', '-c', 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"', 'sh', cgroup, ...asUser] : asUser;
    const argv =
      view === ROOT_DIR
        ? moved
        : ['unshare', '--mount', '--propagation', 'slave', '--', 'sh', '-c', 'mount --bind "$1" "$2" && shift 2 && exec "$@"', 'sh', ROOT_DIR, view, ...moved];
    // Output to files, as tsrun(): a detached container keeps what it inherited open.
    return runToFiles(argv[0]!, argv.slice(1), { timeout: 120_000, cwd: home, ...rest });
  };

  const pids = (): number[] =>
    fs
      .readdirSync('/proc')
      .filter((e) => /^\d+$/.test(e))
      .map(Number)
      .filter((pid) => {
        try {
          const owner = fs.statSync(`/proc/${pid}`).uid;
          return owner === uid || (owner >= sub.start && owner < sub.start + sub.count);
        } catch {
          return false;
        }
      });

  return {
    name,
    uid,
    gid,
    home,
    runtimeDir,
    sub,
    tsrun,
    asUser: asUserArgs,
    run,
    tsrunAs: (args, opts) => run(tsrun, args, opts),
    pids,
    remove() {
      // Its own processes only (a detached container, podman's pause process), by pid.
      for (let i = 0; i < 50; i++) {
        const left = pids();
        if (!left.length) break;
        for (const pid of left) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            /* gone */
          }
        }
        spawnSync('sleep', ['0.1']);
      }
      spawnSync('usermod', ['--del-subuids', `${sub.start}-${sub.start + sub.count - 1}`, '--del-subgids', `${sub.start}-${sub.start + sub.count - 1}`, name]);
      // A rootless podman's storage holds files of the subordinate range, which the user may not
      // remove itself: removed as root with the home.
      spawnSync('userdel', ['--remove', name]);
      fs.rmSync(home, { recursive: true, force: true });
      fs.rmSync(runtimeDir, { recursive: true, force: true });
      if (view !== ROOT_DIR) fs.rmSync(view, { recursive: true, force: true });
    },
  };
}

/** A copy of the tests' busybox rootfs that belongs to the user (its root inside the container). */
export function userRootfs(user: RootlessUser, from: string): string {
  const bundle = path.join(user.home, `bundle-${crypto.randomBytes(3).toString('hex')}`);
  fs.mkdirSync(bundle);
  must('cp', ['-a', from, path.join(bundle, 'rootfs')]);
  must('chown', ['-R', `${user.uid}:${user.gid}`, bundle]);
  return bundle;
}
