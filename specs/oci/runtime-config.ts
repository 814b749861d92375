// OCI runtime-spec config.json (Linux), as zod schemas. Property names follow the spec exactly;
// unknown properties are accepted and ignored, as the spec requires of runtimes.
// zod's v3 API (in the same package) loads in a third of v4's time, which every `tsrun create`
// and `exec` pays before it can read a config.
import { z } from 'zod/v3';

const uint32 = z.number().int().min(0).max(0xffffffff);
// JSON numbers lose precision past 2^53: 18446744073709551615 (RLIM_INFINITY) arrives rounded.
const uint64 = z.number().int().min(0);
const int64 = z.number().int();
const absPath = z.string().min(1);

// Every list is bounded, so a hostile config cannot make create run for minutes (20k mounts
// did): far above what runc configs, containerd and the kubelet ever write. args and env go
// to 65536 (a kubelet's service links can add thousands of variables; ARG_MAX bounds them too).
const MAX_ITEMS = 4096;
const list = <T extends z.ZodTypeAny>(item: T, max = MAX_ITEMS) => z.array(item).max(max);

export const IdMapping = z.object({ containerID: uint32, hostID: uint32, size: uint32 });

export const User = z.object({
  uid: uint32,
  gid: uint32,
  umask: uint32.optional(),
  additionalGids: list(uint32).optional(),
  username: z.string().optional(),
});

export const Capabilities = z.object({
  bounding: list(z.string()).optional(),
  effective: list(z.string()).optional(),
  inheritable: list(z.string()).optional(),
  permitted: list(z.string()).optional(),
  ambient: list(z.string()).optional(),
});

export const Rlimit = z.object({ type: z.string(), soft: uint64, hard: uint64 });

export const Process = z.object({
  terminal: z.boolean().optional(),
  consoleSize: z.object({ height: uint32, width: uint32 }).optional(),
  user: User,
  args: list(z.string(), 1 << 16).optional(),
  commandLine: z.string().optional(),
  env: list(z.string(), 1 << 16).optional(),
  cwd: z.string(),
  capabilities: Capabilities.optional(),
  rlimits: list(Rlimit).optional(),
  noNewPrivileges: z.boolean().optional(),
  apparmorProfile: z.string().optional(),
  oomScoreAdj: z.number().int().optional(),
  selinuxLabel: z.string().optional(),
});

export const Root = z.object({ path: z.string().min(1), readonly: z.boolean().optional() });

export const Mount = z.object({
  destination: z.string().min(1),
  source: z.string().optional(),
  options: list(z.string()).optional(),
  type: z.string().optional(),
  uidMappings: list(IdMapping).optional(),
  gidMappings: list(IdMapping).optional(),
});

export const Hook = z.object({
  path: absPath,
  args: list(z.string(), 1 << 16).optional(),
  env: list(z.string(), 1 << 16).optional(),
  timeout: z.number().int().optional(),
});

export const Hooks = z.object({
  prestart: list(Hook).optional(),
  createRuntime: list(Hook).optional(),
  createContainer: list(Hook).optional(),
  startContainer: list(Hook).optional(),
  poststart: list(Hook).optional(),
  poststop: list(Hook).optional(),
});

export const NAMESPACE_TYPES = ['pid', 'network', 'mount', 'ipc', 'uts', 'user', 'cgroup', 'time'] as const;
export const Namespace = z.object({ type: z.enum(NAMESPACE_TYPES), path: z.string().optional() });

export const Device = z.object({
  type: z.enum(['c', 'b', 'u', 'p']),
  path: z.string().min(1),
  major: int64.optional(),
  minor: int64.optional(),
  fileMode: uint32.optional(),
  uid: uint32.optional(),
  gid: uint32.optional(),
});

const DeviceCgroup = z.object({
  allow: z.boolean(),
  type: z.string().optional(),
  major: int64.nullable().optional(),
  minor: int64.nullable().optional(),
  access: z.string().optional(),
});

const WeightDevice = z.object({ major: int64, minor: int64, weight: z.number().int().optional(), leafWeight: z.number().int().optional() });
const ThrottleDevice = z.object({ major: int64, minor: int64, rate: uint64 });

export const Resources = z.object({
  devices: list(DeviceCgroup).optional(),
  memory: z
    .object({
      limit: int64.optional(),
      reservation: int64.optional(),
      swap: int64.optional(),
      kernel: int64.optional(),
      kernelTCP: int64.optional(),
      swappiness: uint64.optional(),
      disableOOMKiller: z.boolean().optional(),
      useHierarchy: z.boolean().optional(),
      checkBeforeUpdate: z.boolean().optional(),
    })
    .optional(),
  cpu: z
    .object({
      shares: uint64.optional(),
      quota: int64.optional(),
      burst: uint64.optional(),
      period: uint64.optional(),
      realtimeRuntime: int64.optional(),
      realtimePeriod: uint64.optional(),
      cpus: z.string().optional(),
      mems: z.string().optional(),
      idle: int64.optional(),
    })
    .optional(),
  pids: z.object({ limit: int64 }).optional(),
  blockIO: z
    .object({
      weight: z.number().int().optional(),
      leafWeight: z.number().int().optional(),
      weightDevice: list(WeightDevice).optional(),
      throttleReadBpsDevice: list(ThrottleDevice).optional(),
      throttleWriteBpsDevice: list(ThrottleDevice).optional(),
      throttleReadIOPSDevice: list(ThrottleDevice).optional(),
      throttleWriteIOPSDevice: list(ThrottleDevice).optional(),
    })
    .optional(),
  hugepageLimits: list(z.object({ pageSize: z.string(), limit: uint64 })).optional(),
  network: z.object({ classID: uint32.optional(), priorities: list(z.object({ name: z.string(), priority: uint32 })).optional() }).optional(),
  rdma: z.record(z.string(), z.object({ hcaHandles: uint32.optional(), hcaObjects: uint32.optional() })).optional(),
  unified: z.record(z.string(), z.string()).optional(),
});

export const SeccompArg = z.object({
  index: z.number().int().min(0),
  value: uint64,
  valueTwo: uint64.optional(),
  op: z.enum(['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ']),
});
export const SECCOMP_ACTIONS = [
  'SCMP_ACT_KILL',
  'SCMP_ACT_KILL_PROCESS',
  'SCMP_ACT_KILL_THREAD',
  'SCMP_ACT_TRAP',
  'SCMP_ACT_ERRNO',
  'SCMP_ACT_TRACE',
  'SCMP_ACT_ALLOW',
  'SCMP_ACT_LOG',
  'SCMP_ACT_NOTIFY',
] as const;
export const Seccomp = z.object({
  defaultAction: z.enum(SECCOMP_ACTIONS),
  defaultErrnoRet: uint32.optional(),
  architectures: list(z.string()).optional(),
  flags: list(z.string()).optional(),
  listenerPath: z.string().optional(),
  listenerMetadata: z.string().optional(),
  syscalls: z
    .array(
      z.object({
        names: list(z.string()).min(1),
        action: z.enum(SECCOMP_ACTIONS),
        errnoRet: uint32.optional(),
        args: list(SeccompArg).optional(),
      }),
    )
    .optional(),
});

export const Linux = z.object({
  namespaces: list(Namespace).optional(),
  uidMappings: list(IdMapping).optional(),
  gidMappings: list(IdMapping).optional(),
  timeOffsets: z.record(z.string(), z.object({ secs: int64.optional(), nanosecs: uint32.optional() })).optional(),
  devices: list(Device).optional(),
  cgroupsPath: z.string().optional(),
  resources: Resources.optional(),
  rootfsPropagation: z.string().optional(),
  seccomp: Seccomp.optional(),
  sysctl: z.record(z.string(), z.string()).optional(),
  maskedPaths: list(z.string()).optional(),
  readonlyPaths: list(z.string()).optional(),
  mountLabel: z.string().optional(),
  personality: z.object({ domain: z.string(), flags: list(z.string()).optional() }).optional(),
});

export const RuntimeConfig = z.object({
  ociVersion: z.string(),
  process: Process.optional(),
  root: Root.optional(),
  hostname: z.string().optional(),
  domainname: z.string().optional(),
  mounts: list(Mount, 1024).optional(),
  hooks: Hooks.optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  linux: Linux.optional(),
});

export type RuntimeConfig = z.infer<typeof RuntimeConfig>;
export type ProcessConfig = z.infer<typeof Process>;
export type MountConfig = z.infer<typeof Mount>;
export type HookConfig = z.infer<typeof Hook>;
export type HooksConfig = z.infer<typeof Hooks>;
export type NamespaceType = (typeof NAMESPACE_TYPES)[number];
export type LinuxResources = z.infer<typeof Resources>;
