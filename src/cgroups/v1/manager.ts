// cgroup v1: one directory per hierarchy. On a hybrid host the cgroup2 mount gets a
// directory too, so the container is tracked there as well (as runc does).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LinuxResources } from '../../../specs/oci/runtime-config';
import { TsrunError } from '../../common/errors';
import type { Controller } from '../controller';
import type { CgroupLayout } from '../detect';
import { collectWrites, hasFile, mkdirTracked, readCgroupFile, readIfThere, readPids, removeCgroups, writeCgroupFile } from '../fs-ops';
import { frozenV2 } from '../v2/freezer';
import { isPermissionError, rootlessDenied, type CgroupManager, type CgroupSelfJoin, type CgroupState, type FsOptions, type OnApplied } from '../manager';
import { ownCgroups } from '../own';
import { emptyStats, type CgroupStats } from '../stats';
import { blkio } from './blkio';
import { cpu } from './cpu';
import { cpuacct } from './cpuacct';
import { cpuset } from './cpuset';
import { devices } from './devices';
import { setFreezerV1 } from './freezer';
import { hugetlb } from './hugetlb';
import { memory, oomKillsV1 } from './memory';
import { netCls, netPrio } from './net';
import { pids } from './pids';

const CONTROLLERS: Controller[] = [cpuset, cpu, cpuacct, memory, pids, blkio, hugetlb, devices, netCls, netPrio];

function hierarchyName(controllers: string[], mountpoint: string): string {
  return controllers.length ? controllers.join(',') : path.basename(mountpoint);
}

// A cpuset cgroup with empty cpus or mems refuses tasks (ENOSPC), and a new one starts empty;
// so may a parent made by someone else. As runc does, every level from the hierarchy's root
// down to the container's takes its parent's values where its own are empty.
function fillCpusetChain(mountpoint: string, dir: string): void {
  const levels: string[] = [];
  for (let d = dir; d.length > mountpoint.length && d.startsWith(mountpoint + '/'); d = path.dirname(d)) levels.unshift(d);
  for (const level of levels)
    for (const f of ['cpuset.cpus', 'cpuset.mems']) if (readCgroupFile(level, f) === '') writeCgroupFile(level, f, readCgroupFile(path.dirname(level), f));
}

/** The key of a hierarchy in /proc/self/cgroup: its controllers ("" for cgroup2). */
function procKey(name: string): string {
  return name === 'unified' ? '' : name;
}

export class CgroupV1Manager implements CgroupManager {
  readonly state: CgroupState;
  private readonly mounts: Record<string, string> = {};

  constructor(
    layout: CgroupLayout,
    cgroupPath: string,
    saved?: CgroupState,
    private readonly opts?: FsOptions,
  ) {
    for (const h of layout.v1) this.mounts[hierarchyName(h.controllers, h.mountpoint)] = h.mountpoint;
    if (layout.unified) this.mounts['unified'] = layout.unified;
    if (saved) {
      this.state = saved;
      return;
    }
    const dirs: Record<string, string> = {};
    for (const [name, mount] of Object.entries(this.mounts)) dirs[name] = path.join(mount, opts?.parents?.[procKey(name)] ?? '/', cgroupPath);
    this.state = { driver: 'v1', path: cgroupPath, dirs, created: [], ...(opts?.rootless ? { rootless: true } : {}) };
  }

  /** rootless hierarchies the container could not get a cgroup of its own in */
  private isShared(name: string): boolean {
    return !!this.state.shared?.includes(name);
  }

  /** name -> dir of the hierarchies the container has a cgroup of its own in */
  private get ownDirs(): [string, string][] {
    return Object.entries(this.state.dirs).filter(([name]) => !this.isShared(name));
  }

  create(): void {
    for (const [name, dir] of Object.entries(this.state.dirs)) {
      try {
        for (const d of mkdirTracked(dir)) if (!this.state.created.includes(d)) this.state.created.push(d);
      } catch (e) {
        // Rootless, as runc: a hierarchy the caller may not make cgroups in is left out; limits
        // that need it fail in apply().
        if (!this.state.rootless || !isPermissionError(e)) throw e;
        if (this.opts?.explicitPath) throw rootlessDenied(`linux.cgroupsPath ${this.state.path}`, e);
        this.state.created = this.state.created.filter((d) => !d.startsWith(this.mounts[name]! + '/'));
        (this.state.shared ??= []).push(name);
        this.state.dirs[name] = path.join(this.mounts[name]!, ownCgroups()[procKey(name)] ?? '/');
        continue;
      }
      if (name.split(',').includes('cpuset')) fillCpusetChain(this.mounts[name] ?? dir.slice(0, dir.length - this.state.path.length), dir);
    }
  }

  addProcess(pid: number): void {
    for (const [, dir] of this.ownDirs) writeCgroupFile(dir, 'cgroup.procs', String(pid));
  }

  selfJoin(): CgroupSelfJoin {
    // Only the container's own cgroups: a rootless caller's own ones are left as they are.
    const { unified, ...v1 } = Object.fromEntries(this.ownDirs);
    return { taskDirs: Object.values(v1), cloneInto: unified };
  }

  pids(): number[] {
    // The caller's own cgroups are not the container's: none of their processes are listed (or killed).
    const dirs = Object.fromEntries(this.ownDirs);
    const dir = dirs['pids'] ?? dirs['freezer'] ?? dirs['memory'] ?? Object.values(dirs)[0];
    return dir ? readPids(path.join(dir, 'cgroup.procs')) : [];
  }

  destroy(): void {
    removeCgroups(this.state);
  }

  /** The directory of the hierarchy that holds `controller` (cpu may live in "cpu,cpuacct"). */
  private dirOf(controller: string): string | undefined {
    for (const [name, dir] of this.ownDirs) if (name.split(',').includes(controller)) return dir;
    return undefined;
  }

  private sharedHas(controller: string): boolean {
    return !!this.state.shared?.some((name) => name.split(',').includes(controller));
  }

  apply(r: LinuxResources | undefined, onApplied?: OnApplied): void {
    if (!r) return;
    if (r.unified && Object.keys(r.unified).length)
      throw new TsrunError('TSRUN_E_CGROUP', 'linux.resources.unified: raw cgroup v2 keys need a cgroup v2 host; this one uses cgroup v1 controllers');
    for (const c of CONTROLLERS) {
      if (!c.wanted(r)) continue;
      const dir = this.dirOf(c.name);
      // Device rules do not work rootless: the devices are the host's nodes, bound in (runc ignores them too).
      if (this.state.rootless && c === devices) continue;
      if (!dir && this.sharedHas(c.name))
        throw rootlessDenied(`cannot set ${c.name} limit: container could not join or create cgroup`, new Error(`no permission in the ${c.name} hierarchy`));
      if (!dir) throw new TsrunError('TSRUN_E_CGROUP', `linux.resources: the ${c.name} controller is not mounted on this host`);
      const t0 = process.hrtime.bigint();
      const writes = collectWrites(() => c.apply(dir, r));
      onApplied?.(c.name, writes, Number((process.hrtime.bigint() - t0) / 1000n));
    }
  }

  freeze(frozen: boolean): void {
    const dir = this.dirOf('freezer');
    if (!dir && this.sharedHas('freezer'))
      throw new TsrunError(
        'TSRUN_E_CGROUP',
        `the container has no freezer cgroup of its own (rootless: uid ${process.geteuid?.()} may not make cgroups in the v1 freezer hierarchy): it cannot be ${frozen ? 'paused' : 'resumed'}`,
      );
    if (!dir) throw new TsrunError('TSRUN_E_CGROUP', 'the freezer controller is not mounted on this host');
    setFreezerV1(dir, frozen);
  }

  isFrozen(): boolean {
    const dir = this.dirOf('freezer');
    try {
      return !!dir && readCgroupFile(dir, 'freezer.state') === 'FROZEN';
    } catch {
      return false;
    }
  }

  frozenBy(): string | undefined {
    const dir = this.dirOf('freezer');
    const state = dir ? readIfThere(dir, 'freezer.state') : undefined;
    if (state && state !== 'THAWED') return `${path.join(dir!, 'freezer.state')}: ${state}`;
    // On a hybrid host the cgroup2 tree freezes tasks too (cgroup.freeze has no controller).
    const unified = this.state.dirs['unified'];
    return unified ? frozenV2(unified) : undefined;
  }

  stats(): CgroupStats {
    const s = emptyStats();
    for (const c of CONTROLLERS) {
      const dir = this.dirOf(c.name);
      if (dir && c.stats && fs.existsSync(dir)) c.stats(dir, s);
    }
    return s;
  }

  oomKills(): number {
    const dir = this.dirOf('memory');
    return dir ? oomKillsV1(dir) : 0;
  }

  killAll(): boolean {
    const dir = this.isShared('unified') ? undefined : this.state.dirs['unified'];
    if (!dir || !hasFile(dir, 'cgroup.kill')) return false;
    writeCgroupFile(dir, 'cgroup.kill', '1');
    return true;
  }
}
