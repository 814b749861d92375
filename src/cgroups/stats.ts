// Cgroup statistics in the JSON shape `runc events --stats` prints.
export interface CgroupStats {
  cpu: {
    usage: { total: number; percpu: number[]; kernel: number; user: number };
    throttling: { periods: number; throttled_periods: number; throttled_time: number };
  };
  memory: {
    cache: number;
    usage: { limit: number; usage: number; max: number; failcnt: number };
    swap_usage: { limit: number; usage: number; max: number; failcnt: number };
    raw: Record<string, number>;
  };
  pids: { current: number; limit: number };
  blkio: Record<string, unknown>;
  hugetlb: Record<string, { usage: number; max: number; failcnt: number }>;
}

export function emptyStats(): CgroupStats {
  const usage = { limit: 0, usage: 0, max: 0, failcnt: 0 };
  return {
    cpu: { usage: { total: 0, percpu: [], kernel: 0, user: 0 }, throttling: { periods: 0, throttled_periods: 0, throttled_time: 0 } },
    memory: { cache: 0, usage: { ...usage }, swap_usage: { ...usage }, raw: {} },
    pids: { current: 0, limit: 0 },
    blkio: {},
    hugetlb: {},
  };
}

/** The first of `keys` that memory.stat has (name v1's total_* before v2's), or 0. */
export function memoryStat(s: CgroupStats, ...keys: string[]): number {
  for (const k of keys) if (s.memory.raw[k] !== undefined) return s.memory.raw[k]!;
  return 0;
}

/** Memory in use less the inactive page cache the kernel can take back at once: what the kubelet evicts on. */
export function workingSetBytes(s: CgroupStats): number {
  return Math.max(0, s.memory.usage.usage - memoryStat(s, 'total_inactive_file', 'inactive_file'));
}
