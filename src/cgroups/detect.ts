// Which cgroup layout the host has, read from /proc/self/mountinfo:
//   v2      /sys/fs/cgroup is cgroup2 (the unified hierarchy holds the controllers)
//   v1      one cgroup (v1) hierarchy per controller
//   hybrid  v1 controllers plus a cgroup2 mount (usually /sys/fs/cgroup/unified) for tracking only
import * as fs from 'node:fs';

export interface V1Hierarchy {
  mountpoint: string;
  /** controllers (cpu, memory, ...) or named hierarchies (name=systemd) */
  controllers: string[];
}

export interface CgroupLayout {
  mode: 'v1' | 'v2' | 'hybrid';
  v1: V1Hierarchy[];
  /** the cgroup2 mount point, if any */
  unified?: string;
}

export function parseMountinfo(text: string): CgroupLayout {
  // In mount order: a later mount on a path hides what was mounted there or below (a tmpfs over
  // /sys/fs/cgroup/unified hides the cgroup2, as crun's users do on hybrid hosts).
  const mounts: { mountpoint: string; fstype: string; controllers: string[] }[] = [];
  for (const line of text.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const [fstype = '', , superOpts] = line.slice(sep + 3).split(' ');
    const mountpoint = left[4]!.replace(/\\040/g, ' ');
    for (let i = mounts.length - 1; i >= 0; i--)
      if (mounts[i]!.mountpoint === mountpoint || mounts[i]!.mountpoint.startsWith(mountpoint === '/' ? '/' : mountpoint + '/')) mounts.splice(i, 1);
    const controllers =
      fstype === 'cgroup'
        ? (superOpts ?? '')
            .split(',')
            .filter((o) => o !== 'rw' && o !== 'ro' && !o.startsWith('release_agent') && o !== 'clone_children' && o !== 'noprefix' && o !== 'xattr')
        : [];
    mounts.push({ mountpoint, fstype, controllers });
  }
  const v1: V1Hierarchy[] = mounts.filter((m) => m.fstype === 'cgroup').map(({ mountpoint, controllers }) => ({ mountpoint, controllers }));
  const unified = mounts.find((m) => m.fstype === 'cgroup2')?.mountpoint;
  const mode = v1.length === 0 ? 'v2' : unified ? 'hybrid' : 'v1';
  return { mode, v1, unified };
}

let cached: CgroupLayout | undefined;
export function detectCgroupLayout(): CgroupLayout {
  cached ??= parseMountinfo(fs.readFileSync('/proc/self/mountinfo', 'utf8'));
  return cached;
}

/** Whether the host offers `controller` (cpu, memory, hugetlb, ...) to cgroups at all. */
export function hostHasController(controller: string, layout: CgroupLayout = detectCgroupLayout()): boolean {
  if (layout.mode !== 'v2') return layout.v1.some((h) => h.controllers.includes(controller));
  try {
    return fs.readFileSync(`${layout.unified}/cgroup.controllers`, 'utf8').split(/\s+/).includes(controller);
  } catch {
    return false;
  }
}
