// The node side of a conformance run: runs as root inside the mount, network, cgroup, IPC and
// UTS namespaces run.ts made (`node node.js CONFIG`), so that the suite's fixed ports
// (apiserver 6443, kubelet 10248/10250/10255), fixed paths (/var/lib/kubelet, /var/log/pods)
// and everything the kubelet and the runtime change (cgroups, sysctls, iptables, bridges) stay
// inside. Here it makes the node: its view of the cgroup tree rooted at the run's own cgroup,
// stand-in /proc/sys tunables, private /run, /tmp, /var/log and /var/lib/kubelet, a node IP;
// then serves the stand-in images, starts the runtime, pre-pulls, runs e2e_node, and tears
// the runtime's pods down.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadCri } from '../../../src/cri/proto';
import { writeMirrorDir } from '../../fixtures/stand-in-images';
import { startRegistry, type Registry } from '../../fixtures/registry';
import { spawnContainerdCri } from '../../helpers/containerd-cri';
import { KERNEL_TUNABLES } from '../../helpers/kubelet';
import { NODE_IP, NODE_NAME, POD_SUBNET, type NodeRunConfig } from './config';

const CNI_BIN_DIR = '/usr/lib/cni';
/** The cgroup (in this namespace's view) the runtime runs in: the kubelet's --runtime-cgroups, for its stats. */
const RUNTIME_CGROUP = '/runtime';
/** The kubelet's cgroup: the suite gives it as KubeletCgroups where systemd does not run. */
const KUBELET_CGROUP = '/kubelet';

const log = (m: string): void => void process.stdout.write(`[node ${new Date().toISOString().slice(11, 19)}] ${m}\n`);
const run = (cmd: string, ...args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

interface MountInfo {
  mountpoint: string;
  fstype: string;
  superOptions: string;
}

function mounts(): MountInfo[] {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [pre, post] = l.split(' - ');
      const [fstype, , superOptions] = post!.split(' ');
      return { mountpoint: pre!.split(' ')[4]!, fstype: fstype!, superOptions: superOptions! };
    });
}

/** Every cgroup hierarchy's mount point under /sys/fs/cgroup. */
function cgroupMounts(): MountInfo[] {
  return mounts().filter((m) => (m.fstype === 'cgroup' || m.fstype === 'cgroup2') && m.mountpoint.startsWith('/sys/fs/cgroup/'));
}

function setUpMounts(c: NodeRunConfig): void {
  // Each hierarchy mounted again from inside the cgroup namespace shows its root: the run's own
  // cgroup. The kubelet's cgroupRoot "/" (and the specs that look for /kubepods/burstable under
  // /sys/fs/cgroup) land there, never in the host's tree.
  // (The kernel refuses a hierarchy mounted again on its own mount point: a fresh tmpfs holds them.)
  const hierarchies = cgroupMounts();
  const links = fs.readdirSync('/sys/fs/cgroup', { withFileTypes: true }).filter((e) => e.isSymbolicLink());
  const targets = links.map((l) => fs.readlinkSync(path.join('/sys/fs/cgroup', l.name)));
  run('mount', '-t', 'tmpfs', '-o', 'mode=755', 'cgroup-root', '/sys/fs/cgroup');
  for (const m of hierarchies) {
    fs.mkdirSync(m.mountpoint, { recursive: true });
    run('mount', '-t', m.fstype, '-o', m.superOptions, m.fstype, m.mountpoint);
  }
  links.forEach((l, i) => fs.symlinkSync(targets[i]!, path.join('/sys/fs/cgroup', l.name)));
  // The kubelet's container manager rewrites these sysctls host-wide when they differ from
  // what it wants (kernel.panic_on_oops=1 ...): it finds its values in files of ours instead.
  const tunables = path.join(c.workDir, 'sysctl');
  fs.mkdirSync(tunables, { recursive: true });
  for (const [name, value] of Object.entries(KERNEL_TUNABLES)) {
    const file = path.join(tunables, name.replace(/\//g, '.'));
    fs.writeFileSync(file, `${value}\n`);
    run('mount', '--bind', file, `/proc/sys/${name}`);
  }
  // The suite's fixed paths, and where the kubelet, the runtimes and the specs write: the
  // run's own directories (the kubelet makes its root dir an rshared mount itself).
  for (const [dir, target] of [
    ['kubelet', '/var/lib/kubelet'],
    ['var-log', '/var/log'],
  ] as const) {
    const own = path.join(c.workDir, dir);
    fs.mkdirSync(own, { recursive: true });
    run('mount', '--bind', own, target);
  }
  // A /tmp of its own (hostPath specs write there); what the run needs from the host's /tmp
  // (a checkout there) is bound back in.
  const keep = c.keepVisible.filter((p) => p.startsWith('/tmp/'));
  const hostTmp = path.join(c.workDir, 'host-tmp');
  if (keep.length) {
    fs.mkdirSync(hostTmp);
    run('mount', '--bind', '/tmp', hostTmp);
  }
  const ownTmp = path.join(c.workDir, 'tmp');
  fs.mkdirSync(ownTmp);
  fs.chmodSync(ownTmp, 0o1777);
  run('mount', '--bind', ownTmp, '/tmp');
  for (const p of keep) {
    fs.mkdirSync(p, { recursive: true });
    run('mount', '--bind', path.join(hostTmp, path.relative('/tmp', p)), p);
  }
  run('mount', '-t', 'tmpfs', '-o', 'mode=755', 'tmpfs', '/run');
  // Names resolve nowhere: a pull of an image the stand-ins lack fails at once instead of
  // waiting on a resolver this namespace cannot reach.
  const resolv = path.join(c.workDir, 'resolv.conf');
  fs.writeFileSync(resolv, 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n');
  run('mount', '--bind', resolv, '/etc/resolv.conf');
  // PID 1 is no systemd: the suite would start the kubelet through systemd-run if it found it.
  for (const p of ['/usr/bin/systemd-run', '/usr/local/bin/systemd-run']) {
    if (!fs.existsSync(p)) continue;
    const stub = path.join(c.workDir, 'no-systemd-run');
    fs.writeFileSync(stub, '', { mode: 0o644 });
    run('mount', '--bind', stub, p);
  }
}

function setUpNetwork(): void {
  run('ip', 'link', 'set', 'lo', 'up');
  // The node's link: one end of a veth pair whose other end stays here too (this kernel has no
  // dummy links); it leads nowhere, as the run needs nothing outside its namespace.
  run('ip', 'link', 'add', 'node0', 'type', 'veth', 'peer', 'name', 'node0-peer');
  run('ip', 'addr', 'add', `${NODE_IP}/24`, 'dev', 'node0');
  run('ip', 'link', 'set', 'node0-peer', 'up');
  run('ip', 'link', 'set', 'node0', 'up');
  // A default route: the API server picks its advertised address from it.
  run('ip', 'route', 'add', 'default', 'via', NODE_IP.replace(/\.\d+$/, '.254'), 'dev', 'node0');
  run('hostname', NODE_NAME);
}

function writeCniConfig(c: NodeRunConfig): string {
  const dir = path.join(c.workDir, 'net.d');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, '10-conformance.conflist'),
    JSON.stringify({
      cniVersion: '1.0.0',
      name: 'conformance',
      plugins: [
        {
          type: 'bridge',
          bridge: 'cni0',
          isGateway: true,
          ipMasq: false,
          hairpinMode: true,
          ipam: { type: 'host-local', ranges: [[{ subnet: POD_SUBNET }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: path.join(c.workDir, 'ipam') },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    }),
  );
  return dir;
}

/** Moves `pid` into `cgroup` (this namespace's view) in every hierarchy, creating it. */
function moveToCgroup(pid: number, cgroup: string): void {
  for (const m of cgroupMounts()) {
    const dir = path.join(m.mountpoint, cgroup);
    fs.mkdirSync(dir, { recursive: true });
    if (m.superOptions.split(',').includes('cpuset'))
      for (const f of ['cpuset.cpus', 'cpuset.mems']) fs.writeFileSync(path.join(dir, f), fs.readFileSync(path.join(m.mountpoint, f)));
    fs.writeFileSync(path.join(dir, 'cgroup.procs'), String(pid));
  }
}

interface Runtime {
  socket: string;
  child: ChildProcess;
  version: string;
  logFile: string;
}

async function waitForCri(socket: string, child: ChildProcess, logFile: string): Promise<string> {
  const cri = loadCri();
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`the runtime exited (${child.exitCode ?? child.signalCode}):\n${fs.readFileSync(logFile, 'utf8').slice(-3000)}`);
    if (fs.existsSync(socket)) {
      const client = new cri.runtimeClient(`unix://${socket}`, grpc.credentials.createInsecure());
      const v = await new Promise<{ runtime_name: string; runtime_version: string } | undefined>((resolve) =>
        client.Version({}, { deadline: Date.now() + 5000 }, (e, r) => resolve(e ? undefined : (r as { runtime_name: string; runtime_version: string }))),
      );
      client.close();
      if (v) return `${v.runtime_name} ${v.runtime_version}`;
    }
    if (Date.now() > deadline) throw new Error(`the runtime did not answer on ${socket} in 60 s:\n${fs.readFileSync(logFile, 'utf8').slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function startRuntime(c: NodeRunConfig, cniConfDir: string, hostsDir: string): Promise<Runtime> {
  let child: ChildProcess;
  let socket: string;
  let logFile: string;
  if (c.runtime === 'tsrun') {
    const dir = path.join(c.workDir, 'tsrun');
    fs.mkdirSync(dir, { recursive: true });
    socket = path.join(dir, 'cri.sock');
    logFile = path.join(c.outDir, 'tsrun-cri.log');
    const out = fs.openSync(logFile, 'w');
    child = spawn(
      c.tsrun,
      // --restrict-oom-score-adj as containerd's restrict_oom_score_adj below: no CAP_SYS_RESOURCE here.
      [
        '--store',
        path.join(dir, 'store'),
        'cri',
        '--listen',
        `unix://${socket}`,
        '--state-dir',
        path.join(dir, 'state'),
        '--run-dir',
        '/run/tsrun-cri',
        '--cni-conf-dir',
        cniConfDir,
        '--registry-config',
        hostsDir,
        '--restrict-oom-score-adj',
      ],
      { stdio: ['ignore', out, out] },
    );
    fs.closeSync(out);
  } else {
    const pause = c.images.find((i) => i.startsWith('registry.k8s.io/pause:'));
    if (!pause) throw new Error('no pause stand-in among the images');
    // Its socket at the default path (this /run is the run's own): the kubelet's cAdvisor finds
    // containerd there, and takes the container labels of its metrics from it.
    ({ child, socket, logFile } = spawnContainerdCri(
      { dir: path.join(c.workDir, 'containerd'), socket: '/run/containerd/containerd.sock', pause, cniConfDir, cniBinDir: CNI_BIN_DIR, hostsDir },
      'info',
    ));
  }
  moveToCgroup(child.pid!, RUNTIME_CGROUP);
  fs.writeFileSync('/run/runtime.pid', `${child.pid}\n`);
  const version = await waitForCri(socket, child, logFile);
  return { socket, child, version, logFile };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- replies of several CRI messages, read by field
function call(client: grpc.Client, method: string, req: object, ms: number): Promise<any> {
  return new Promise((resolve, reject) =>
    (client as unknown as Record<string, (r: object, o: object, cb: (e: Error | null, r: unknown) => void) => void>)[method]!(
      req,
      { deadline: Date.now() + ms },
      (e, r) => (e ? reject(e) : resolve(r)),
    ),
  );
}

async function prePull(socket: string, images: string[]): Promise<void> {
  const cri = loadCri();
  const client = new cri.imageClient(`unix://${socket}`, grpc.credentials.createInsecure());
  try {
    for (const image of images) {
      try {
        await call(client, 'PullImage', { image: { image } }, 300_000);
      } catch (e) {
        throw new Error(`pre-pulling ${image}: ${(e as Error).message}`, { cause: e });
      }
    }
  } finally {
    client.close();
  }
}

/** Every pod the runtime still has, stopped and removed (the suite leaves the ones it failed to delete). */
async function removeAllPods(socket: string): Promise<void> {
  const cri = loadCri();
  const client = new cri.runtimeClient(`unix://${socket}`, grpc.credentials.createInsecure());
  try {
    const { items } = (await call(client, 'ListPodSandbox', {}, 30_000)) as { items: { id: string }[] };
    for (const p of items) {
      await call(client, 'StopPodSandbox', { pod_sandbox_id: p.id }, 120_000).catch((e: Error) => log(`StopPodSandbox ${p.id}: ${e.message}`));
      await call(client, 'RemovePodSandbox', { pod_sandbox_id: p.id }, 120_000).catch((e: Error) => log(`RemovePodSandbox ${p.id}: ${e.message}`));
    }
    if (items.length) log(`removed ${items.length} pods the suite left`);
  } finally {
    client.close();
  }
}

function stopped(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    child.once('exit', () => (clearTimeout(t), resolve(true)));
  });
}

/**
 * A bin dir for the suite whose kubelet first joins the cgroup /kubelet (the suite's
 * KubeletCgroups), then runs the real one. The kubelet moves itself there only when it shares
 * the host's mount namespace, which this one does not; under systemd, its unit would.
 */
function kubeletBinDir(c: NodeRunConfig): string {
  const dir = path.join(c.workDir, 'bin');
  fs.mkdirSync(dir, { recursive: true });
  const procs = cgroupMounts().map((m) => {
    const cg = path.join(m.mountpoint, KUBELET_CGROUP);
    fs.mkdirSync(cg, { recursive: true });
    if (m.superOptions.split(',').includes('cpuset'))
      for (const f of ['cpuset.cpus', 'cpuset.mems']) fs.writeFileSync(path.join(cg, f), fs.readFileSync(path.join(m.mountpoint, f)));
    return path.join(cg, 'cgroup.procs');
  });
  fs.writeFileSync(
    path.join(dir, 'kubelet'),
    `#!/bin/sh
for f in ${procs.join(' ')}; do echo $$ > "$f" || exit 1; done
exec ${path.join(c.k8sBinDir, 'kubelet')} "$@"
`,
    { mode: 0o755 },
  );
  return dir;
}

/** The kubelet's base configuration: upstream's (test/e2e_node/jenkins/default-kubelet-config.yaml) and what this host needs. */
function writeKubeletConfig(c: NodeRunConfig): string {
  const file = path.join(c.workDir, 'kubelet-base.json');
  fs.writeFileSync(
    file,
    JSON.stringify(
      {
        apiVersion: 'kubelet.config.k8s.io/v1beta1',
        kind: 'KubeletConfiguration',
        cgroupDriver: 'cgroupfs',
        cgroupRoot: '/',
        podCIDR: '10.100.0.0/24',
        volumeStatsAggPeriod: '10s',
        fileCheckFrequency: '10s',
        evictionPressureTransitionPeriod: '30s',
        evictionHard: { 'memory.available': '250Mi', 'nodefs.available': '10%', 'nodefs.inodesFree': '5%' },
        evictionMinimumReclaim: { 'nodefs.available': '5%', 'nodefs.inodesFree': '5%' },
        serializeImagePulls: false,
        // This host mounts cgroup v1 controllers (hybrid); 1.34 runs there when told to.
        failCgroupV1: false,
        // Lowering its own oom_score_adj needs CAP_SYS_RESOURCE, which this host withholds.
        oomScoreAdj: 0,
        // The images were pulled before the suite started: garbage collection must not take them.
        imageGCHighThresholdPercent: 100,
        imageGCLowThresholdPercent: 99,
      },
      null,
      2,
    ),
  );
  return file;
}

async function main(): Promise<number> {
  const c = JSON.parse(fs.readFileSync(process.argv[2]!, 'utf8')) as NodeRunConfig;
  setUpMounts(c);
  setUpNetwork();
  log(`node ${NODE_NAME} at ${NODE_IP}, cgroups, /var/lib/kubelet, /var/log, /run and /tmp of its own`);

  let registry: Registry | undefined;
  let rt: Runtime | undefined;
  let suite: ChildProcess | undefined;
  let terminated = false;
  process.on('SIGTERM', () => {
    terminated = true;
    log('SIGTERM: stopping the suite');
    suite?.kill('SIGTERM');
  });
  try {
    registry = await startRegistry('plain', { dataDir: path.join(c.imagesDir, 'registry') });
    const hostsDir = path.join(c.workDir, 'certs.d');
    writeMirrorDir(hostsDir, registry.addr, ['registry.k8s.io']);
    const cniConfDir = writeCniConfig(c);
    rt = await startRuntime(c, cniConfDir, hostsDir);
    fs.writeFileSync(path.join(c.outDir, 'runtime-version'), rt.version + '\n');
    log(`runtime: ${rt.version} on ${rt.socket}`);
    const t0 = Date.now();
    await prePull(rt.socket, c.images);
    log(`pre-pulled ${c.images.length} images in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    if (terminated) return 1;

    const suiteDir = path.join(c.workDir, 'suite');
    fs.mkdirSync(suiteDir, { recursive: true });
    const comm = fs.readFileSync(`/proc/${rt.child.pid}/comm`, 'utf8').trim();
    const args = [
      `--container-runtime-endpoint=unix://${rt.socket}`,
      `--container-runtime-process-name=${comm}`,
      '--container-runtime-pid-file=/run/runtime.pid',
      `--k8s-bin-dir=${kubeletBinDir(c)}`,
      `--node-name=${NODE_NAME}`,
      `--report-dir=${c.outDir}`,
      // The images are pulled above; the suite would want every image of its list, most of which no [NodeConformance] spec runs.
      '--prepull-images=false',
      `--kubelet-flags=--node-ip=${NODE_IP} --runtime-cgroups=${RUNTIME_CGROUP}`,
      `--kubelet-config-file=${writeKubeletConfig(c)}`,
      `--ginkgo.focus=${c.focus}`,
      `--ginkgo.timeout=${c.ginkgoTimeout}`,
      `--ginkgo.json-report=${path.join(c.outDir, 'ginkgo.json')}`,
      `--ginkgo.junit-report=${path.join(c.outDir, 'junit.xml')}`,
      '--ginkgo.no-color',
      '--ginkgo.v',
    ];
    fs.writeFileSync(path.join(c.outDir, 'e2e_node.args'), args.join('\n') + '\n');
    const out = fs.openSync(path.join(c.outDir, 'e2e.log'), 'w');
    log(`e2e_node: focus ${c.focus.length > 120 ? c.focus.slice(0, 120) + '...' : c.focus} (log: ${path.join(c.outDir, 'e2e.log')})`);
    suite = spawn(path.join(c.k8sBinDir, 'e2e_node'), args, { cwd: suiteDir, stdio: ['ignore', out, out] });
    fs.closeSync(out);
    const code = await new Promise<number>((resolve) => suite!.once('exit', (code, sig) => resolve(code ?? (sig ? 128 : 1))));
    log(`e2e_node exited ${code}`);
    return code;
  } finally {
    if (rt) {
      await removeAllPods(rt.socket).catch((e: Error) => log(`removing pods: ${e.message}`));
      rt.child.kill('SIGTERM');
      if (!(await stopped(rt.child, 30_000))) rt.child.kill('SIGKILL');
    }
    await registry?.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (e: Error) => {
    log(`failed: ${e.stack ?? e.message}`);
    process.exit(2);
  },
);
