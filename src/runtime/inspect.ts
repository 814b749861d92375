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
  cgroup: {
    path: string;
    memory: { usage: number; limit: number };
    pids: { current: number; limit: number };
    cpu: { usageNs: number; throttledPeriods: number };
  };
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
  /** the root overlay, each dir with how many files it holds (absent: the root is no overlay) */
  overlay?: { lower: DirCount[]; upper?: DirCount; work?: string };
  /** the processes in the container's cgroup: the host's pid beside the container's */
  processes: ProcessView[];
}

export interface DirCount {
  dir: string;
  /** files, directories and links under dir; counting stops at FILE_COUNT_CAP */
  files: number;
  capped: boolean;
}

export interface ProcessView {
  hostPid: number;
  /** the pid in the container's pid namespace (the innermost of NSpid) */
  containerPid: number;
  /** the parent's host pid */
  ppid: number;
  name: string;
}

/** A layer of an image with a whole distribution in it counts in the tens of thousands. */
export const FILE_COUNT_CAP = 200_000;

/** Entries under dir, without following links or crossing into other mounts' content. */
export function countFiles(dir: string, cap = FILE_COUNT_CAP): DirCount {
  let files = 0;
  const todo = [dir];
  while (todo.length && files < cap) {
    const d = todo.pop()!;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      continue; // gone meanwhile, or not readable: counted as empty
    }
    for (const e of entries) {
      if (++files >= cap) break;
      if (e.isDirectory()) todo.push(`${d}/${e.name}`);
    }
  }
  return { dir, files, capped: files >= cap };
}

function processView(pid: number): ProcessView | undefined {
  let status: string;
  try {
    status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined; // exited meanwhile
  }
  const field = (k: string): string => new RegExp(`^${k}:\\s*(.*)$`, 'm').exec(status)?.[1]?.trim() ?? '';
  const nspid = field('NSpid').split(/\s+/).map(Number);
  return { hostPid: pid, containerPid: nspid[nspid.length - 1] ?? pid, ppid: Number(field('PPid')), name: field('Name') };
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
  const cgroup = loadCgroupManager(rec.cgroup);
  const stats = cgroup.stats();
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
  const overlayOpt = (k: string): string | undefined =>
    rootMount?.fstype === 'overlay' ? new RegExp(`(?:^|,)${k}=([^,]+)`).exec(rootMount.superOptions)?.[1] : undefined;
  const lower = overlayOpt('lowerdir');
  const upper = overlayOpt('upperdir');
  const work = overlayOpt('workdir');
  let pids: number[] = [];
  try {
    pids = pid ? cgroup.pids() : [];
  } catch {
    /* the cgroup went with the container */
  }
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
    overlay: lower ? { lower: lower.split(':').map((d) => countFiles(d)), upper: upper ? countFiles(upper) : undefined, work } : undefined,
    processes: pids
      .sort((a, b) => a - b)
      .map(processView)
      .filter((p): p is ProcessView => p !== undefined),
  };
}
