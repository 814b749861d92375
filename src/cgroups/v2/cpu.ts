import { TsrunError } from '../../common/errors';
import type { Controller } from '../controller';
import { sharesToWeight } from '../convert';
import { readKeyValues, writeCgroupFile } from '../fs-ops';

export const cpu: Controller = {
  name: 'cpu',
  wanted: (r) =>
    !!r.cpu && [r.cpu.shares, r.cpu.quota, r.cpu.period, r.cpu.burst, r.cpu.idle, r.cpu.realtimeRuntime, r.cpu.realtimePeriod].some((v) => v !== undefined),
  apply(dir, r) {
    const c = r.cpu!;
    if (c.realtimeRuntime || c.realtimePeriod)
      throw new TsrunError('TSRUN_E_CGROUP', 'linux.resources.cpu: realtime scheduling limits are not available with cgroup v2');
    if (c.shares) writeCgroupFile(dir, 'cpu.weight', String(sharesToWeight(c.shares)));
    if (c.quota !== undefined || c.period !== undefined) {
      const quota = c.quota === undefined || c.quota <= 0 ? 'max' : String(c.quota);
      writeCgroupFile(dir, 'cpu.max', `${quota} ${c.period || 100000}`);
    }
    if (c.burst !== undefined) writeCgroupFile(dir, 'cpu.max.burst', String(c.burst));
    if (c.idle !== undefined) writeCgroupFile(dir, 'cpu.idle', String(c.idle));
  },
  stats(dir, s) {
    const st = readKeyValues(dir, 'cpu.stat');
    s.cpu.usage.total = (st['usage_usec'] ?? 0) * 1000;
    s.cpu.usage.user = (st['user_usec'] ?? 0) * 1000;
    s.cpu.usage.kernel = (st['system_usec'] ?? 0) * 1000;
    s.cpu.throttling = { periods: st['nr_periods'] ?? 0, throttled_periods: st['nr_throttled'] ?? 0, throttled_time: (st['throttled_usec'] ?? 0) * 1000 };
  },
};
