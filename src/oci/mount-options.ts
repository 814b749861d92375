// mount(8) option words -> mount(2) flags, propagation and data, as runc parses them.
export const MS = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  SYNCHRONOUS: 0x10,
  REMOUNT: 0x20,
  MANDLOCK: 0x40,
  DIRSYNC: 0x80,
  NOSYMFOLLOW: 0x100,
  NOATIME: 0x400,
  NODIRATIME: 0x800,
  BIND: 0x1000,
  MOVE: 0x2000,
  REC: 0x4000,
  UNBINDABLE: 0x20000,
  PRIVATE: 0x40000,
  SLAVE: 0x80000,
  SHARED: 0x100000,
  RELATIME: 0x200000,
  STRICTATIME: 0x1000000,
  LAZYTIME: 0x2000000,
} as const;

// [clear?, flag]
const FLAG_WORDS: Record<string, [boolean, number]> = {
  defaults: [false, 0],
  ro: [false, MS.RDONLY],
  rw: [true, MS.RDONLY],
  suid: [true, MS.NOSUID],
  nosuid: [false, MS.NOSUID],
  dev: [true, MS.NODEV],
  nodev: [false, MS.NODEV],
  exec: [true, MS.NOEXEC],
  noexec: [false, MS.NOEXEC],
  sync: [false, MS.SYNCHRONOUS],
  async: [true, MS.SYNCHRONOUS],
  dirsync: [false, MS.DIRSYNC],
  remount: [false, MS.REMOUNT],
  mand: [false, MS.MANDLOCK],
  nomand: [true, MS.MANDLOCK],
  atime: [true, MS.NOATIME],
  noatime: [false, MS.NOATIME],
  diratime: [true, MS.NODIRATIME],
  nodiratime: [false, MS.NODIRATIME],
  bind: [false, MS.BIND],
  rbind: [false, MS.BIND | MS.REC],
  relatime: [false, MS.RELATIME],
  norelatime: [true, MS.RELATIME],
  strictatime: [false, MS.STRICTATIME],
  nostrictatime: [true, MS.STRICTATIME],
  lazytime: [false, MS.LAZYTIME],
  nolazytime: [true, MS.LAZYTIME],
  symfollow: [true, MS.NOSYMFOLLOW],
  nosymfollow: [false, MS.NOSYMFOLLOW],
};

export const PROPAGATION_WORDS: Record<string, number> = {
  private: MS.PRIVATE,
  rprivate: MS.PRIVATE | MS.REC,
  shared: MS.SHARED,
  rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE,
  rslave: MS.SLAVE | MS.REC,
  unbindable: MS.UNBINDABLE,
  runbindable: MS.UNBINDABLE | MS.REC,
};

// mount_setattr(2) attributes (linux/mount.h), for the recursive "r*" words.
export const MOUNT_ATTR = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  _ATIME: 0x70,
  RELATIME: 0x0,
  NOATIME: 0x10,
  STRICTATIME: 0x20,
  NODIRATIME: 0x80,
  NOSYMFOLLOW: 0x200000,
} as const;

// The runtime-spec's recursive options (runc 1.1+, crun): applied with mount_setattr(AT_RECURSIVE)
// to the mount and every mount below it, which MS_REMOUNT cannot reach. [clear?, attribute]
const RECURSIVE_WORDS: Record<string, [boolean, number]> = {
  rro: [false, MOUNT_ATTR.RDONLY],
  rrw: [true, MOUNT_ATTR.RDONLY],
  rnosuid: [false, MOUNT_ATTR.NOSUID],
  rsuid: [true, MOUNT_ATTR.NOSUID],
  rnodev: [false, MOUNT_ATTR.NODEV],
  rdev: [true, MOUNT_ATTR.NODEV],
  rnoexec: [false, MOUNT_ATTR.NOEXEC],
  rexec: [true, MOUNT_ATTR.NOEXEC],
  rnodiratime: [false, MOUNT_ATTR.NODIRATIME],
  rdiratime: [true, MOUNT_ATTR.NODIRATIME],
  rnosymfollow: [false, MOUNT_ATTR.NOSYMFOLLOW],
  rsymfollow: [true, MOUNT_ATTR.NOSYMFOLLOW],
};

// Access time is one setting, not a set of bits: the words move MS_* bits as mount(8) does, and the
// result is what mount(2) would make of them (strictatime beats noatime beats the relatime default).
const RECURSIVE_ATIME_WORDS: Record<string, [boolean, number]> = {
  ratime: [true, MS.NOATIME],
  rnoatime: [false, MS.NOATIME],
  rrelatime: [false, MS.RELATIME],
  rnorelatime: [true, MS.RELATIME],
  rstrictatime: [false, MS.STRICTATIME],
  rnostrictatime: [true, MS.STRICTATIME],
};

export const RECURSIVE_MOUNT_WORDS: readonly string[] = [...Object.keys(RECURSIVE_WORDS), ...Object.keys(RECURSIVE_ATIME_WORDS)];

/** attr_set / attr_clr of struct mount_attr, applied with AT_RECURSIVE. */
export interface RecursiveMountAttr {
  set: number;
  clear: number;
}

export interface ParsedMountOptions {
  flags: number;
  propagation: number;
  data: string;
  /** present when a recursive "r*" option was given */
  recursive?: RecursiveMountAttr;
}

export function parseMountOptions(options: readonly string[] = []): ParsedMountOptions {
  let flags = 0;
  let propagation = 0;
  const data: string[] = [];
  let set = 0;
  let clear = 0;
  let atime: number | undefined;
  for (const opt of options) {
    const f = FLAG_WORDS[opt];
    if (f) {
      flags = f[0] ? flags & ~f[1] : flags | f[1];
      continue;
    }
    const p = PROPAGATION_WORDS[opt];
    if (p !== undefined) {
      propagation |= p;
      continue;
    }
    const r = RECURSIVE_WORDS[opt];
    if (r) {
      if (r[0]) [set, clear] = [set & ~r[1], clear | r[1]];
      else [set, clear] = [set | r[1], clear & ~r[1]];
      continue;
    }
    const a = RECURSIVE_ATIME_WORDS[opt];
    if (a) {
      atime = a[0] ? (atime ?? 0) & ~a[1] : (atime ?? 0) | a[1];
      continue;
    }
    data.push(opt);
  }
  const parsed: ParsedMountOptions = { flags, propagation, data: data.join(',') };
  if (atime !== undefined) {
    // mount_setattr changes the access-time setting only when attr_clr names the whole field.
    clear |= MOUNT_ATTR._ATIME;
    set = (set & ~MOUNT_ATTR._ATIME) | (atime & MS.STRICTATIME ? MOUNT_ATTR.STRICTATIME : atime & MS.NOATIME ? MOUNT_ATTR.NOATIME : MOUNT_ATTR.RELATIME);
  }
  if (set || clear) parsed.recursive = { set, clear };
  return parsed;
}
