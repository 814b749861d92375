// inspect: a container seen from the kernel's side, read from /proc and its cgroups.
import * as fs from 'node:fs';
import { loadCgroupManager } from '../cgroups/manager';
import { capabilityNames } from '../oci/capabilities';
import { NS_FILE } from '../oci/namespaces';
import { StateDir } from './state-dir';
import { liveStatus, loadRecord } from './state';

export interface Inspection {
  id: string;
  status: string;
  pid: number;
  namespaces: { type: string; container: string; host: string; shared: boolean }[];
  cgroup: { path: string; memory: { usage: number; limit: number }; pids: { current: number; limit: number }; cpu: { usageNs: number; throttledPeriods: number } };
  /**
   * As /proc/PID/mountinfo has them: `options` are the mount's own (per mount: ro, nosuid...),
   * `superOptions` its filesystem's (shared by every mount of it: size=, mode=...). `masked`: a
   * path of linux.maskedPaths, covered by /dev/null (a file) or an empty read-only tmpfs (a directory).
   */
  mounts: { target: string; fstype: string; source: string; options: string; superOptions: string; masked?: 'file' | 'directory' }[];
  capabilities: Record<'bounding' | 'effective' | 'permitted' | 'inheritable' | 'ambient', string[]>;
  seccomp: 'disabled' | 'strict' | 'filter';
  noNewPrivs: boolean;
  /** the overlay lower dirs of the container's root, top first, when it is an overlay */
  layers: string[];
}

function readlink(p: string): string {
  try {
    return fs.readlinkSync(p);
  } catch {
    return '';
  }
}

export function inspectContainer(root: string, id: string): Inspection {
  const dir = new StateDir(root, id);
  const rec = loadRecord(dir);
  const status = liveStatus(dir, rec);
  const pid = status === 'stopped' ? 0 : rec.pid;
  const namespaces = Object.entries(NS_FILE).map(([type, file]) => {
    const container = pid ? readlink(`/proc/${pid}/ns/${file}`) : '';
    // The runtime's own namespaces stand for the host's (pid 1 may not be readable here).
    const host = readlink(`/proc/self/ns/${file}`);
    return { type, container, host, shared: container === host };
  });
  const stats = loadCgroupManager(rec.cgroup).stats();
  const statusText = pid ? fs.readFileSync(`/proc/${pid}/status`, 'utf8') : '';
  const field = (k: string): string => new RegExp(`^${k}:\\s*(.*)$`, 'm').exec(statusText)?.[1]?.trim() ?? '';
  const caps = (k: string): string[] => (field(k) ? capabilityNames(BigInt('0x' + field(k))) : []);
  const maskedPaths = new Set(rec.config.linux?.maskedPaths ?? []);
  const mounts: Inspection['mounts'] = pid
    ? fs
        .readFileSync(`/proc/${pid}/mountinfo`, 'utf8')
        .trim()
        .split('\n')
        .map((l) => {
          const [left, right] = l.split(' - ');
          const f = left!.split(' ');
          const [fstype, source, superOptions] = right!.split(' ');
          const target = f[4]!.replace(/\\040/g, ' ');
          const m: Inspection['mounts'][number] = { target, fstype: fstype!, source: source!, options: f[5]!, superOptions: superOptions ?? '' };
          // The init masks a file with a bind of /dev/null (its root in the fs is /null), a directory with a read-only tmpfs.
          if (maskedPaths.has(target)) m.masked = f[3] === '/null' ? 'file' : 'directory';
          return m;
        })
    : [];
  const rootMount = mounts.find((m) => m.target === '/');
  const lower = rootMount?.fstype === 'overlay' ? /lowerdir=([^,]+)/.exec(rootMount.superOptions)?.[1] : undefined;
  return {
    id,
    status,
    pid,
    namespaces,
    cgroup: {
      path: rec.cgroup.path,
      memory: { usage: stats.memory.usage.usage, limit: stats.memory.usage.limit },
      pids: stats.pids,
      cpu: { usageNs: stats.cpu.usage.total, throttledPeriods: stats.cpu.throttling.throttled_periods },
    },
    mounts,
    capabilities: { bounding: caps('CapBnd'), effective: caps('CapEff'), permitted: caps('CapPrm'), inheritable: caps('CapInh'), ambient: caps('CapAmb') },
    seccomp: (['disabled', 'strict', 'filter'] as const)[Number(field('Seccomp') || 0)] ?? 'disabled',
    noNewPrivs: field('NoNewPrivs') === '1',
    layers: lower ? lower.split(':') : [],
  };
}
