// config.json -> init plan, once. Everything the native init needs is decided here: the
// namespace flags, the mount list (the cgroup mount expanded into binds, the standard /dev),
// capability masks, rlimit numbers. The native side only carries it out.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { HookConfig, ProcessConfig, RuntimeConfig, MountConfig, NamespaceType } from '../../specs/oci/runtime-config';
import { capabilityMask, capabilityNames, unknownCapabilities } from './capabilities';
import { MOUNT_ATTR, MS, PROPAGATION_WORDS, parseMountOptions } from './mount-options';
import { CLONE_FLAG, NS_FILE } from './namespaces';
import type { CgroupSelfJoin, Plan, PlanCaps, PlanDevice, PlanHook, PlanMount } from './plan';
import { rlimitNumber, rlimitValue } from './rlimits';
import { compileSeccompSection } from './seccomp';

/** What the plan needs of the container's cgroups (a CgroupState fits): where to bind them from. */
export interface CgroupView {
  driver: 'v1' | 'v2';
  /** host directories by hierarchy name */
  dirs: Record<string, string>;
}

export interface CompileOptions {
  foreground: boolean;
  consoleSocket?: string;
  preserveFds: number;
  events: boolean;
  /** the runtime's own bounding set: a container cannot get more */
  hostBounding: bigint;
  /** the process places itself in its cgroups (see CgroupSelfJoin) */
  cgroupJoin?: CgroupSelfJoin;
}

export interface CreateOptions extends CompileOptions {
  rootfs: string;
  execFifo: string;
  noPivot: boolean;
  cgroup: CgroupView;
  /** rootless: how the id maps are written (see runtime/rootless.ts) */
  idMaps?: Pick<Plan, 'idMapHelpers' | 'setgroupsDeny'>;
}

export interface Compiled {
  plan: Plan;
  /** the user should see these */
  warnings: string[];
  /** debug-level: choices made the way runc makes them */
  notes: string[];
}

const DEFAULT_DEVICES: PlanDevice[] = [
  ['/dev/null', 1, 3],
  ['/dev/zero', 1, 5],
  ['/dev/full', 1, 7],
  ['/dev/random', 1, 8],
  ['/dev/urandom', 1, 9],
  ['/dev/tty', 5, 0],
].map(([p, major, minor]) => ({ type: 'c', path: p as string, major: major as number, minor: minor as number, mode: 0o666, uid: 0, gid: 0 }));

/** A hook without env inherits the runtime's environment, as runc's do. */
export function hookEnv(h: HookConfig): string[] {
  return h.env ?? Object.entries(process.env).map(([k, v]) => `${k}=${v ?? ''}`);
}

/** The runtime's own bounding set (CapBnd in /proc/self/status). */
export function ownBoundingSet(): bigint {
  const m = /^CapBnd:\s*([0-9a-f]+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return m ? BigInt('0x' + m[1]) : 0n;
}

function symlink(dest: string, target: string): PlanMount {
  return { kind: 'symlink', source: target, dest, type: '', flags: 0, propagation: 0, data: '' };
}

function isBind(m: MountConfig): boolean {
  return m.type === 'bind' || (m.options ?? []).some((o) => o === 'bind' || o === 'rbind');
}

// A "cgroup" mount shows the container its own cgroups: on v1 a tmpfs with one bind per
// hierarchy (as runc does), on v2 a cgroup2 mount in a cgroup namespace or a bind of its directory.
function cgroupMounts(m: MountConfig, cgroup: CgroupView, cgroupns: boolean): PlanMount[] {
  const opts = parseMountOptions(m.options);
  const recursive = opts.recursive;
  // rro also makes each hierarchy's bind read-only, as ro does (crun treats them alike here).
  const ro = (opts.flags | (recursive && recursive.set & MOUNT_ATTR.RDONLY ? MS.RDONLY : 0)) & MS.RDONLY;
  const safe = MS.NOSUID | MS.NODEV | MS.NOEXEC;
  if (cgroup.driver === 'v2') {
    // The source of a cgroup2 mount is only a name to the kernel: it carries the container's cgroup
    // directory, which the init binds instead where a user namespace may not mount cgroup2 (runc, crun).
    if (cgroupns)
      return [
        {
          kind: 'mount',
          source: cgroup.dirs['unified']!,
          dest: m.destination,
          type: 'cgroup2',
          flags: opts.flags | safe,
          propagation: opts.propagation,
          data: '',
          recursive,
        },
      ];
    return [
      {
        kind: 'mount',
        source: cgroup.dirs['unified']!,
        dest: m.destination,
        type: 'bind',
        flags: MS.BIND | MS.REC | opts.flags | safe,
        propagation: opts.propagation,
        data: '',
        recursive,
      },
    ];
  }
  const out: PlanMount[] = [
    { kind: 'mount', source: 'tmpfs', dest: m.destination, type: 'tmpfs', flags: safe, propagation: opts.propagation, data: 'mode=755' },
  ];
  const links: PlanMount[] = [];
  for (const [name, dir] of Object.entries(cgroup.dirs)) {
    const dirName = name.replace(/^name=/, '');
    out.push({ kind: 'mount', source: dir, dest: path.posix.join(m.destination, dirName), type: 'bind', flags: MS.BIND | ro | safe, propagation: 0, data: '' });
    if (dirName.includes(',')) for (const c of dirName.split(',')) links.push(symlink(path.posix.join(m.destination, c), dirName));
  }
  // The last step covers the whole tree: the recursive options go there, once every bind is in place.
  if (ro || recursive)
    out.push({
      kind: 'mount',
      source: 'tmpfs',
      dest: m.destination,
      type: 'tmpfs',
      flags: MS.REMOUNT | ro | safe,
      propagation: 0,
      data: 'mode=755',
      recursive,
    });
  return [...out, ...links];
}

function compileMounts(config: RuntimeConfig, cgroup: CgroupView, cgroupns: boolean): { mounts: PlanMount[]; setupDev: boolean } {
  const mounts: PlanMount[] = [];
  let setupDev = false;
  for (const m of config.mounts ?? []) {
    const dest = path.posix.normalize(m.destination);
    if (m.type === 'cgroup' || m.type === 'cgroup2') {
      mounts.push(...cgroupMounts({ ...m, destination: dest }, cgroup, cgroupns));
      continue;
    }
    const opts = parseMountOptions(m.options);
    const bind = isBind(m);
    if (dest === '/dev' && !bind) setupDev = true;
    mounts.push({
      kind: 'mount',
      source: bind ? path.resolve(m.source!) : (m.source ?? m.type ?? 'none'),
      dest,
      type: bind ? 'bind' : m.type!,
      flags: opts.flags | (bind ? MS.BIND : 0),
      propagation: opts.propagation,
      data: bind ? '' : opts.data,
      idmap: m.uidMappings?.length ? { uidMap: idMap(m.uidMappings), gidMap: idMap(m.gidMappings) } : undefined,
      // Also for a fresh (non-bind) mount, as crun does: runc drops the options there silently,
      // and a mount the config calls read-only must never come out writable.
      recursive: opts.recursive,
    });
  }
  return { mounts, setupDev };
}

function compileDevices(config: RuntimeConfig, setupDev: boolean): PlanDevice[] {
  const byPath = new Map<string, PlanDevice>();
  if (setupDev) for (const d of DEFAULT_DEVICES) byPath.set(d.path, d);
  for (const d of config.linux?.devices ?? [])
    byPath.set(d.path, {
      type: d.type === 'u' ? 'c' : d.type,
      path: d.path,
      major: d.major ?? 0,
      minor: d.minor ?? 0,
      mode: d.fileMode ?? 0o666,
      uid: d.uid ?? 0,
      gid: d.gid ?? 0,
    });
  return [...byPath.values()];
}

function devSymlinks(): PlanMount[] {
  const links = [
    symlink('/dev/fd', '/proc/self/fd'),
    symlink('/dev/stdin', '/proc/self/fd/0'),
    symlink('/dev/stdout', '/proc/self/fd/1'),
    symlink('/dev/stderr', '/proc/self/fd/2'),
    symlink('/dev/ptmx', 'pts/ptmx'),
  ];
  if (fs.existsSync('/proc/kcore')) links.push(symlink('/dev/core', '/proc/kcore'));
  return links;
}

function compileCaps(p: ProcessConfig, hostBounding: bigint, warnings: string[], notes: string[]): PlanCaps | undefined {
  const c = p.capabilities;
  if (!c) return undefined;
  let missing = 0n;
  const mask = (names: string[] | undefined): bigint => {
    const m = capabilityMask(names ?? []);
    missing |= m & ~hostBounding;
    return m & hostBounding;
  };
  const caps = {
    bounding: mask(c.bounding),
    effective: mask(c.effective),
    inheritable: mask(c.inheritable),
    permitted: mask(c.permitted),
    ambient: mask(c.ambient),
  };
  // Validation refused them for a 1.0.x config: here they are warned about and left out.
  const unknown = [
    ...new Set(unknownCapabilities([...(c.bounding ?? []), ...(c.effective ?? []), ...(c.inheritable ?? []), ...(c.permitted ?? []), ...(c.ambient ?? [])])),
  ];
  if (unknown.length) warnings.push(`process.capabilities: ignoring unknown capabilities ${unknown.join(', ')}`);
  if (missing)
    warnings.push(`capabilities ${capabilityNames(missing).join(', ')} are not in tsrun's own bounding set on this host; the container runs without them`);
  // The kernel raises an ambient capability only if it is permitted and inheritable; runc
  // skips the others (runc's own default spec has ambient without inheritable), and so do we.
  const skipped = caps.ambient & ~(caps.permitted & caps.inheritable);
  if (skipped) notes.push(`ambient capabilities ${capabilityNames(skipped).join(', ')} skipped: not both permitted and inheritable`);
  caps.ambient &= caps.permitted & caps.inheritable;
  return caps;
}

/** The process half of a plan, shared by create and exec. */
function compileProcess(p: ProcessConfig, opts: CompileOptions, warnings: string[], notes: string[]) {
  const caps = compileCaps(p, opts.hostBounding, warnings, notes);
  return {
    rlimits: (p.rlimits ?? []).map((r) => ({ resource: rlimitNumber(r.type)!, soft: rlimitValue(r.soft), hard: rlimitValue(r.hard) })),
    oomScoreAdj: p.oomScoreAdj,
    uid: p.user.uid,
    gid: p.user.gid,
    additionalGids: p.user.additionalGids ?? [],
    umask: p.user.umask,
    cwd: p.cwd,
    env: p.env ?? [],
    args: p.args ?? [],
    terminal: p.terminal ?? false,
    consoleSocket: opts.consoleSocket ?? '',
    noNewPrivs: p.noNewPrivileges ?? false,
    caps,
    preserveFds: opts.preserveFds,
    events: opts.events,
    foreground: opts.foreground,
  };
}

function compileSeccompFor(config: RuntimeConfig, warnings: string[]): Plan['seccomp'] {
  const sc = config.linux?.seccomp;
  if (!sc) return undefined;
  const c = compileSeccompSection(sc, config.ociVersion);
  warnings.push(...c.warnings);
  return { bpf: c.bpf, flags: c.flags, listenerPath: c.listenerPath, listenerPrefix: c.listenerPrefix };
}

function idMap(maps: { containerID: number; hostID: number; size: number }[] | undefined): string {
  return (maps ?? []).map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');
}

export function compileCreatePlan(config: RuntimeConfig, opts: CreateOptions): Compiled {
  const warnings: string[] = [];
  const notes: string[] = [];
  const linux = config.linux ?? {};
  let cloneFlags = 0;
  const join: Plan['join'] = [];
  const newNs = new Set<NamespaceType>();
  for (const n of linux.namespaces ?? []) {
    if (n.path) join.push({ flag: CLONE_FLAG[n.type], path: n.path });
    else {
      cloneFlags |= CLONE_FLAG[n.type];
      newNs.add(n.type);
    }
  }
  const { mounts, setupDev } = compileMounts(config, opts.cgroup, newNs.has('cgroup'));
  const hooks: PlanHook[] = [];
  for (const phase of ['createContainer', 'startContainer'] as const)
    for (const h of config.hooks?.[phase] ?? []) hooks.push({ phase, path: h.path, args: h.args ?? [], env: hookEnv(h), timeout: h.timeout ?? 0 });
  const timens = Object.entries(linux.timeOffsets ?? {})
    .map(([clock, o]) => `${clock} ${o.secs ?? 0} ${o.nanosecs ?? 0}\n`)
    .join('');
  const plan: Plan = {
    mode: 'create',
    ...compileProcess(config.process!, opts, warnings, notes),
    cloneFlags,
    join,
    uidMap: newNs.has('user') ? idMap(linux.uidMappings) : '',
    gidMap: newNs.has('user') ? idMap(linux.gidMappings) : '',
    ...(newNs.has('user') ? opts.idMaps : {}),
    timensOffsets: timens,
    rootfs: opts.rootfs,
    rootReadonly: config.root?.readonly ?? false,
    rootPropagation: linux.rootfsPropagation ? PROPAGATION_WORDS[linux.rootfsPropagation]! : 0,
    mounts: setupDev ? [...mounts, ...devSymlinks()] : mounts,
    devices: compileDevices(config, setupDev),
    masked: linux.maskedPaths ?? [],
    readonly: linux.readonlyPaths ?? [],
    hostname: config.hostname || undefined,
    domainname: config.domainname || undefined,
    sysctls: Object.entries(linux.sysctl ?? {}).map(([k, v]) => ({ path: '/proc/sys/' + k.replace(/\./g, '/'), value: v })),
    execFifo: opts.execFifo,
    hooks,
    noPivot: opts.noPivot,
    seccomp: compileSeccompFor(config, warnings),
    cgroupJoin: opts.cgroupJoin,
  };
  return { plan, warnings, notes };
}

/** An exec joins every namespace the container has, through its init's /proc/PID/ns files. */
export function compileExecPlan(config: RuntimeConfig, process: ProcessConfig, initPid: number, opts: CompileOptions): Compiled {
  const warnings: string[] = [];
  const notes: string[] = [];
  const join = (config.linux?.namespaces ?? []).map((n) => ({ flag: CLONE_FLAG[n.type], path: `/proc/${initPid}/ns/${NS_FILE[n.type]}` }));
  const plan: Plan = {
    mode: 'exec',
    ...compileProcess(process, opts, warnings, notes),
    cloneFlags: 0,
    join,
    uidMap: '',
    gidMap: '',
    timensOffsets: '',
    // Without a mount namespace of its own the container's root is its init's chroot: enter it too.
    rootfs: (config.linux?.namespaces ?? []).some((n) => n.type === 'mount') ? '' : `/proc/${initPid}/root`,
    rootReadonly: false,
    rootPropagation: 0,
    mounts: [],
    devices: [],
    masked: [],
    readonly: [],
    sysctls: [],
    execFifo: '',
    hooks: [],
    noPivot: false,
    seccomp: compileSeccompFor(config, warnings),
    cgroupJoin: opts.cgroupJoin,
  };
  return { plan, warnings, notes };
}
