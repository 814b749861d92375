// cgroup v2: one directory in the unified hierarchy.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LinuxResources } from '../../../specs/oci/runtime-config';
import { TsrunError } from '../../common/errors';
import type { Controller } from '../controller';
import type { CgroupLayout } from '../detect';
import { collectWrites, hasFile, mkdirTracked, readCgroupFile, readKeyValues, readPids, removeCgroups, writeCgroupFile } from '../fs-ops';
import { isPermissionError, rootlessDenied, type CgroupManager, type CgroupSelfJoin, type CgroupState, type FsOptions, type OnApplied } from '../manager';
import { ownCgroups } from '../own';
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
  private readonly mount: string;

  constructor(
    layout: CgroupLayout,
    cgroupPath: string,
    saved?: CgroupState,
    private readonly opts?: FsOptions,
  ) {
    this.mount = layout.unified ?? '/sys/fs/cgroup';
    const p = path.posix.join(opts?.parents?.[''] ?? '/', cgroupPath);
    this.state = saved ?? { driver: 'v2', path: p, dirs: { unified: path.join(this.mount, p) }, created: [], ...(opts?.rootless ? { rootless: true } : {}) };
  }

  private get dir(): string {
    return this.state.dirs['unified']!;
  }

  /** rootless and denied a cgroup of its own: the container stays in the caller's */
  private get shared(): boolean {
    return !!this.state.shared?.includes('unified');
  }

  create(): void {
    try {
      for (const d of mkdirTracked(this.dir)) if (!this.state.created.includes(d)) this.state.created.push(d);
    } catch (e) {
      if (!this.state.rootless || !isPermissionError(e)) throw e;
      if (this.opts?.explicitPath) throw rootlessDenied(`linux.cgroupsPath ${this.state.path}`, e);
      this.state.created = [];
      this.state.shared = ['unified'];
      this.state.dirs['unified'] = path.join(this.mount, ownCgroups()[''] ?? '/');
    }
  }

  /** Delegates the controllers the root offers down to the container's parent (subtree_control). */
  private enableControllers(): void {
    const root = this.dir.slice(0, this.dir.length - this.state.path.length) || '/';
    let available: string[];
    try {
      available = readCgroupFile(root, 'cgroup.controllers')
        .split(/\s+/)
        .filter((c) => KERNEL_CONTROLLERS.has(c));
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
    // Device rules are an eBPF program only real root may attach: a rootless container's devices
    // are the host's own nodes, bound in with the host's permissions (runc ignores them too).
    const wanted = CONTROLLERS.filter((c) => c.wanted(r) && !(this.state.rootless && c === devices));
    if (this.shared && wanted.length)
      throw rootlessDenied(
        `cannot set ${wanted[0]!.name} limit: container could not join or create cgroup`,
        new Error(`no permission in ${path.dirname(this.dir)}`),
      );
    if (!wanted.length) return;
    this.enableControllers();
    for (const c of wanted) {
      if (KERNEL_CONTROLLERS.has(c.name) && !readCgroupFile(this.dir, 'cgroup.controllers').split(/\s+/).includes(c.name))
        throw new TsrunError('TSRUN_E_CGROUP', `linux.resources: the ${c.name} controller is not available in ${this.dir}`);
      const t0 = process.hrtime.bigint();
      const writes = collectWrites(() => c.apply(this.dir, r));
      onApplied?.(c.name, writes, Number((process.hrtime.bigint() - t0) / 1000n));
    }
  }

  freeze(frozen: boolean): void {
    if (this.shared)
      throw new TsrunError(
        'TSRUN_E_CGROUP',
        `the container has no cgroup of its own (rootless: uid ${process.geteuid?.()} may not make one beside its own cgroup, which is not in a subtree delegated to it): it cannot be ${frozen ? 'paused' : 'resumed'}`,
      );
    setFreezeV2(this.dir, frozen);
  }

  isFrozen(): boolean {
    if (this.shared) return false;
    return (readKeyValues(this.dir, 'cgroup.events')['frozen'] ?? 0) === 1;
  }

  frozenBy(): string | undefined {
    return frozenV2(this.dir);
  }

  stats(): CgroupStats {
    const s = emptyStats();
    if (this.shared || !fs.existsSync(this.dir)) return s;
    for (const c of CONTROLLERS) c.stats?.(this.dir, s);
    return s;
  }

  oomKills(): number {
    return this.shared ? 0 : oomKillsV2(this.dir);
  }

  killAll(): boolean {
    if (this.shared || !hasFile(this.dir, 'cgroup.kill')) return false;
    writeCgroupFile(this.dir, 'cgroup.kill', '1');
    return true;
  }

  selfJoin(): CgroupSelfJoin {
    return { taskDirs: [], cloneInto: this.shared ? undefined : this.dir };
  }

  addProcess(pid: number): void {
    if (this.shared) return;
    writeCgroupFile(this.dir, 'cgroup.procs', String(pid));
  }

  pids(): number[] {
    // The caller's own cgroup is not the container's: none of its processes are listed (or killed).
    if (this.shared) return [];
    return readPids(path.join(this.dir, 'cgroup.procs'));
  }

  destroy(): void {
    removeCgroups(this.state);
  }
}
