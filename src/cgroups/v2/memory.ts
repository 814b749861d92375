import { logWarn } from '../../common/log';
import { TsrunError } from '../../common/errors';
import type { Controller } from '../controller';
import { swapToV2, v2Max } from '../convert';
import { hasFile, readKeyValues, readNumber, writeCgroupFile } from '../fs-ops';

export const memory: Controller = {
  name: 'memory',
  wanted: (r) => !!r.memory,
  apply(dir, r) {
    const m = r.memory!;
    // cgroup v2 has no separate TCP buffer limit (its memory.max counts socket memory).
    if (m.kernelTCP !== undefined)
      throw new TsrunError(
        'TSRUN_E_CGROUP',
        'linux.resources.memory.kernelTCP: cgroup v2 has no TCP buffer limit of its own (memory.max counts socket memory): leave it out',
      );
    if (m.swap !== undefined) {
      let v: string;
      try {
        v = swapToV2(m.swap, m.limit);
      } catch (e) {
        throw new TsrunError('TSRUN_E_CGROUP', `linux.resources.memory: ${(e as Error).message}`);
      }
      if (!hasFile(dir, 'memory.swap.max'))
        throw new TsrunError('TSRUN_E_CGROUP', 'linux.resources.memory.swap: this kernel has no swap accounting (memory.swap.max)');
      writeCgroupFile(dir, 'memory.swap.max', v);
    }
    if (m.limit !== undefined) writeCgroupFile(dir, 'memory.max', v2Max(m.limit));
    if (m.reservation !== undefined) writeCgroupFile(dir, 'memory.low', v2Max(m.reservation));
    if (m.disableOOMKiller) logWarn('linux.resources.memory.disableOOMKiller has no cgroup v2 equivalent; ignored (as runc does)');
  },
  stats(dir, s) {
    s.memory.usage = {
      usage: readNumber(dir, 'memory.current'),
      max: readNumber(dir, 'memory.peak'),
      failcnt: readKeyValues(dir, 'memory.events')['max'] ?? 0,
      limit: readNumber(dir, 'memory.max'),
    };
    s.memory.swap_usage = { usage: readNumber(dir, 'memory.swap.current'), max: 0, failcnt: 0, limit: readNumber(dir, 'memory.swap.max') };
    s.memory.raw = readKeyValues(dir, 'memory.stat');
    s.memory.cache = s.memory.raw['file'] ?? 0;
  },
};

export function oomKillsV2(dir: string): number {
  return readKeyValues(dir, 'memory.events')['oom_kill'] ?? 0;
}
