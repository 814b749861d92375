// A `tsrun cri` server in its own process, on a socket and state of its own, with a bridge
// CNI network on a subnet of its own, and promisified gRPC clients for the tests.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadCri } from '../../src/cri/proto';
import { TSRUN } from './tsrun';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Call = (method: string, req?: object) => Promise<any>;

export interface CriServerHandle {
  dir: string;
  socket: string;
  store: string;
  stateDir: string;
  runDir: string;
  cniConfDir: string;
  subnet: string;
  bridge: string;
  /** the systemd driver: the slice this server's own pod slices go in */
  cgroupSlice?: string;
  proc: ChildProcess;
  rt: Call;
  img: Call;
  /** the raw runtime client, for streams (GetContainerEvents) */
  runtimeClient: grpc.Client;
  /** kill -9 the server (containers must survive) */
  crash(): Promise<void>;
  /** start it again on the same dirs (with other env/args: a failpoint, --explain=json) */
  restart(opts?: { env?: NodeJS.ProcessEnv; extraArgs?: string[] }): Promise<void>;
  stop(): Promise<void>;
  stderr(): string;
}

function promisify(client: grpc.Client): Call {
  return (method, req = {}) =>
    new Promise((resolve, reject) => {
      (client as unknown as Record<string, (r: object, cb: (e: grpc.ServiceError | null, res: unknown) => void) => void>)[method]!(req, (e, res) =>
        e ? reject(e) : resolve(res),
      );
    });
}

export { until } from './until';

async function waitFor(file: string, proc: ChildProcess, ms: number, log: () => string): Promise<void> {
  const until = Date.now() + ms;
  while (!fs.existsSync(file)) {
    if (proc.exitCode !== null) throw new Error(`tsrun cri exited ${proc.exitCode}: ${log()}`);
    if (Date.now() > until) throw new Error(`tsrun cri did not listen on ${file} in ${ms} ms: ${log()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * `systemd`: the systemd cgroup driver (tsrun --systemd-cgroup cri); pods without a cgroup
 * parent then get slices in a slice of this server's own (cgroupSlice).
 */
export async function startCriServer(
  opts: { registryConfig?: string; extraArgs?: string[]; store?: string; systemd?: boolean; env?: NodeJS.ProcessEnv } = {},
): Promise<CriServerHandle> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-cri-'));
  // Searchable by all: containers in a pod's user namespace reach their rootfs below it.
  fs.chmodSync(dir, 0o711);
  // A random /24 that no route on the host (another test's bridge) uses yet.
  let subnet: string;
  do {
    const rand = randomBytes(2);
    subnet = `10.${236 + (rand[0]! % 10)}.${rand[1]}.0/24`;
  } while (execFileSync('ip', ['-4', 'route', 'show', subnet], { encoding: 'utf8' }).trim() !== '');
  const bridge = `tscri${randomBytes(3).toString('hex')}`;
  const cniConfDir = path.join(dir, 'net.d');
  fs.mkdirSync(cniConfDir);
  fs.writeFileSync(
    path.join(cniConfDir, '10-test.conflist'),
    JSON.stringify({
      cniVersion: '1.0.0',
      name: `tsrun-test-${bridge}`,
      plugins: [
        {
          type: 'bridge',
          bridge,
          isGateway: true,
          ipMasq: false,
          hairpinMode: true,
          ipam: { type: 'host-local', ranges: [[{ subnet }]], dataDir: path.join(dir, 'ipam') },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    }),
  );
  const h = {
    dir,
    socket: path.join(dir, 'cri.sock'),
    store: opts.store ?? path.join(dir, 'store'),
    stateDir: path.join(dir, 'state'),
    runDir: path.join('/run/tsrun-test', path.basename(dir)),
    cniConfDir,
    subnet,
    bridge,
    ...(opts.systemd ? { cgroupSlice: `tsrtest${randomBytes(4).toString('hex')}.slice` } : {}),
  } as CriServerHandle;
  let log = '';
  let env = opts.env ?? {};
  let extraArgs = opts.extraArgs ?? [];
  const launch = async (): Promise<void> => {
    const args = [
      ...(opts.systemd ? ['--systemd-cgroup'] : []),
      '--store',
      h.store,
      'cri',
      '--listen',
      `unix://${h.socket}`,
      '--state-dir',
      h.stateDir,
      '--run-dir',
      h.runDir,
      '--cni-conf-dir',
      cniConfDir,
      '--cgroup-parent',
      h.cgroupSlice ?? `/tsrun-test-${path.basename(dir)}`,
    ];
    if (opts.registryConfig) args.push('--registry-config', opts.registryConfig);
    args.push(...extraArgs);
    fs.rmSync(h.socket, { force: true });
    const errFile = path.join(dir, `server-${Date.now()}.log`);
    const err = fs.openSync(errFile, 'w');
    h.proc = spawn(TSRUN, args, { stdio: ['ignore', err, err], env: { ...process.env, ...env } });
    fs.closeSync(err);
    log = errFile;
    // A deadline, not a delay: under qemu (the lanes) on a busy machine the server takes many seconds to load.
    await waitFor(h.socket, h.proc, 120_000, () => fs.readFileSync(log, 'utf8'));
    const cri = loadCri();
    h.runtimeClient = new cri.runtimeClient(`unix://${h.socket}`, grpc.credentials.createInsecure());
    // The socket file appears at bind(2), a moment before listen(2): a call in between is refused.
    await new Promise<void>((resolve, reject) =>
      h.runtimeClient.waitForReady(Date.now() + 20_000, (e) =>
        e ? reject(new Error(`tsrun cri is not ready on ${h.socket}: ${e.message}: ${fs.readFileSync(log, 'utf8')}`)) : resolve(),
      ),
    );
    h.rt = promisify(h.runtimeClient);
    h.img = promisify(new cri.imageClient(`unix://${h.socket}`, grpc.credentials.createInsecure()));
  };
  await launch();
  h.stderr = () => fs.readFileSync(log, 'utf8');
  h.crash = async () => {
    h.proc.kill('SIGKILL');
    await new Promise((r) => h.proc.once('exit', r));
  };
  h.restart = async (o) => {
    env = o?.env ?? {};
    extraArgs = o?.extraArgs ?? opts.extraArgs ?? [];
    await launch();
  };
  h.stop = async () => {
    // Remove every pod first (their networks, mounts, cgroups), then stop the server.
    try {
      const pods = await h.rt('ListPodSandbox', {});
      for (const p of pods.items) await h.rt('RemovePodSandbox', { pod_sandbox_id: p.id }).catch(() => {});
    } catch {
      /* server gone */
    }
    if (h.proc.exitCode === null) {
      h.proc.kill('SIGTERM');
      await new Promise((r) => h.proc.once('exit', r));
    }
    spawn('ip', ['link', 'del', bridge], { stdio: 'ignore' });
    // Sockets and the runtime's state; every pod (and so every mount below) is gone by now.
    if (!fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(h.runDir)) fs.rmSync(h.runDir, { recursive: true, force: true });
    // The server's default cgroup parent for this test (each pod's own dir is gone by now).
    for (const hier of fs.readdirSync('/sys/fs/cgroup')) {
      try {
        fs.rmdirSync(`/sys/fs/cgroup/${hier}/tsrun-test-${path.basename(dir)}`);
      } catch {
        /* not there, or not empty: then a test left something, which its own checks report */
      }
    }
  };
  return h;
}
