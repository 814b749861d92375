import type { Controller } from '../controller';
import { writeCgroupFile } from '../fs-ops';

export const cpuset: Controller = {
  name: 'cpuset',
  wanted: (r) => !!(r.cpu?.cpus || r.cpu?.mems),
  apply(dir, r) {
    if (r.cpu?.cpus) writeCgroupFile(dir, 'cpuset.cpus', r.cpu.cpus);
    if (r.cpu?.mems) writeCgroupFile(dir, 'cpuset.mems', r.cpu.mems);
  },
};
