import { TsrunError } from '../../common/errors';
import type { Controller } from '../controller';
import { hasFile, readCgroupFile, readKeyValues, readNumber, writeCgroupFile } from '../fs-ops';

function setLimits(dir: string, limit: number | undefined, swap: number | undefined): void {
  const hasMemsw = hasFile(dir, 'memory.memsw.limit_in_bytes');
  // As runc: lifting the memory limit (-1) lifts memory+swap too, unless a swap limit is given
  // (the kernel refuses a memory limit above memory+swap).
  if (limit === -1 && swap === undefined && hasMemsw) swap = -1;
  if (swap !== undefined && !hasMemsw)
    throw new TsrunError('TSRUN_E_CGROUP', 'linux.resources.memory.swap: this kernel has no swap accounting (memory.memsw.limit_in_bytes)');
  // memsw must stay >= limit all along: when memsw grows past the current limit (or goes
  // unlimited) it is written first, else the limit is (runc's order).
  const memswFirst = swap !== undefined && (swap === -1 || readNumber(dir, 'memory.limit_in_bytes') < swap);
  if (swap !== undefined && memswFirst) writeCgroupFile(dir, 'memory.memsw.limit_in_bytes', String(swap));
  if (limit !== undefined) writeCgroupFile(dir, 'memory.limit_in_bytes', String(limit));
  if (swap !== undefined && !memswFirst) writeCgroupFile(dir, 'memory.memsw.limit_in_bytes', String(swap));
}

export const memory: Controller = {
  name: 'memory',
  wanted: (r) => !!r.memory,
  apply(dir, r) {
    const m = r.memory!;
    setLimits(dir, m.limit, m.swap);
    if (m.reservation !== undefined) writeCgroupFile(dir, 'memory.soft_limit_in_bytes', String(m.reservation));
    if (m.swappiness !== undefined && m.swappiness <= 100) writeCgroupFile(dir, 'memory.swappiness', String(m.swappiness));
    if (m.disableOOMKiller) writeCgroupFile(dir, 'memory.oom_control', '1');
    if (m.useHierarchy && readCgroupFile(dir, 'memory.use_hierarchy') !== '1') writeCgroupFile(dir, 'memory.use_hierarchy', '1');
    if (m.kernelTCP !== undefined) {
      if (!hasFile(dir, 'memory.kmem.tcp.limit_in_bytes'))
        throw new TsrunError('TSRUN_E_CGROUP', 'linux.resources.memory.kernelTCP: this kernel has no memory.kmem.tcp.limit_in_bytes');
      writeCgroupFile(dir, 'memory.kmem.tcp.limit_in_bytes', String(m.kernelTCP));
    }
  },
  stats(dir, s) {
    const usage = (prefix: string) => ({
      usage: readNumber(dir, `${prefix}.usage_in_bytes`),
      max: readNumber(dir, `${prefix}.max_usage_in_bytes`),
      failcnt: readNumber(dir, `${prefix}.failcnt`),
      limit: readNumber(dir, `${prefix}.limit_in_bytes`),
    });
    s.memory.usage = usage('memory');
    if (hasFile(dir, 'memory.memsw.usage_in_bytes')) s.memory.swap_usage = usage('memory.memsw');
    s.memory.raw = readKeyValues(dir, 'memory.stat');
    s.memory.cache = s.memory.raw['cache'] ?? 0;
  },
};

/** OOM kills so far (memory.oom_control's oom_kill, kernel 4.13+). */
export function oomKillsV1(dir: string): number {
  return readKeyValues(dir, 'memory.oom_control')['oom_kill'] ?? 0;
}
