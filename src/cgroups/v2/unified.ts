// linux.resources.unified: raw cgroup v2 files, written as given.
import { TsrunError } from '../../common/errors';
import type { Controller } from '../controller';
import { hasFile, writeCgroupFile } from '../fs-ops';

export const unified: Controller = {
  name: 'unified',
  wanted: (r) => !!r.unified && Object.keys(r.unified).length > 0,
  apply(dir, r) {
    for (const [key, value] of Object.entries(r.unified ?? {})) {
      if (key.includes('/') || key.startsWith('.')) throw new TsrunError('TSRUN_E_CGROUP', `linux.resources.unified.${key}: not a cgroup file name`);
      if (!hasFile(dir, key)) throw new TsrunError('TSRUN_E_CGROUP', `linux.resources.unified.${key}: no such file in ${dir} (is its controller enabled?)`);
      writeCgroupFile(dir, key, value);
    }
  },
};
