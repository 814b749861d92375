import { TsrunError } from '../../common/errors';
import { sleepSync } from '../../common/sleep';
import { readIfThere, readKeyValues, writeCgroupFile } from '../fs-ops';

/** cgroup.freeze, waiting until cgroup.events says the cgroup is (un)frozen. */
export function setFreezeV2(dir: string, frozen: boolean): void {
  writeCgroupFile(dir, 'cgroup.freeze', frozen ? '1' : '0');
  for (let i = 0; i < 1000; i++) {
    if ((readKeyValues(dir, 'cgroup.events')['frozen'] ?? 0) === (frozen ? 1 : 0)) return;
    sleepSync(1);
  }
  throw new TsrunError('TSRUN_E_CGROUP', `${dir}: cgroup.events did not report frozen ${frozen ? 1 : 0}`);
}

/** "file: value" if `dir` is frozen (cgroup.events, an ancestor's freeze included) or asked to freeze. */
export function frozenV2(dir: string): string | undefined {
  if (readKeyValues(dir, 'cgroup.events')['frozen'] === 1) return `${dir}/cgroup.events: frozen 1`;
  if (readIfThere(dir, 'cgroup.freeze') === '1') return `${dir}/cgroup.freeze: 1`;
  return undefined;
}
