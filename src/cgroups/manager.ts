// One interface for the cgroup drivers: cgroupfs v1 and v2, and systemd (which makes the
// cgroup through its D-Bus API and leaves the rest to the cgroupfs driver of the host's layout).
// The runtime talks only to this.
import * as path from 'node:path';
import type { LinuxResources } from '../../specs/oci/runtime-config';
import { TsrunError } from '../common/errors';
import type { CgroupStats } from './stats';
import { detectCgroupLayout, type CgroupLayout } from './detect';
import { missingDirs } from './fs-ops';
import type { CgroupV1Manager } from './v1/manager';
import type { CgroupV2Manager } from './v2/manager';
import type { SystemdManager } from './systemd/manager';
import { ownCgroups } from './own';

// A host runs one driver: only its modules are loaded (each CLI call pays for what it loads).
const v1 = (): typeof CgroupV1Manager => (require('./v1/manager') as typeof import('./v1/manager')).CgroupV1Manager;
const v2 = (): typeof CgroupV2Manager => (require('./v2/manager') as typeof import('./v2/manager')).CgroupV2Manager;
const systemd = (): typeof SystemdManager => (require('./systemd/manager') as typeof import('./systemd/manager')).SystemdManager;

export type OnApplied = (controller: string, writes: string[], durationUs: number) => void;

export interface CgroupState {
  driver: 'v1' | 'v2';
  /** the cgroupsPath, absolute from each hierarchy's root */
  path: string;
  /** host directories by hierarchy name, e.g. memory -> /sys/fs/cgroup/memory/tsrun/x */
  dirs: Record<string, string>;
  /** directories this container created (only these are removed) */
  created: string[];
  /**
   * Made by a rootless caller (not real root): a hierarchy where it may not make a cgroup leaves
   * the container in the caller's own, as runc's rootless cgroup manager does, unless limits
   * need one there. Those hierarchies are listed in `shared`: never written, read or removed.
   */
  rootless?: boolean;
  shared?: string[];
  /** the systemd driver: systemd made the cgroup as this transient unit, in this slice */
  systemd?: { unit: string; slice: string; user: boolean; started?: boolean };
}

export interface CgroupOptions {
  /** the caller is not real root: see CgroupState.rootless */
  rootless?: boolean;
  /** the systemd driver (--systemd-cgroup): cgroupsPath is "slice:prefix:name" */
  systemd?: boolean;
  layout?: CgroupLayout;
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
  /** make the directories; throws TSRUN_E_CGROUP naming the path (systemd: made at the first addProcess) */
  create(): void;
  /** systemd: the first process starts the unit (D-Bus), so this may be asynchronous */
  addProcess(pid: number): void | Promise<void>;
  /** How a process the runtime is about to start can enter these cgroups by itself (cheaper than addProcess). */
  selfJoin(): CgroupSelfJoin;
  pids(): number[];
  /** remove what create() made; waits briefly for exiting tasks (systemd: stops the unit) */
  destroy(): void | Promise<void>;
  /**
   * write every limit in `r`; a controller the host lacks is an error naming it. `onApplied`
   * hears, per controller, the files written ("file=value") and how long it took.
   */
  apply(r: LinuxResources | undefined, onApplied?: OnApplied): void | Promise<void>;
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

/**
 * Where a rootless container's cgroup goes in each hierarchy (by the key of /proc/self/cgroup:
 * its controller list, "" for the v2 tree), as runc places a relative path: on v2 beside the
 * caller's own cgroup (in its parent, the delegated subtree: the caller's own cgroup holds
 * processes, so its controllers cannot be handed down), on v1 below the caller's own.
 */
export function rootlessParents(own: Record<string, string>, v2: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, p] of Object.entries(own)) out[key] = key === '' && v2 ? path.posix.dirname(p) : p;
  return out;
}

export function newCgroupManager(id: string, cgroupsPath: string | undefined, opts: CgroupOptions = {}): CgroupManager {
  const layout = opts.layout ?? detectCgroupLayout();
  if (opts.systemd) return new (systemd())(layout, { id, cgroupsPath, rootless: !!opts.rootless });
  if (cgroupsPath !== undefined && isSystemdPath(cgroupsPath))
    throw new TsrunError(
      'TSRUN_E_CONFIG',
      `linux.cgroupsPath: ${JSON.stringify(cgroupsPath)} is a systemd slice path ("slice:prefix:name"); the cgroupfs driver needs a directory path: pass --systemd-cgroup to have systemd make the cgroup`,
    );
  // An absolute cgroupsPath is taken as it is; without one (or relative), a rootless container
  // goes where its caller may make cgroups.
  const relative = opts.rootless && !cgroupsPath?.startsWith('/');
  const p = relative ? path.posix.normalize('/' + (cgroupsPath || id)) : cgroupPathFor(id, cgroupsPath);
  if (p === '/') throw new TsrunError('TSRUN_E_CGROUP', 'linux.cgroupsPath: the root cgroup cannot hold a container');
  const fsOpts = {
    rootless: !!opts.rootless,
    explicitPath: !!cgroupsPath,
    parents: relative ? rootlessParents(ownCgroups(), layout.mode === 'v2') : undefined,
  };
  return layout.mode === 'v2' ? new (v2())(layout, p, undefined, fsOpts) : new (v1())(layout, p, undefined, fsOpts);
}

/** "slice:prefix:name", the systemd driver's form of linux.cgroupsPath. */
export function isSystemdPath(cgroupsPath: string): boolean {
  return /^[^/:]*:[^:]*:[^:]*$/.test(cgroupsPath);
}

/** How a cgroupfs driver places a new container's cgroup (see newCgroupManager). */
export interface FsOptions {
  rootless: boolean;
  /** the config named the cgroup: a rootless caller denied it fails, as runc fails */
  explicitPath: boolean;
  /** rootless: parent cgroup per hierarchy key of /proc/self/cgroup ("" for v2) */
  parents?: Record<string, string>;
}

/** runc's words for a rootless container denied a cgroup that limits or a named path need. */
export function rootlessDenied(what: string, e: unknown): TsrunError {
  return new TsrunError(
    'TSRUN_E_CGROUP',
    `${what}: ${(e as Error).message}: rootless needs no limits + no cgrouppath when no permission is granted for cgroups ` +
      `(tsrun runs as uid ${process.geteuid?.()} and may not make this cgroup: on cgroup v2, run it from a subtree delegated to this user ` +
      `(systemd's user@.service, or a cgroup chowned to the user); on cgroup v1, remove linux.resources)`,
  );
}

/** A permission error from cgroupfs (a rootless caller outside its delegated subtree). */
export function isPermissionError(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code ?? '';
  return ['EACCES', 'EPERM', 'EROFS'].includes(code) || (e instanceof TsrunError && /EACCES|EPERM|EROFS/.test(e.message));
}

/**
 * Names in `state.created` the directories create() is about to make, before it makes them:
 * a record saved in between lets delete find them after a crash in create. Only a create needs
 * this (managers made for stats or updates do not walk the tree).
 */
export function claimDirs(state: CgroupState): void {
  // systemd makes its unit's cgroups itself; what is still missing after it is ours (see its driver).
  if (state.systemd) return;
  for (const d of Object.values(state.dirs).flatMap(missingDirs)) if (!state.created.includes(d)) state.created.push(d);
}

export function loadCgroupManager(state: CgroupState, layout: CgroupLayout = detectCgroupLayout()): CgroupManager {
  if (state.systemd) return new (systemd())(layout, state);
  return state.driver === 'v2' ? new (v2())(layout, state.path, state) : new (v1())(layout, state.path, state);
}

/** The cgroupfs driver of a state, also under the systemd driver (which wraps it). */
export function loadFsManager(state: CgroupState, layout: CgroupLayout = detectCgroupLayout()): CgroupManager {
  return state.driver === 'v2' ? new (v2())(layout, state.path, state) : new (v1())(layout, state.path, state);
}
