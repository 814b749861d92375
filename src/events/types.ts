// The teaching trace: every step the runtime takes, typed. The native init reports its steps
// over the sync socket (EVENT frames); the TypeScript side adds its own.

/** Steps, by where they happen. Each has a text in every catalog (see the teaching issue). */
export const STEP_KINDS = [
  // runtime (TypeScript)
  'config_loaded',
  'state_reserved',
  'cgroup_created',
  'cgroup_limits',
  'paused',
  'resumed',
  'updated',
  'cgroup_joined',
  'init_spawned',
  'hook',
  'created',
  'started',
  'signal',
  'exited',
  'deleted',
  // images
  'image_resolved',
  'platform_selected',
  'blob_fetched',
  'layer_unpacked',
  'image_stored',
  'rootfs_mounted',
  // native init
  'setns',
  'clone',
  'id_maps',
  'namespace',
  'rootfs',
  'mount',
  'idmap',
  'mount_sources',
  'device',
  'createContainer',
  'startContainer',
  'hide_host_proc_sys',
  'pivot_root',
  'chroot',
  'readonly_path',
  'masked_path',
  'readonly_root',
  'hostname',
  'domainname',
  'sysctl',
  'console',
  'oom_score_adj',
  'rlimit',
  'cap_bounding',
  'user',
  'capabilities',
  'seccomp',
  // CRI server (pods and their containers)
  'pod_namespaces',
  'pod_shm',
  'pod_network',
  'pod_files',
  'pod_infra',
  'pod_stopped',
  'pod_removed',
  'container_spec',
  'monitor_started',
  'container_exited',
] as const;
export type StepKind = (typeof STEP_KINDS)[number];

export interface StepEvent {
  kind: StepKind;
  /** what the step acted on: a path, a namespace, a pid */
  detail: string;
  /** how long the step took, in microseconds */
  durationUs: number;
  /** wall-clock time the event was recorded */
  time: string;
  containerId?: string;
}
