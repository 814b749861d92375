// RLIMIT_* names in kernel number order (include/uapi/asm-generic/resource.h).
export const RLIMITS = [
  'RLIMIT_CPU',
  'RLIMIT_FSIZE',
  'RLIMIT_DATA',
  'RLIMIT_STACK',
  'RLIMIT_CORE',
  'RLIMIT_RSS',
  'RLIMIT_NPROC',
  'RLIMIT_NOFILE',
  'RLIMIT_MEMLOCK',
  'RLIMIT_AS',
  'RLIMIT_LOCKS',
  'RLIMIT_SIGPENDING',
  'RLIMIT_MSGQUEUE',
  'RLIMIT_NICE',
  'RLIMIT_RTPRIO',
  'RLIMIT_RTTIME',
] as const;

export const RLIM_INFINITY = 0xffffffffffffffffn;

export function rlimitNumber(name: string): number | undefined {
  const i = (RLIMITS as readonly string[]).indexOf(name);
  return i < 0 ? undefined : i;
}

// JSON.parse rounds 2^64-1 up to 2^64: anything that large means "unlimited".
export function rlimitValue(v: number): bigint {
  return v >= 2 ** 63 ? RLIM_INFINITY : BigInt(v);
}
