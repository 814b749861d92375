// The starting config.json that `tsrun spec` writes: the same defaults as `runc spec`, so
// bundles move between the two unchanged.
import type { RuntimeConfig } from '../../specs/oci/runtime-config';

const CAPS = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

/**
 * cgroupns: runc's spec adds a cgroup namespace only on a pure cgroup v2 host (on v1 and hybrid
 * hosts a client that adds one itself would find it listed twice); `tsrun spec` says which.
 */
export function defaultSpec(opts: { rootless?: boolean; uid?: number; gid?: number; cgroupns?: boolean } = {}): RuntimeConfig {
  const spec: RuntimeConfig = {
    ociVersion: '1.2.0',
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ['sh'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: { bounding: CAPS, effective: CAPS, permitted: CAPS, ambient: CAPS },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'tsrun',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
    ],
    linux: {
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'cgroup' }],
      maskedPaths: [
        '/proc/acpi',
        '/proc/asound',
        '/proc/kcore',
        '/proc/keys',
        '/proc/latency_stats',
        '/proc/timer_list',
        '/proc/timer_stats',
        '/proc/sched_debug',
        '/sys/firmware',
        '/proc/scsi',
      ],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
  if (opts.cgroupns === false) spec.linux!.namespaces = spec.linux!.namespaces!.filter((n) => n.type !== 'cgroup');
  if (opts.rootless) {
    const l = spec.linux!;
    l.namespaces = [
      { type: 'pid' },
      { type: 'ipc' },
      { type: 'uts' },
      { type: 'mount' },
      ...(opts.cgroupns === false ? [] : [{ type: 'cgroup' as const }]),
      { type: 'user' },
    ];
    // The caller's own id alone: the kernel lets it write this map itself (no newuidmap).
    l.uidMappings = [{ containerID: 0, hostID: opts.uid ?? 0, size: 1 }];
    l.gidMappings = [{ containerID: 0, hostID: opts.gid ?? 0, size: 1 }];
    delete l.resources;
    // As runc's ToRootless: sysfs cannot be mounted without a network namespace of our own, so
    // /sys is the host's, bound read-only; uid=/gid= options name ids that are not mapped.
    spec.mounts = spec
      .mounts!.map((m) =>
        m.type === 'sysfs' ? { destination: '/sys', type: 'none', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] } : m,
      )
      .map((m) => (m.options ? { ...m, options: m.options.filter((o) => !o.startsWith('uid=') && !o.startsWith('gid=')) } : m));
  }
  return spec;
}
