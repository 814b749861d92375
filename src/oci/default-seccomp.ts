// The RuntimeDefault seccomp profile of the CRI: everything allowed but the syscalls that
// reach past a container's namespaces (kernel modules, clocks, keyrings, reboot, mounting,
// tracing other processes, new namespaces), which fail with EPERM. Docker's profile is an
// allow-list; this deny-list blocks the same escape routes and breaks fewer programs.
// A container given the matching capability (CAP_SYS_ADMIN, CAP_SYS_PTRACE, ...) gets those
// syscalls back, as Docker's profile does.
import type { RuntimeConfig } from '../../specs/oci/runtime-config';

type Seccomp = NonNullable<NonNullable<RuntimeConfig['linux']>['seccomp']>;

const ALWAYS_BLOCKED = [
  'acct',
  'add_key',
  'bpf',
  'clock_adjtime',
  'clock_settime',
  'create_module',
  'delete_module',
  'finit_module',
  'get_kernel_syms',
  'get_mempolicy',
  'init_module',
  'ioperm',
  'iopl',
  'kexec_file_load',
  'kexec_load',
  'keyctl',
  'lookup_dcookie',
  'mbind',
  'move_pages',
  'nfsservctl',
  'open_by_handle_at',
  'perf_event_open',
  'query_module',
  'request_key',
  'set_mempolicy',
  'settimeofday',
  'stime',
  'swapoff',
  'swapon',
  'sysfs',
  '_sysctl',
  'uselib',
  'userfaultfd',
  'ustat',
  'vm86',
  'vm86old',
  'reboot',
  'kcmp',
  'fsconfig',
  'fsmount',
  'fsopen',
  'fspick',
  'move_mount',
  'open_tree',
  'mount_setattr',
  'quotactl',
  'quotactl_fd',
];
const BY_CAPABILITY: Record<string, string[]> = {
  CAP_SYS_ADMIN: ['mount', 'umount', 'umount2', 'unshare', 'setns', 'pivot_root', 'name_to_handle_at', 'syslog'],
  CAP_SYS_PTRACE: ['ptrace', 'process_vm_readv', 'process_vm_writev'],
  CAP_SYS_TIME: [],
  CAP_SYS_MODULE: [],
};

export function runtimeDefaultSeccomp(capabilities: readonly string[]): Seccomp {
  const caps = new Set(capabilities);
  const blocked = [...ALWAYS_BLOCKED];
  for (const [cap, calls] of Object.entries(BY_CAPABILITY)) if (!caps.has(cap)) blocked.push(...calls);
  return {
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
    syscalls: [{ names: blocked, action: 'SCMP_ACT_ERRNO', errnoRet: 1 }],
  };
}
