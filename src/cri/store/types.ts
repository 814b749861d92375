// What the server remembers of each pod and container. CRI configs are kept as received:
// PodSandboxStatus and ContainerStatus report them back.
import type { ContainerConfig__Output } from '../generated/runtime/v1/ContainerConfig';
import type { PodSandboxConfig__Output } from '../generated/runtime/v1/PodSandboxConfig';

export type SandboxState = 'SANDBOX_READY' | 'SANDBOX_NOTREADY';
export type ContainerState = 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN';

/** Bumped when a record's shape changes; records of an unknown version are not loaded. */
export const RECORD_VERSION = 1;

export interface SandboxRecord {
  version?: number;
  id: string;
  name: string;
  config: PodSandboxConfig__Output;
  runtimeHandler: string;
  state: SandboxState;
  /** unix nanoseconds, as a decimal string (int64 on the wire) */
  createdAt: string;
  /** pinned namespace files (absent: the host's) */
  netns?: string;
  /** the pod's own user namespace (userns_options POD), which owns its other namespaces */
  userns?: string;
  ipcns?: string;
  utsns?: string;
  /** /proc/PID/ns/pid of the infra process, when the pod shares one PID namespace */
  infra?: { id: string; pid: number; monitor?: MonitorProcess };
  /** the CNI attachment is still to be torn down (false once it is; absent in older records) */
  networkAttached?: boolean;
  hostNetwork: boolean;
  hostIpc: boolean;
  hostPid: boolean;
  ip?: string;
  additionalIps: string[];
  cgroupParent: string;
  /** true when the server made the cgroup parent (and so removes it) */
  ownCgroupParent: boolean;
  /** the systemd driver: cgroupParent is a slice, containers are scopes in it */
  systemdCgroup?: boolean;
  hostname: string;
  /** /dev/shm of the pod: a tmpfs the containers share, or the host's */
  shm: string;
  /** resolv.conf, hosts and hostname files bind-mounted into each container */
  files: { resolv: string; hosts: string; hostname: string };
}

/** A monitor's pid and /proc start time: a reused pid is not taken for it. */
export interface MonitorProcess {
  pid: number;
  startTime?: string;
}

export interface ExitInfo {
  exitCode: number;
  finishedAt: string;
  reason: string;
  message: string;
}

export interface ContainerRecord {
  version?: number;
  id: string;
  sandboxId: string;
  name: string;
  config: ContainerConfig__Output;
  /** image record name and config digest (the image id) */
  imageName: string;
  imageId: string;
  imageDigest: string;
  state: ContainerState;
  createdAt: string;
  startedAt: string;
  exit?: ExitInfo;
  pid: number;
  /** the container's monitor, once StartContainer made it (to tell a monitor that is gone) */
  monitor?: MonitorProcess;
  /** after the exit: the runtime's container and the rootfs mount are gone (releaseRuntime) */
  released?: boolean;
  /** full host path of the CRI log, or '' */
  logPath: string;
  bundle: string;
  cgroupsPath: string;
  /** the systemd driver: cgroupsPath is "slice:tsrun:id" */
  systemdCgroup?: boolean;
  /** the host side of each mount, as ContainerStatus reports it */
  mounts: ContainerConfig__Output['mounts'];
  /** the user the process runs as (for ContainerStatus.user) */
  user: { uid: number; gid: number; supplementalGroups: number[] };
  stopSignal: string;
  /** host paths bind-mounted shared for bidirectional volumes, unmounted on removal */
  sharedMounts?: string[];
}

export function nowNs(): string {
  const ms = BigInt(Date.now());
  const sub = process.hrtime.bigint() % 1_000_000n;
  return String(ms * 1_000_000n + sub);
}
