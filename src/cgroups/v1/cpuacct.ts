import type { Controller } from '../controller';
import { readCgroupFile, readNumber } from '../fs-ops';

export const cpuacct: Controller = {
  name: 'cpuacct',
  wanted: () => false,
  apply() {},
  stats(dir, s) {
    s.cpu.usage.total = readNumber(dir, 'cpuacct.usage');
    s.cpu.usage.kernel = readNumber(dir, 'cpuacct.usage_sys');
    s.cpu.usage.user = readNumber(dir, 'cpuacct.usage_user');
    try {
      s.cpu.usage.percpu = readCgroupFile(dir, 'cpuacct.usage_percpu').split(/\s+/).filter(Boolean).map(Number);
    } catch {
      /* older kernels */
    }
  },
};
