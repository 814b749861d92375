// The real kubelet (built once per machine by scripts/install-kubernetes.sh), run standalone (no
// API server) against a CRI endpoint, with a static Pod directory, everything it writes under
// a temp dir of its own, and nothing changed on the host that it does not put back.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export const KUBELET_VERSION = 'v1.34.4';
export const KUBELET_BIN = path.join('/var/cache/tsrun-kubernetes', KUBELET_VERSION, 'bin', 'kubelet');

/** The kubelet's absolute path, or undefined when scripts/install-kubernetes.sh has not run. */
export function kubeletBin(): string | undefined {
  try {
    fs.accessSync(KUBELET_BIN, fs.constants.X_OK);
    return KUBELET_BIN;
  } catch {
    return undefined;
  }
}

/** A loopback TCP port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** GET over http, or https with the kubelet's self-signed serving certificate accepted. */
export function httpGet(url: string, timeoutMs = 3000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const get = url.startsWith('https:')
      ? (u: string, o: https.RequestOptions, cb: (res: http.IncomingMessage) => void) => https.get(u, { ...o, rejectUnauthorized: false }, cb)
      : http.get;
    const req = get(url, { timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

// What the kubelet's container manager wants these sysctls to be (pkg/kubelet/cm,
// setupKernelTunables). It rewrites any that differ, host-wide: kernel.panic_on_oops=1 would
// turn an oops anywhere on this shared machine into a panic. Its mount namespace sees files
// with these values instead, so it finds nothing to change.
export const KERNEL_TUNABLES: Record<string, number> = {
  'vm/overcommit_memory': 1,
  'vm/panic_on_oom': 0,
  'kernel/panic': 10,
  'kernel/panic_on_oops': 1,
  'kernel/keys/root_maxkeys': 1000000,
  'kernel/keys/root_maxbytes': 25000000,
};

const V1_CONTROLLERS_DIR = '/sys/fs/cgroup';

export interface KubeletHandle {
  dir: string;
  rootDir: string;
  manifestDir: string;
  podLogsDir: string;
  /** The cgroup (cgroupfs form, "/tsrun-kubelet-...") all pods' cgroups live under; "/" with systemd. */
  cgroupRoot: string;
  cgroupDriver: 'cgroupfs' | 'systemd';
  healthzPort: number;
  /** The kubelet's own HTTPS API on 127.0.0.1 (anonymous allowed): /metrics/cadvisor, /stats/summary. */
  port: number;
  proc: ChildProcess;
  log(): string;
  /** SIGTERM (SIGKILL after a while); pods keep running, as with a real kubelet. */
  stop(): Promise<void>;
  /** Removes the cgroup root the test created for the kubelet, once no pod is left in it. */
  removeCgroups(): void;
}

function cgroupHierarchies(): string[] {
  return fs.readdirSync(V1_CONTROLLERS_DIR).filter((h) => fs.existsSync(path.join(V1_CONTROLLERS_DIR, h, 'cgroup.procs')));
}

/** Directories below `dir`, deepest first. */
function subdirsDeepestFirst(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) out.push(...subdirsDeepestFirst(path.join(dir, e.name)), path.join(dir, e.name));
  }
  return out;
}

/**
 * Starts the kubelet and waits for its healthz. Pods get cgroups per QoS class under a cgroup
 * root made for this kubelet alone (the kubelet only checks, never creates, its root), so it
 * creates and removes cgroups only inside a tree this helper owns. With `cgroupDriver: systemd`
 * (only where systemd is PID 1: the lane's guest, a machine of its own) the kubelet makes its
 * slices through systemd from the root ("kubepods.slice"), as on a kubeadm node.
 */
export async function startKubelet(opts: {
  criSocket: string;
  name: string;
  resolvConf?: string;
  cgroupDriver?: 'cgroupfs' | 'systemd';
}): Promise<KubeletHandle> {
  const driver = opts.cgroupDriver ?? 'cgroupfs';
  const bin = kubeletBin();
  if (!bin) throw new Error('the kubelet is not built: run scripts/install-kubernetes.sh');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-kubelet-'));
  const rootDir = path.join(dir, 'root');
  const manifestDir = path.join(dir, 'manifests');
  const podLogsDir = path.join(dir, 'pod-logs');
  const tunables = path.join(dir, 'sysctl');
  for (const d of [rootDir, manifestDir, podLogsDir, tunables]) fs.mkdirSync(d, { recursive: true });

  const cgroupRoot = driver === 'systemd' ? '/' : `/tsrun-kubelet-${path.basename(dir).slice('tsrun-kubelet-'.length)}`;
  for (const h of driver === 'systemd' ? [] : cgroupHierarchies()) {
    const cg = path.join(V1_CONTROLLERS_DIR, h, cgroupRoot);
    fs.mkdirSync(cg);
    // A v1 cpuset cgroup starts with no CPUs and no memory nodes: nothing could join it.
    if (h === 'cpuset')
      for (const f of ['cpuset.cpus', 'cpuset.mems']) fs.writeFileSync(path.join(cg, f), fs.readFileSync(path.join(V1_CONTROLLERS_DIR, h, f)));
  }

  const resolvConf = opts.resolvConf ?? path.join(dir, 'resolv.conf');
  if (!opts.resolvConf) fs.writeFileSync(resolvConf, 'nameserver 127.0.0.53\nsearch tsrun.test\noptions ndots:1\n');
  const port = await freePort();
  const healthzPort = await freePort();
  const endpoint = `unix://${opts.criSocket}`;
  const config = {
    kind: 'KubeletConfiguration',
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    staticPodPath: manifestDir,
    fileCheckFrequency: '2s',
    syncFrequency: '10s',
    address: '127.0.0.1',
    port,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort,
    authentication: { anonymous: { enabled: true }, webhook: { enabled: false } },
    authorization: { mode: 'AlwaysAllow' },
    containerRuntimeEndpoint: endpoint,
    imageServiceEndpoint: endpoint,
    podLogsDir,
    resolvConf,
    cgroupDriver: driver,
    cgroupsPerQOS: true,
    cgroupRoot,
    // This host mounts cgroup v1 controllers; 1.34 still runs there when told to.
    failCgroupV1: false,
    // Node allocatable would cap the pods' cgroup tree at the machine's size minus reserves:
    // nothing this test observes, and a write to a cgroup the test did not ask for.
    enforceNodeAllocatable: ['none'],
    failSwapOn: false,
    // Lowering its own oom_score_adj needs CAP_SYS_RESOURCE, which this host withholds.
    oomScoreAdj: 0,
    // KUBE-FIREWALL and friends in the host's iptables: not the kubelet's to change here.
    makeIPTablesUtilChains: false,
    // No eviction or image GC for a disk that other tests fill: the pod must stay put.
    evictionHard: { 'memory.available': '0%', 'nodefs.available': '0%', 'nodefs.inodesFree': '0%', 'imagefs.available': '0%', 'imagefs.inodesFree': '0%' },
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    serializeImagePulls: false,
    registerNode: false,
    // Pod and container stats from the runtime (ListPodSandboxStats, and ListPodSandboxMetrics
    // behind /metrics/cadvisor) instead of the kubelet's own cAdvisor.
    featureGates: { PodAndContainerStatsFromCRI: true },
  };
  const configFile = path.join(dir, 'kubelet.json');
  fs.writeFileSync(configFile, JSON.stringify(config, null, 2));
  for (const [name, value] of Object.entries(KERNEL_TUNABLES)) fs.writeFileSync(path.join(tunables, name.replace(/\//g, '.')), `${value}\n`);

  // A mount namespace of its own: the tunables above, and the rshared bind mount the kubelet
  // makes of its root dir when that is on a private mount, vanish with it. Propagation stays
  // as the host has it (where / is shared, volumes the kubelet mounts reach the runtime), and
  // only /proc turns private, so the tunables never leak out.
  const binds = Object.keys(KERNEL_TUNABLES)
    .map((name) => `mount --bind ${path.join(tunables, name.replace(/\//g, '.'))} /proc/sys/${name}`)
    .join('\n');
  const script = `set -e\nmount --make-rprivate /proc\n${binds}\nexec "$@"`;
  const logFile = path.join(dir, 'kubelet.log');
  const out = fs.openSync(logFile, 'w');
  const proc = spawn(
    'unshare',
    [
      '--mount',
      '--propagation',
      'unchanged',
      '--',
      'sh',
      '-c',
      script,
      'kubelet',
      bin,
      '--config',
      configFile,
      '--root-dir',
      rootDir,
      '--hostname-override',
      opts.name,
      '--v',
      '2',
    ],
    { stdio: ['ignore', out, out] },
  );
  fs.closeSync(out);
  const log = (): string => fs.readFileSync(logFile, 'utf8');
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));

  const h: KubeletHandle = {
    dir,
    rootDir,
    manifestDir,
    podLogsDir,
    cgroupRoot,
    cgroupDriver: driver,
    healthzPort,
    port,
    proc,
    log,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const killer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(killer);
    },
    removeCgroups() {
      // systemd removes the kubelet's slices once they are stopped (and empty).
      if (driver === 'systemd') {
        spawnSync('systemctl', ['stop', 'kubepods.slice']);
        return;
      }
      const left: string[] = [];
      for (const h of cgroupHierarchies()) {
        const top = path.join(V1_CONTROLLERS_DIR, h, cgroupRoot);
        if (!fs.existsSync(top)) continue;
        for (const d of [...subdirsDeepestFirst(top), top]) {
          try {
            fs.rmdirSync(d);
          } catch (e) {
            left.push(`${d}: ${(e as Error).message}`);
          }
        }
      }
      if (left.length) throw new Error(`cgroups left behind: ${left.join('; ')}`);
    },
  };

  // A deadline, not a delay: under qemu (the systemd lane) the kubelet takes long to load.
  const until = Date.now() + 240_000;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      h.removeCgroups();
      throw new Error(`kubelet exited (${proc.exitCode ?? proc.signalCode}) before it was healthy:\n${log().slice(-6000)}`);
    }
    const ok = await httpGet(`http://127.0.0.1:${healthzPort}/healthz`, 1000).then(
      (r) => r.status === 200 && r.body === 'ok',
      () => false,
    );
    if (ok) break;
    if (Date.now() > until) {
      await h.stop();
      h.removeCgroups();
      throw new Error(`kubelet not healthy on :${healthzPort} in 240 s:\n${log().slice(-6000)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return h;
}
