// Docker Engine (Debian's docker.io: dockerd 20.10 with its own containerd) with tsrun as its
// default runtime, started for a test and removed after it, leaving the host as it was:
//   - its own data-root, exec-root, pid file, socket and config file in a temp dir (the trust key
//     too: daemon.json's deprecated-key-path), a private mount namespace with a fresh tmpfs on
//     /run (its plugin dir, the shims' sockets), so every mount it makes dies with it;
//   - its own bridge (a random name and 10.x subnet not routed here) for `-p`, with iptables,
//     ip_forward and masquerading off: published ports go through docker-proxy, the userland
//     proxy, which connects from the host to the container over the bridge;
//   - its own cgroup parent (/tsrun-docker-<random>), removed after;
//   - the client is Debian's /usr/bin/docker (the API version of this daemon) with its own
//     config dir.
import { spawn, spawnSync, type ChildProcess, type SpawnSyncOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TSRUN } from './tsrun';

export const DOCKER = '/usr/bin/docker';
const PATH = '/usr/sbin:/usr/bin:/sbin:/bin';

export interface Dockerd {
  dir: string;
  socket: string;
  bridge: string;
  subnet: string;
  cgroupParent: string;
  /** each call of the runtime, one line of arguments each: proof that tsrun ran it */
  runtimeCalls(): string[];
  /** the environment a docker client needs to reach this daemon */
  env: NodeJS.ProcessEnv;
  docker(args: string[], opts?: SpawnSyncOptions): { code: number; stdout: string; stderr: string };
  /** the daemon's own log, for failure messages */
  log(): string;
  stop(): Promise<void>;
}

function sh(cmd: string, args: string[]): { code: number; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, PATH } });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

/** A 10.x.y.0/24 that no route of this host covers. */
function freeSubnet(): string {
  const routes = sh('ip', ['-4', 'route', 'show']).out;
  for (;;) {
    const a = 150 + Math.floor(Math.random() * 100);
    const b = Math.floor(Math.random() * 256);
    if (!routes.includes(`10.${a}.`)) return `10.${a}.${b}`;
  }
}

/** Removes a cgroup tree we made, deepest first, in every hierarchy. */
function removeCgroupTree(rel: string): void {
  for (const h of fs.readdirSync('/sys/fs/cgroup')) {
    const top = path.join('/sys/fs/cgroup', h, rel);
    const walk = (d: string): void => {
      if (!fs.existsSync(d)) return;
      for (const e of fs.readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(path.join(d, e.name));
      try {
        fs.rmdirSync(d);
      } catch {
        /* busy: a process left in it; reported by the test through leftovers */
      }
    };
    walk(top);
  }
}

export async function startDockerd(opts: { runtime?: string } = {}): Promise<Dockerd> {
  const tag = randomBytes(3).toString('hex');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `tsrun-docker-${tag}-`));
  const socket = path.join(dir, 'docker.sock');
  const bridge = `tsdk${tag}`;
  const subnet = freeSubnet();
  const cgroupParent = `/tsrun-docker-${tag}`;
  const env = { ...process.env, PATH, DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: path.join(dir, 'client') };
  fs.mkdirSync(env.DOCKER_CONFIG, { recursive: true });
  // The runtime dockerd calls: tsrun itself, after noting its arguments (exec: the same process).
  const calls = path.join(dir, 'runtime-calls.log');
  const runtime = path.join(dir, 'tsrun-runtime');
  fs.writeFileSync(runtime, `#!/bin/sh\nprintf '%s\\n' "$*" >> ${calls}\nexec ${opts.runtime ?? TSRUN} "$@"\n`, { mode: 0o755 });
  fs.writeFileSync(path.join(dir, 'daemon.json'), JSON.stringify({ 'deprecated-key-path': path.join(dir, 'key.json') }));
  for (const [cmd, args] of [
    ['ip', ['link', 'add', bridge, 'type', 'bridge']],
    ['ip', ['addr', 'add', `${subnet}.1/24`, 'dev', bridge]],
    ['ip', ['link', 'set', bridge, 'up']],
  ] as [string, string[]][]) {
    const r = sh(cmd, args);
    if (r.code !== 0) {
      sh('ip', ['link', 'del', bridge]);
      throw new Error(`${cmd} ${args.join(' ')}: ${r.out}`);
    }
  }
  const daemonArgs = [
    '--config-file',
    path.join(dir, 'daemon.json'),
    '--data-root',
    path.join(dir, 'data'),
    '--exec-root',
    path.join(dir, 'exec'),
    '--pidfile',
    path.join(dir, 'docker.pid'),
    '-H',
    `unix://${socket}`,
    '--bridge',
    bridge,
    '--iptables=false',
    '--ip6tables=false',
    '--ip-forward=false',
    '--ip-masq=false',
    '--userland-proxy=true',
    '--userland-proxy-path',
    '/usr/sbin/docker-proxy',
    '--add-runtime',
    `tsrun=${runtime}`,
    '--default-runtime',
    'tsrun',
    '--exec-opt',
    'native.cgroupdriver=cgroupfs',
    '--cgroup-parent',
    cgroupParent,
    '--storage-driver',
    'overlay2',
    // A negative oom_score_adj needs CAP_SYS_RESOURCE, which this host's bounding set lacks.
    '--oom-score-adjust',
    '0',
    '--log-level',
    'warn',
  ];
  const logFile = path.join(dir, 'dockerd.log');
  const log = fs.openSync(logFile, 'w');
  // A private mount namespace with its own /run: dockerd's /run/docker/plugins, containerd's
  // shim sockets and every overlay and netns mount stay in it and go when it ends.
  const child: ChildProcess = spawn(
    'setpriv',
    [
      '--pdeathsig',
      'TERM',
      'unshare',
      '--mount',
      '--propagation',
      'private',
      '--',
      'sh',
      '-c',
      'mount -t tmpfs -o mode=0755 tsrun-docker-run /run && exec "$@"',
      'sh',
      'dockerd',
      ...daemonArgs,
    ],
    { stdio: ['ignore', log, log], env: { ...process.env, PATH } },
  );
  fs.closeSync(log);
  const stopped = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.on('exit', () => child.kill('SIGTERM'));
  const docker = (args: string[], o: SpawnSyncOptions = {}): { code: number; stdout: string; stderr: string } => {
    const r = spawnSync(DOCKER, args, { encoding: 'utf8', timeout: 120_000, env, ...o });
    return { code: r.status ?? -1, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
  };
  const cleanup = (): void => {
    sh('ip', ['link', 'del', bridge]);
    removeCgroupTree(cgroupParent);
  };
  const deadline = Date.now() + 60_000;
  while (docker(['info', '--format', '{{.ServerVersion}}']).code !== 0) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      cleanup();
      throw new Error(`dockerd did not start: ${fs.readFileSync(logFile, 'utf8').slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    dir,
    socket,
    bridge,
    subnet,
    cgroupParent,
    env,
    docker,
    log: () => fs.readFileSync(logFile, 'utf8'),
    runtimeCalls: () => (fs.existsSync(calls) ? fs.readFileSync(calls, 'utf8').trim().split('\n') : []),
    stop: async () => {
      // Without --live-restore, dockerd stops its containers and its containerd on SIGTERM.
      if (child.exitCode === null) child.kill('SIGTERM');
      await Promise.race([stopped, new Promise((r) => setTimeout(r, 60_000))]);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await stopped;
      }
      cleanup();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
