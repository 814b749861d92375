// Plan -> bytes, in the record format documented at the top of native/init/plan.h.
import type { Plan } from './plan';

const enum Tag {
  Mode = 1,
  Foreground,
  CloneFlags,
  JoinNs,
  UidMap,
  GidMap,
  TimensOffsets,
  Rootfs,
  RootReadonly,
  RootPropagation,
  Mount,
  Device,
  SetupDev,
  MaskedPath,
  ReadonlyPath,
  Hostname,
  Domainname,
  Sysctl,
  Rlimit,
  OomScoreAdj,
  Uid,
  Gid,
  AdditionalGid,
  Umask,
  Cwd,
  Env,
  Arg,
  Terminal,
  ConsoleSocket,
  NoNewPrivs,
  Caps,
  ExecFifo,
  Hook,
  PreserveFds,
  Events,
  NoPivot,
  SeccompBpf,
  SeccompFlags,
  SeccompListener,
  SeccompListenerPrefix,
  MountIdmap,
  MountAttr,
  CgroupTasks,
  CloneIntoCgroup,
  IdMapHelpers = 60,
  SetgroupsDeny = 61,
}

const S_IF = { c: 0o020000, b: 0o060000, p: 0o010000 } as const;

class Writer {
  private chunks: Buffer[] = [];
  constructor() {
    const hdr = Buffer.alloc(8);
    hdr.write('TSPL', 0, 'latin1');
    hdr.writeUInt32LE(1, 4);
    this.chunks.push(hdr);
  }
  record(tag: Tag, ...parts: Buffer[]): void {
    const payload = Buffer.concat(parts);
    const hdr = Buffer.alloc(6);
    hdr.writeUInt16LE(tag, 0);
    hdr.writeUInt32LE(payload.length, 2);
    this.chunks.push(hdr, payload);
  }
  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

const u32 = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return b;
};
const i32 = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeInt32LE(v);
  return b;
};
const u64 = (v: bigint | number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(v));
  return b;
};
const str = (s: string): Buffer => Buffer.from(s, 'utf8');
const cstr = (s: string): Buffer => Buffer.concat([str(s), Buffer.from([0])]);

export function encodePlan(p: Plan): Buffer {
  const w = new Writer();
  w.record(Tag.Mode, u32(p.mode === 'create' ? 1 : 2));
  w.record(Tag.Foreground, u32(p.foreground ? 1 : 0));
  w.record(Tag.CloneFlags, u64(p.cloneFlags));
  for (const j of p.join) w.record(Tag.JoinNs, u32(j.flag), str(j.path));
  if (p.uidMap) w.record(Tag.UidMap, str(p.uidMap));
  if (p.gidMap) w.record(Tag.GidMap, str(p.gidMap));
  if (p.idMapHelpers) w.record(Tag.IdMapHelpers, cstr(p.idMapHelpers.newuidmap), cstr(p.idMapHelpers.newgidmap));
  if (p.setgroupsDeny) w.record(Tag.SetgroupsDeny, u32(1));
  if (p.timensOffsets) w.record(Tag.TimensOffsets, str(p.timensOffsets));
  if (p.rootfs) w.record(Tag.Rootfs, str(p.rootfs));
  w.record(Tag.RootReadonly, u32(p.rootReadonly ? 1 : 0));
  w.record(Tag.RootPropagation, u64(p.rootPropagation));
  for (const m of p.mounts)
    w.record(Tag.Mount, u64(m.flags), u64(m.propagation), u32(m.kind === 'mount' ? 0 : 1), cstr(m.source), cstr(m.dest), cstr(m.type), cstr(m.data));
  p.mounts.forEach((m, i) => {
    if (m.idmap) w.record(Tag.MountIdmap, u32(i), cstr(m.idmap.uidMap), str(m.idmap.gidMap));
    if (m.recursive) w.record(Tag.MountAttr, u32(i), u64(m.recursive.set), u64(m.recursive.clear));
  });
  for (const d of p.devices) w.record(Tag.Device, u32(S_IF[d.type]), u32(d.major), u32(d.minor), u32(d.mode), u32(d.uid), u32(d.gid), str(d.path));
  for (const m of p.masked) w.record(Tag.MaskedPath, str(m));
  for (const r of p.readonly) w.record(Tag.ReadonlyPath, str(r));
  if (p.hostname !== undefined) w.record(Tag.Hostname, str(p.hostname));
  if (p.domainname !== undefined) w.record(Tag.Domainname, str(p.domainname));
  for (const s of p.sysctls) w.record(Tag.Sysctl, cstr(s.path), str(s.value));
  for (const r of p.rlimits) w.record(Tag.Rlimit, u32(r.resource), u64(r.soft), u64(r.hard));
  if (p.oomScoreAdj !== undefined) w.record(Tag.OomScoreAdj, i32(p.oomScoreAdj));
  w.record(Tag.Uid, u32(p.uid));
  w.record(Tag.Gid, u32(p.gid));
  for (const g of p.additionalGids) w.record(Tag.AdditionalGid, u32(g));
  if (p.umask !== undefined) w.record(Tag.Umask, u32(p.umask));
  w.record(Tag.Cwd, str(p.cwd));
  for (const e of p.env) w.record(Tag.Env, str(e));
  for (const a of p.args) w.record(Tag.Arg, str(a));
  w.record(Tag.Terminal, u32(p.terminal ? 1 : 0));
  if (p.consoleSocket) w.record(Tag.ConsoleSocket, str(p.consoleSocket));
  w.record(Tag.NoNewPrivs, u32(p.noNewPrivs ? 1 : 0));
  if (p.caps) w.record(Tag.Caps, u64(p.caps.bounding), u64(p.caps.effective), u64(p.caps.inheritable), u64(p.caps.permitted), u64(p.caps.ambient));
  if (p.execFifo) w.record(Tag.ExecFifo, str(p.execFifo));
  for (const h of p.hooks)
    w.record(
      Tag.Hook,
      u32(h.phase === 'createContainer' ? 1 : 2),
      u32(h.timeout),
      u32(h.args.length),
      u32(h.env.length),
      cstr(h.path),
      ...h.args.map(cstr),
      ...h.env.map(cstr),
    );
  w.record(Tag.PreserveFds, u32(p.preserveFds));
  w.record(Tag.Events, u32(p.events ? 1 : 0));
  w.record(Tag.NoPivot, u32(p.noPivot ? 1 : 0));
  if (p.seccomp) {
    w.record(Tag.SeccompBpf, p.seccomp.bpf);
    w.record(Tag.SeccompFlags, u32(p.seccomp.flags));
    if (p.seccomp.listenerPath) {
      w.record(Tag.SeccompListener, str(p.seccomp.listenerPath));
      w.record(Tag.SeccompListenerPrefix, str(p.seccomp.listenerPrefix));
    }
  }
  for (const d of p.cgroupJoin?.taskDirs ?? []) w.record(Tag.CgroupTasks, str(d));
  if (p.cgroupJoin?.cloneInto) w.record(Tag.CloneIntoCgroup, str(p.cgroupJoin.cloneInto));
  return w.bytes();
}
