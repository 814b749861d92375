// One interface for both cgroup drivers. The runtime talks only to this.
import * as path from 'node:path';
import type { LinuxResources } from '../../specs/oci/runtime-config';
import { TsrunError } from '../common/errors';
import type { CgroupStats } from './stats';
import { detectCgroupLayout, type CgroupLayout } from './detect';
import { missingDirs } from './fs-ops';
import type { CgroupV1Manager } from './v1/manager';
import type { CgroupV2Manager } from './v2/manager';

// A host runs one driver: only its modules are loaded (each CLI call pays for what it loads).
const v1 = (): typeof CgroupV1Manager => (require('./v1/manager') as typeof import('./v1/manager')).CgroupV1Manager;
const v2 = (): typeof CgroupV2Manager => (require('./v2/manager') as typeof import('./v2/manager')).CgroupV2Manager;

export type OnApplied = (controller: string, writes: string[], durationUs: number) => void;

export interface CgroupState {
  driver: 'v1' | 'v2';
  /** the cgroupsPath, absolute from each hierarchy's root */
  path: string;
  /** host directories by hierarchy name, e.g. memory -> /sys/fs/cgroup/memory/tsrun/x */
  dirs: Record<string, string>;
  /** directories this container created (only these are removed) */
  created: string[];
}

/**
 * How a process enters its cgroups by itself: a thread that writes "0" to a v1 `tasks` file moves
 * itself with no global lock (Linux 6.0+), and a clone into a v2 directory needs no write at all,
 * where the runtime's write of its pid to cgroup.procs waits for an RCU grace period (~12 ms on
 * this project's machines). The init plan carries it (src/oci/plan's cgroupJoin has this shape).
 */
export interface CgroupSelfJoin {
  /** v1 hierarchy directories: the process writes "0" to each one's `tasks` */
  taskDirs: string[];
  /** a v2 directory: the process is cloned into it (clone3 CLONE_INTO_CGROUP) */
  cloneInto?: string;
}

export interface CgroupManager {
  readonly state: CgroupState;
  /** make the directories; throws TSRUN_E_CGROUP naming the path */
  create(): void;
  addProcess(pid: number): void;
  /** How a process the runtime is about to start can enter these cgroups by itself (cheaper than addProcess). */
  selfJoin(): CgroupSelfJoin;
  pids(): number[];
  /** remove what create() made; waits briefly for exiting tasks */
  destroy(): void;
  /**
   * write every limit in `r`; a controller the host lacks is an error naming it. `onApplied`
   * hears, per controller, the files written ("file=value") and how long it took.
   */
  apply(r: LinuxResources | undefined, onApplied?: OnApplied): void;
  freeze(frozen: boolean): void;
  isFrozen(): boolean;
  /**
   * Where the cgroup shows frozen or freezing (its own doing or an ancestor's), as "file: state";
   * undefined when it is thawed. A process placed there would stop before it ran.
   */
  frozenBy(): string | undefined;
  stats(): CgroupStats;
  /** OOM kills in the container's memory cgroup so far */
  oomKills(): number;
  /** cgroup.kill where the kernel has it (v2, or the hybrid unified tree): true if used */
  killAll(): boolean;
}

export function cgroupPathFor(id: string, cgroupsPath: string | undefined): string {
  if (!cgroupsPath) return `/tsrun/${id}`;
  // Relative paths are placed under the root of each hierarchy too (runc puts them below its own cgroup).
  return path.posix.normalize('/' + cgroupsPath);
}

export function newCgroupManager(id: string, cgroupsPath: string | undefined, layout: CgroupLayout = detectCgroupLayout()): CgroupManager {
  const p = cgroupPathFor(id, cgroupsPath);
  if (p === '/') throw new TsrunError('TSRUN_E_CGROUP', 'linux.cgroupsPath: the root cgroup cannot hold a container');
  return layout.mode === 'v2' ? new (v2())(layout, p) : new (v1())(layout, p);
}

/**
 * Names in `state.created` the directories create() is about to make, before it makes them:
 * a record saved in between lets delete find them after a crash in create. Only a create needs
 * this (managers made for stats or updates do not walk the tree).
 */
export function claimDirs(state: CgroupState): void {
  for (const d of Object.values(state.dirs).flatMap(missingDirs)) if (!state.created.includes(d)) state.created.push(d);
}

export function loadCgroupManager(state: CgroupState, layout: CgroupLayout = detectCgroupLayout()): CgroupManager {
  return state.driver === 'v2' ? new (v2())(layout, state.path, state) : new (v1())(layout, state.path, state);
}
