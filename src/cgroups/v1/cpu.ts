import type { Controller } from '../controller';
import { readKeyValues, writeCgroupFile } from '../fs-ops';

export const cpu: Controller = {
  name: 'cpu',
  wanted: (r) =>
    !!r.cpu && [r.cpu.shares, r.cpu.quota, r.cpu.period, r.cpu.burst, r.cpu.realtimePeriod, r.cpu.realtimeRuntime, r.cpu.idle].some((v) => v !== undefined),
  apply(dir, r) {
    const c = r.cpu!;
    if (c.shares !== undefined && c.shares !== 0) writeCgroupFile(dir, 'cpu.shares', String(c.shares));
    // The period first: a quota is checked against the current period.
    if (c.period !== undefined && c.period !== 0) writeCgroupFile(dir, 'cpu.cfs_period_us', String(c.period));
    if (c.quota !== undefined && c.quota !== 0) writeCgroupFile(dir, 'cpu.cfs_quota_us', String(c.quota));
    if (c.burst !== undefined) writeCgroupFile(dir, 'cpu.cfs_burst_us', String(c.burst));
    if (c.realtimePeriod !== undefined && c.realtimePeriod !== 0) writeCgroupFile(dir, 'cpu.rt_period_us', String(c.realtimePeriod));
    if (c.realtimeRuntime !== undefined && c.realtimeRuntime !== 0) writeCgroupFile(dir, 'cpu.rt_runtime_us', String(c.realtimeRuntime));
    if (c.idle !== undefined) writeCgroupFile(dir, 'cpu.idle', String(c.idle));
  },
  stats(dir, s) {
    const st = readKeyValues(dir, 'cpu.stat');
    s.cpu.throttling = { periods: st['nr_periods'] ?? 0, throttled_periods: st['nr_throttled'] ?? 0, throttled_time: st['throttled_time'] ?? 0 };
  },
};
