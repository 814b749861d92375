import type { Controller } from '../controller';
import { readNumber, writeCgroupFile } from '../fs-ops';

export const pids: Controller = {
  name: 'pids',
  wanted: (r) => !!r.pids,
  apply(dir, r) {
    writeCgroupFile(dir, 'pids.max', r.pids!.limit > 0 ? String(r.pids!.limit) : 'max');
  },
  stats(dir, s) {
    s.pids = { current: readNumber(dir, 'pids.current'), limit: readNumber(dir, 'pids.max') };
  },
};
