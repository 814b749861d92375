// cgroup v1: one directory per hierarchy. On a hybrid host the cgroup2 mount gets a
// directory too, so the container is tracked there as well (as runc does).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CgroupLayout } from '../detect';
import { mkdirTracked, readPids, removeTracked, writeCgroupFile } from '../fs-ops';
import type { CgroupManager, CgroupState } from '../manager';

function hierarchyName(controllers: string[], mountpoint: string): string {
  return controllers.length ? controllers.join(',') : path.basename(mountpoint);
}

// A new cpuset cgroup starts empty and refuses tasks: inherit the parent's cpus and mems.
function initCpuset(dir: string): void {
  for (const f of ['cpuset.cpus', 'cpuset.mems']) {
    const own = path.join(dir, f);
    if (fs.readFileSync(own, 'utf8').trim() === '') writeCgroupFile(dir, f, fs.readFileSync(path.join(path.dirname(dir), f), 'utf8').trim());
  }
}

export class CgroupV1Manager implements CgroupManager {
  readonly state: CgroupState;

  constructor(layout: CgroupLayout, cgroupPath: string, saved?: CgroupState) {
    if (saved) {
      this.state = saved;
      return;
    }
    const dirs: Record<string, string> = {};
    for (const h of layout.v1) dirs[hierarchyName(h.controllers, h.mountpoint)] = path.join(h.mountpoint, cgroupPath);
    if (layout.unified) dirs['unified'] = path.join(layout.unified, cgroupPath);
    this.state = { driver: 'v1', path: cgroupPath, dirs, created: [] };
  }

  create(): void {
    for (const [name, dir] of Object.entries(this.state.dirs)) {
      const isCpuset = name.split(',').includes('cpuset');
      this.state.created.push(...mkdirTracked(dir, isCpuset ? initCpuset : undefined));
    }
  }

  addProcess(pid: number): void {
    for (const dir of Object.values(this.state.dirs)) writeCgroupFile(dir, 'cgroup.procs', String(pid));
  }

  pids(): number[] {
    const dirs = this.state.dirs;
    const dir = dirs['pids'] ?? dirs['freezer'] ?? dirs['memory'] ?? Object.values(dirs)[0];
    return dir ? readPids(path.join(dir, 'cgroup.procs')) : [];
  }

  destroy(): void {
    removeTracked(this.state.created);
  }
}
