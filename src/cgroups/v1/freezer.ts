import { TsrunError } from '../../common/errors';
import { sleepSync } from '../../common/sleep';
import { readCgroupFile, writeCgroupFile } from '../fs-ops';

/** FROZEN or THAWED, waiting until the kernel reports it done (FREEZING may take a moment). */
export function setFreezerV1(dir: string, frozen: boolean): void {
  const want = frozen ? 'FROZEN' : 'THAWED';
  for (let i = 0; i < 1000; i++) {
    writeCgroupFile(dir, 'freezer.state', want);
    if (readCgroupFile(dir, 'freezer.state') === want) return;
    sleepSync(1);
  }
  throw new TsrunError('TSRUN_E_CGROUP', `${dir}/freezer.state did not become ${want}`);
}
