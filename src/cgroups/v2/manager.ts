// cgroup v2: one directory in the unified hierarchy.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LinuxResources } from '../../../specs/oci/runtime-config';
import { TsrunError } from '../../common/errors';
import type { Controller } from '../controller';
import type { CgroupLayout } from '../detect';
import { collectWrites, hasFile, mkdirTracked, readCgroupFile, readKeyValues, readPids, removeCgroups, writeCgroupFile } from '../fs-ops';
import type { CgroupManager, CgroupSelfJoin, CgroupState, OnApplied } from '../manager';
import { emptyStats, type CgroupStats } from '../stats';
import { cpu } from './cpu';
import { cpuset } from './cpuset';
import { devices } from './devices';
import { frozenV2, setFreezeV2 } from './freezer';
import { hugetlb } from './hugetlb';
import { io } from './io';
import { memory, oomKillsV2 } from './memory';
import { pids } from './pids';
import { unified } from './unified';

// unified last: its raw keys may override what the typed fields wrote.
const CONTROLLERS: Controller[] = [cpuset, cpu, memory, pids, io, hugetlb, devices, unified];
const KERNEL_CONTROLLERS = new Set(['cpuset', 'cpu', 'io', 'memory', 'hugetlb', 'pids', 'rdma', 'misc']);

export class CgroupV2Manager implements CgroupManager {
  readonly state: CgroupState;

  constructor(layout: CgroupLayout, cgroupPath: string, saved?: CgroupState) {
    this.state = saved ?? { driver: 'v2', path: cgroupPath, dirs: { unified: path.join(layout.unified ?? '/sys/fs/cgroup', cgroupPath) }, created: [] };
  }

  private get dir(): string {
    return this.state.dirs['unified']!;
  }

  create(): void {
    for (const d of mkdirTracked(this.dir)) if (!this.state.created.includes(d)) this.state.created.push(d);
  }

  /** Delegates the controllers the root offers down to the container's parent (subtree_control). */
  private enableControllers(): void {
    const root = this.dir.slice(0, this.dir.length - this.state.path.length) || '/';
    let available: string[];
    try {
      available = readCgroupFile(root, 'cgroup.controllers').split(/\s+/).filter((c) => KERNEL_CONTROLLERS.has(c));
    } catch {
      return;
    }
    const parts = this.state.path.split('/').filter(Boolean);
    let dir = root;
    for (const part of parts) {
      const have = new Set(readCgroupFile(dir, 'cgroup.subtree_control').split(/\s+/));
      const add = available.filter((c) => !have.has(c)).map((c) => `+${c}`);
      if (add.length) writeCgroupFile(dir, 'cgroup.subtree_control', add.join(' '));
      dir = path.join(dir, part);
    }
  }

  apply(r: LinuxResources | undefined, onApplied?: OnApplied): void {
    if (!r) return;
    if (r.network?.classID !== undefined || r.network?.priorities?.length)
      throw new TsrunError('TSRUN_E_CGROUP', 'linux.resources.network: net_cls and net_prio do not exist in cgroup v2');
    this.enableControllers();
    for (const c of CONTROLLERS) {
      if (!c.wanted(r)) continue;
      if (KERNEL_CONTROLLERS.has(c.name) && !readCgroupFile(this.dir, 'cgroup.controllers').split(/\s+/).includes(c.name))
        throw new TsrunError('TSRUN_E_CGROUP', `linux.resources: the ${c.name} controller is not available in ${this.dir}`);
      const t0 = process.hrtime.bigint();
      const writes = collectWrites(() => c.apply(this.dir, r));
      onApplied?.(c.name, writes, Number((process.hrtime.bigint() - t0) / 1000n));
    }
  }

  freeze(frozen: boolean): void {
    setFreezeV2(this.dir, frozen);
  }

  isFrozen(): boolean {
    return (readKeyValues(this.dir, 'cgroup.events')['frozen'] ?? 0) === 1;
  }

  frozenBy(): string | undefined {
    return frozenV2(this.dir);
  }

  stats(): CgroupStats {
    const s = emptyStats();
    if (!fs.existsSync(this.dir)) return s;
    for (const c of CONTROLLERS) c.stats?.(this.dir, s);
    return s;
  }

  oomKills(): number {
    return oomKillsV2(this.dir);
  }

  killAll(): boolean {
    if (!hasFile(this.dir, 'cgroup.kill')) return false;
    writeCgroupFile(this.dir, 'cgroup.kill', '1');
    return true;
  }

  selfJoin(): CgroupSelfJoin {
    return { taskDirs: [], cloneInto: this.dir };
  }

  addProcess(pid: number): void {
    writeCgroupFile(this.dir, 'cgroup.procs', String(pid));
  }

  pids(): number[] {
    return readPids(path.join(this.dir, 'cgroup.procs'));
  }

  destroy(): void {
    removeCgroups(this.state);
  }
}
