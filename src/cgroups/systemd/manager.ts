// The systemd cgroup driver (--systemd-cgroup, the kubelet's cgroupDriver: systemd): systemd
// makes the container's cgroup as a transient scope unit, started over D-Bus with the container's
// init in it and its resources as unit properties, as runc's systemd driver does. What systemd
// does not manage (the v1 hierarchies it has no controller for, files it has no property for,
// the device eBPF program, the freezer, cgroup.kill) tsrun still writes through the cgroupfs
// driver of the host's layout, in the directories systemd made: runc does the same.
import * as fs from 'node:fs';
import type { LinuxResources } from '../../../specs/oci/runtime-config';
import { TsrunError } from '../../common/errors';
import type { CgroupLayout } from '../detect';
import { loadFsManager, type CgroupManager, type CgroupSelfJoin, type CgroupState, type OnApplied } from '../manager';
import type { CgroupStats } from '../stats';
import { requireSystemd, SystemdBus } from './dbus';
import { baseProperties, resourceProperties } from './properties';
import { parseSystemdPath, unitCgroupPath } from './unit';

export interface NewSystemdCgroup {
  id: string;
  cgroupsPath: string | undefined;
  rootless: boolean;
}

/** The unit's directories by hierarchy, as the cgroupfs driver names them (systemd makes the unit in each). */
function dirsFor(layout: CgroupLayout, cgroupPath: string): { driver: 'v1' | 'v2'; dirs: Record<string, string> } {
  const join = (mount: string): string => (cgroupPath === '/' ? mount : mount + cgroupPath);
  if (layout.mode === 'v2') return { driver: 'v2', dirs: { unified: join(layout.unified ?? '/sys/fs/cgroup') } };
  const dirs: Record<string, string> = {};
  for (const h of layout.v1) dirs[h.controllers.length ? h.controllers.join(',') : h.mountpoint.split('/').pop()!] = join(h.mountpoint);
  if (layout.unified) dirs['unified'] = join(layout.unified);
  return { driver: 'v1', dirs };
}

export class SystemdManager implements CgroupManager {
  readonly state: CgroupState & { systemd: NonNullable<CgroupState['systemd']> };
  private pending?: { r: LinuxResources; onApplied?: OnApplied };

  constructor(
    private readonly layout: CgroupLayout,
    from: NewSystemdCgroup | CgroupState,
  ) {
    if ('driver' in from) {
      this.state = from as SystemdManager['state'];
      return;
    }
    const u = parseSystemdPath(from.id, from.cgroupsPath, from.rootless);
    // A user's systemd puts its units below its own cgroup: the path is known once it is asked (addProcess).
    const p = unitCgroupPath(u);
    const { driver, dirs } = dirsFor(layout, p);
    this.state = { driver, path: p, dirs, created: [], systemd: { unit: u.unit, slice: u.slice, user: from.rootless } };
  }

  private get fsm(): CgroupManager {
    return loadFsManager(this.state, this.layout);
  }

  /** Started by us, or there already (a pod's slice, made for its first container or by a kubelet). */
  private get started(): boolean {
    return !!this.state.systemd.started || this.exists();
  }

  private get isSlice(): boolean {
    return this.state.systemd.unit.endsWith('.slice');
  }

  create(): void {
    // As runc: a user's systemd cannot delegate cgroup v1 controllers.
    if (this.state.systemd.user && this.layout.mode !== 'v2')
      throw new TsrunError(
        'TSRUN_E_CGROUP',
        '--systemd-cgroup: cannot use rootless systemd cgroups manager on cgroup v1 (leave --systemd-cgroup out: rootless containers then have no cgroup of their own)',
      );
    // Refused before the init exists.
    if (!this.state.systemd.user) requireSystemd();
    // Nothing to make yet: systemd makes the unit's cgroups when its first process starts it.
  }

  async apply(r: LinuxResources | undefined, onApplied?: OnApplied): Promise<void> {
    if (!r) return;
    if (r.unified && Object.keys(r.unified).length && this.state.driver !== 'v2')
      throw new TsrunError('TSRUN_E_CGROUP', 'linux.resources.unified: raw cgroup v2 keys need a cgroup v2 host; this one uses cgroup v1 controllers');
    if (!this.started) {
      // Before the unit exists (create): its properties go with StartTransientUnit. A slice (a
      // pod's cgroup) holds no process of its own: it is started now, empty.
      this.pending = { r: structuredClone(r), onApplied };
      if (this.isSlice) await this.startUnit(undefined);
      return;
    }
    const copy = structuredClone(r);
    const bus = SystemdBus.connect(this.state.systemd.user);
    try {
      const props = resourceProperties(copy, this.state.driver === 'v2', await bus.version());
      await bus.setUnitProperties(this.state.systemd.unit, props);
      onApplied?.(
        'systemd',
        props.map(([name, v]) => `${name}=${show(v.value)}`),
        0,
      );
    } finally {
      bus.close();
    }
    await this.fsm.apply(copy, onApplied);
  }

  async addProcess(pid: number): Promise<void> {
    if (this.started) {
      // An exec joins the unit's cgroups through cgroupfs, as runc's exec does.
      return this.fsm.addProcess(pid);
    }
    await this.startUnit(pid);
  }

  /** StartTransientUnit with the process in it (a scope) or none (a slice), then the cgroupfs part. */
  private async startUnit(pid: number | undefined): Promise<void> {
    const s = this.state.systemd;
    const bus = SystemdBus.connect(s.user);
    let pending: { r: LinuxResources; onApplied?: OnApplied } | undefined;
    try {
      if (s.user) {
        // A user's units live below its manager's cgroup (/user.slice/user-UID.slice/user@UID.service).
        const root = await bus.controlGroup();
        this.state.path = unitCgroupPath({ unit: s.unit, slice: s.slice }, root);
        this.state.dirs = dirsFor(this.layout, this.state.path).dirs;
      }
      const version = await bus.version();
      pending = this.pending;
      const props = [
        ...baseProperties({ id: s.unit, unit: s.unit, slice: s.slice, pid, v2: this.state.driver === 'v2' }),
        ...(pending ? resourceProperties(pending.r, this.state.driver === 'v2', version) : []),
      ];
      const t0 = process.hrtime.bigint();
      await bus.startTransientUnit(s.unit, props);
      s.started = true;
      pending?.onApplied?.(
        'systemd',
        [`StartTransientUnit ${s.unit}`, ...props.map(([name, v]) => `${name}=${show(v.value)}`)],
        Number((process.hrtime.bigint() - t0) / 1000n),
      );
    } finally {
      bus.close();
    }
    // What systemd did not make (v1 hierarchies it has no controller for) is made and joined
    // here; then every limit is written through cgroupfs, as runc's Set does after systemd's.
    const fsm = this.fsm;
    fsm.create();
    if (pid !== undefined) await fsm.addProcess(pid);
    if (pending) await fsm.apply(pending.r, pending.onApplied);
    this.pending = undefined;
  }

  pids(): number[] {
    return this.fsm.pids();
  }

  /** Once systemd made the unit (an exec), a process enters it as with cgroupfs; the init cannot (see cgroup-join). */
  selfJoin(): CgroupSelfJoin {
    return this.started ? this.fsm.selfJoin() : { taskDirs: [] };
  }

  /** A unit not yet made is not frozen; a slice a kubelet froze would be. */
  frozenBy(): string | undefined {
    return this.started ? this.fsm.frozenBy() : undefined;
  }

  async destroy(): Promise<void> {
    if (this.started) {
      this.pending = undefined;
      const bus = SystemdBus.connect(this.state.systemd.user);
      try {
        await bus.stopUnit(this.state.systemd.unit);
      } finally {
        bus.close();
      }
    }
    // Both after a stop and after a failed start: the cgroups tsrun made itself.
    await this.fsm.destroy();
  }

  freeze(frozen: boolean): void {
    this.fsm.freeze(frozen);
  }

  isFrozen(): boolean {
    return this.fsm.isFrozen();
  }

  stats(): CgroupStats {
    return this.fsm.stats();
  }

  oomKills(): number {
    return this.fsm.oomKills();
  }

  killAll(): boolean {
    return this.fsm.killAll();
  }

  /** The unit's cgroup exists (systemd removes an exited scope by itself). */
  exists(): boolean {
    return Object.values(this.state.dirs).some((d) => fs.existsSync(d));
  }
}

/** A property value for the trace: numbers, "infinity", lists and bitmasks in a short form. */
function show(v: unknown): string {
  if (typeof v === 'bigint') return v === 2n ** 64n - 1n ? 'infinity' : String(v);
  if (Buffer.isBuffer(v)) return `0x${Buffer.from(v).reverse().toString('hex')}`;
  if (Array.isArray(v)) return `[${v.map((x) => (Array.isArray(x) ? x.join(' ') : String(x))).join(', ')}]`;
  return String(v);
}
