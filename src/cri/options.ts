// Where the CRI server keeps what, and how it reaches the rest of the machine. Records that
// must survive a restart of the server live under stateDir; sockets, pinned namespaces and the
// OCI runtime's state (gone with a reboot, as the containers are) under runDir.
import * as path from 'node:path';

export interface CriOptions {
  /** unix:///run/tsrun/cri.sock */
  listen: string;
  stateDir: string;
  runDir: string;
  /** image store shared with `tsrun pull` */
  store: string;
  /** hosts.toml mirror directory for pulls (registry config) */
  registryConfig?: string;
  cniConfDir: string;
  cniBinDirs: string[];
  /** address of the streaming server (exec/attach/port-forward) */
  streamHost: string;
  streamPort: number;
  /** cgroup parent of pods that name none (systemd driver: a slice, tsrun.slice by default) */
  defaultCgroupParent: string;
  /**
   * As containerd's restrict_oom_score_adj: a container's oom_score_adj is never set below the
   * server's own, for hosts where lowering it is not allowed (no CAP_SYS_RESOURCE), where the
   * kubelet's -997 for a Guaranteed pod would make its containers fail.
   */
  restrictOomScoreAdj: boolean;
  /** the systemd cgroup driver (tsrun --systemd-cgroup cri): RuntimeConfig reports SYSTEMD */
  systemdCgroup: boolean;
}

export function defaultCriOptions(over: Partial<CriOptions> = {}): CriOptions {
  return {
    listen: 'unix:///run/tsrun/cri.sock',
    stateDir: '/var/lib/tsrun/cri',
    runDir: '/run/tsrun/cri',
    store: process.env['TSRUN_STORE'] ?? '/var/lib/tsrun',
    cniConfDir: '/etc/cni/net.d',
    cniBinDirs: ['/opt/cni/bin', '/usr/lib/cni'],
    streamHost: '127.0.0.1',
    streamPort: 0,
    defaultCgroupParent: '/tsrun-cri',
    restrictOomScoreAdj: false,
    systemdCgroup: false,
    ...over,
  };
}

export function socketPath(listen: string): string {
  return listen.startsWith('unix://') ? listen.slice('unix://'.length) : listen;
}

/** Every path the server derives from its options, in one place. */
export class CriPaths {
  constructor(readonly o: CriOptions) {}
  get runtimeRoot(): string {
    return path.join(this.o.runDir, 'runtime');
  }
  get cniCache(): string {
    return path.join(this.o.stateDir, 'cni');
  }
  sandboxRun(id: string): string {
    return path.join(this.o.runDir, 'pods', id);
  }
  /** The monitor's directory: short, since it holds unix sockets (108-byte limit). */
  monitorDir(id: string): string {
    return path.join(this.o.runDir, 'm', id);
  }
}
