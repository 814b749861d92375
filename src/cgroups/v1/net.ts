import type { Controller } from '../controller';
import { writeCgroupFile } from '../fs-ops';

export const netCls: Controller = {
  name: 'net_cls',
  wanted: (r) => r.network?.classID !== undefined,
  apply(dir, r) {
    writeCgroupFile(dir, 'net_cls.classid', String(r.network!.classID));
  },
};

export const netPrio: Controller = {
  name: 'net_prio',
  wanted: (r) => !!r.network?.priorities?.length,
  apply(dir, r) {
    for (const p of r.network!.priorities!) writeCgroupFile(dir, 'net_prio.ifpriomap', `${p.name} ${p.priority}`);
  },
};
