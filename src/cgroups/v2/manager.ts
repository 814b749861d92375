// cgroup v2: one directory in the unified hierarchy.
import * as path from 'node:path';
import type { CgroupLayout } from '../detect';
import { mkdirTracked, readPids, removeTracked, writeCgroupFile } from '../fs-ops';
import type { CgroupManager, CgroupState } from '../manager';

export class CgroupV2Manager implements CgroupManager {
  readonly state: CgroupState;

  constructor(layout: CgroupLayout, cgroupPath: string, saved?: CgroupState) {
    this.state = saved ?? { driver: 'v2', path: cgroupPath, dirs: { unified: path.join(layout.unified ?? '/sys/fs/cgroup', cgroupPath) }, created: [] };
  }

  private get dir(): string {
    return this.state.dirs['unified']!;
  }

  create(): void {
    this.state.created.push(...mkdirTracked(this.dir));
  }

  addProcess(pid: number): void {
    writeCgroupFile(this.dir, 'cgroup.procs', String(pid));
  }

  pids(): number[] {
    return readPids(path.join(this.dir, 'cgroup.procs'));
  }

  destroy(): void {
    removeTracked(this.state.created);
  }
}
