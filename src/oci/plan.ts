// The init plan: config.json compiled once into exactly what the native init does, in order.
// Encoded by plan-encode.ts; decoded by native/init/plan.cc.

export type PlanMode = 'create' | 'exec';

export interface PlanMount {
  kind: 'mount' | 'symlink';
  source: string;
  dest: string;
  type: string;
  flags: number;
  propagation: number;
  data: string;
  /** an idmapped bind mount: uid_map/gid_map texts of its user namespace */
  idmap?: { uidMap: string; gidMap: string };
  /** mount_setattr(AT_RECURSIVE) attributes for the mount and all mounts below it (rro, rnosuid, ...) */
  recursive?: { set: number; clear: number };
}

export interface PlanDevice {
  type: 'c' | 'b' | 'p';
  path: string;
  major: number;
  minor: number;
  mode: number;
  uid: number;
  gid: number;
}

export interface PlanHook {
  phase: 'createContainer' | 'startContainer';
  path: string;
  args: string[];
  env: string[];
  timeout: number;
}

export interface PlanCaps {
  bounding: bigint;
  effective: bigint;
  inheritable: bigint;
  permitted: bigint;
  ambient: bigint;
}

export interface Plan {
  mode: PlanMode;
  foreground: boolean;
  cloneFlags: number;
  join: { flag: number; path: string }[];
  uidMap: string;
  gidMap: string;
  /** rootless: the setuid helpers that write maps of more than the caller's own id (empty: write it directly) */
  idMapHelpers?: { newuidmap: string; newgidmap: string };
  /** rootless with only its own gid mapped: setgroups(2) is denied first, as the kernel requires */
  setgroupsDeny?: boolean;
  timensOffsets: string;
  rootfs: string;
  rootReadonly: boolean;
  rootPropagation: number;
  mounts: PlanMount[];
  devices: PlanDevice[];
  masked: string[];
  readonly: string[];
  hostname?: string;
  domainname?: string;
  sysctls: { path: string; value: string }[];
  rlimits: { resource: number; soft: bigint; hard: bigint }[];
  oomScoreAdj?: number;
  uid: number;
  gid: number;
  additionalGids: number[];
  umask?: number;
  cwd: string;
  env: string[];
  args: string[];
  terminal: boolean;
  consoleSocket: string;
  noNewPrivs: boolean;
  caps?: PlanCaps;
  execFifo: string;
  hooks: PlanHook[];
  preserveFds: number;
  events: boolean;
  noPivot: boolean;
  seccomp?: { bpf: Buffer; flags: number; listenerPath: string; listenerPrefix: string };
  /** the process places itself in its cgroups (else the runtime writes cgroup.procs) */
  cgroupJoin?: CgroupSelfJoin;
}

/** How the process enters its cgroups by itself (src/cgroups/manager's CgroupSelfJoin has this shape). */
export interface CgroupSelfJoin {
  /** v1 hierarchy directories: the process writes "0" to each one's `tasks` */
  taskDirs: string[];
  /** a v2 directory: the process is cloned into it (clone3 CLONE_INTO_CGROUP) */
  cloneInto?: string;
}
