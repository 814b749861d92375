// containerd with its CRI plugin, started by the bench with a config of its own: root and state
// in a temp dir, its own sockets, the bench's CNI dirs and registry hosts, the bench's pause
// image, overlayfs, runc through the runc v2 shim with cgroupfs. Stopped cleanly after.
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { criClient, waitForCri } from './cri-client';
import { CNI_BIN_DIR, removeTree, type CriEnv } from './cri-env';
import { allProcs } from './procs';
import { exited, removeAllPods, type CriRuntime } from './runtime';

export function containerdVersion(): string {
  try {
    return execFileSync('containerd', ['--version'], { encoding: 'utf8' }).split(' ')[2]?.replace(/~.*/, '') ?? '?';
  } catch {
    return '?';
  }
}

export async function startContainerd(env: CriEnv): Promise<CriRuntime> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-bench-ctrd-'));
  const sock = path.join(dir, 'containerd.sock');
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  const config = `version = 2
root = "${dir}/root"
state = "${dir}/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "${sock}"
[ttrpc]
  address = "${sock}.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "${dir}/opt"
[${cri}]
  sandbox_image = "${env.pause}"
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [${cri}.containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [${cri}.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [${cri}.containerd.runtimes.runc.options]
        SystemdCgroup = false
  [${cri}.cni]
    bin_dir = "${CNI_BIN_DIR}"
    conf_dir = "${env.cniConfDir}"
    max_conf_num = 1
  [${cri}.registry]
    config_path = "${env.hostsDir}"
`;
  fs.writeFileSync(path.join(dir, 'config.toml'), config);
  const log = fs.openSync(path.join(dir, 'containerd.log'), 'w');
  const child = spawn('containerd', ['--config', path.join(dir, 'config.toml'), '--log-level', 'warn'], { stdio: ['ignore', log, log] });
  process.on('exit', () => child.kill('SIGKILL'));
  const client = criClient(sock);
  try {
    await waitForCri(client, 30_000, () => (child.exitCode !== null ? `containerd exited (${child.exitCode}); see ${dir}/containerd.log:\n${fs.readFileSync(path.join(dir, 'containerd.log'), 'utf8').slice(-2000)}` : undefined));
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  // Its shims name the daemon's socket in their command line: that tells them from any other
  // containerd's shims on this machine.
  const shims = (): number[] =>
    allProcs()
      .filter((p) => p.comm.startsWith('containerd-shim') && p.cmdline.includes(sock))
      .map((p) => p.pid);
  return {
    name: 'containerd',
    label: `containerd ${containerdVersion()} CRI`,
    socket: sock,
    client,
    helperName: 'containerd-shim-runc-v2',
    processes: () => ({ daemon: [child.pid!], helpers: shims() }),
    stop: async () => {
      await removeAllPods(client);
      client.close();
      child.kill('SIGTERM');
      if (!(await exited(child, 15_000))) child.kill('SIGKILL');
      for (const pid of shims()) process.kill(pid, 'SIGKILL');
      removeTree(dir);
    },
  };
}
