import { TsrunError } from '../common/errors';
import type { Globals } from './globals';

export function rejectSystemdCgroup(g: Globals): void {
  if (g.systemdCgroup) throw new TsrunError('TSRUN_E_UNSUPPORTED', '--systemd-cgroup: the systemd cgroup driver is not supported yet; tsrun manages cgroups through cgroupfs');
}
