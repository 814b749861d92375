// containerd (Debian's 1.6) as a Kubernetes CRI runtime with a config of its own: root and
// state in a directory of the caller's, its own sockets, the caller's CNI dirs, registry hosts
// and pause image, overlayfs, runc through the runc v2 shim with cgroupfs. The benches
// (bench/lib/containerd.ts) and the node conformance run (test/k8s/conformance) start it so.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface ContainerdCriOptions {
  /** root/, state/, opt/, the config and the log go here */
  dir: string;
  /** the sandbox image (registry.k8s.io/pause stand-in) */
  pause: string;
  cniConfDir: string;
  cniBinDir: string;
  /** containerd-style certs.d: <registry>/hosts.toml */
  hostsDir: string;
  /** runc's state dir (default: containerd's own, under /run/containerd/runc) */
  runcRoot?: string;
  /** the gRPC socket (default `<dir>/containerd.sock`) */
  socket?: string;
}

/** The config.toml (version 2) for these options. */
export function containerdCriConfig(o: ContainerdCriOptions): string {
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  const sock = o.socket ?? path.join(o.dir, 'containerd.sock');
  return `version = 2
root = "${o.dir}/root"
state = "${o.dir}/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "${sock}"
[ttrpc]
  address = "${sock}.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "${o.dir}/opt"
[${cri}]
  sandbox_image = "${o.pause}"
  # No CAP_SYS_RESOURCE on these hosts: a negative oom_score_adj would fail.
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
${o.runcRoot ? `        Root = "${o.runcRoot}"\n` : ''}  [${cri}.cni]
    bin_dir = "${o.cniBinDir}"
    conf_dir = "${o.cniConfDir}"
    max_conf_num = 1
  [${cri}.registry]
    config_path = "${o.hostsDir}"
`;
}

/** Writes the config and starts containerd on it (log in `<dir>/containerd.log`). */
export function spawnContainerdCri(o: ContainerdCriOptions, logLevel = 'warn'): { child: ChildProcess; socket: string; logFile: string } {
  fs.mkdirSync(o.dir, { recursive: true });
  const config = path.join(o.dir, 'config.toml');
  fs.writeFileSync(config, containerdCriConfig(o));
  const logFile = path.join(o.dir, 'containerd.log');
  const log = fs.openSync(logFile, 'w');
  const child = spawn('containerd', ['--config', config, '--log-level', logLevel], { stdio: ['ignore', log, log] });
  fs.closeSync(log);
  return { child, socket: o.socket ?? path.join(o.dir, 'containerd.sock'), logFile };
}
