import type { NamespaceType } from '../../specs/oci/runtime-config';

// CLONE_NEW* flags (include/uapi/linux/sched.h).
export const CLONE_FLAG: Record<NamespaceType, number> = {
  mount: 0x00020000,
  cgroup: 0x02000000,
  uts: 0x04000000,
  ipc: 0x08000000,
  user: 0x10000000,
  pid: 0x20000000,
  network: 0x40000000,
  time: 0x00000080,
};

// Names of the files under /proc/PID/ns/.
export const NS_FILE: Record<NamespaceType, string> = {
  mount: 'mnt',
  cgroup: 'cgroup',
  uts: 'uts',
  ipc: 'ipc',
  user: 'user',
  pid: 'pid',
  network: 'net',
  time: 'time',
};
