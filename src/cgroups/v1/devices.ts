// devices cgroup v1: the config's rules, then the devices every container gets (as runc appends
// them), normalised by the emulator; only the writes that take the cgroup from what its
// devices.list shows to that state are made, and the result is read back.
import { TsrunError } from '../../common/errors';
import type { Controller } from '../controller';
import { DeviceEmulator } from '../device-emulator';
import { readCgroupFile, writeCgroupFile } from '../fs-ops';
import { DEFAULT_DEVICE_RULES, ruleText, warnStrayAccess } from '../device-rules';

export const devices: Controller = {
  name: 'devices',
  wanted: (r) => !!r.devices,
  apply(dir, r) {
    warnStrayAccess(r.devices);
    const target = DeviceEmulator.fromRules([...(r.devices ?? []), ...DEFAULT_DEVICE_RULES]);
    const current = DeviceEmulator.fromList(readCgroupFile(dir, 'devices.list'));
    for (const rule of current.transition(target)) writeCgroupFile(dir, rule.allow ? 'devices.allow' : 'devices.deny', ruleText(rule));
    // runc's final check: the kernel took exactly these rules (or, allowing all, the mode).
    const after = DeviceEmulator.fromList(readCgroupFile(dir, 'devices.list'));
    if (target.defaultAllow ? !after.defaultAllow : !after.equals(target))
      throw new TsrunError(
        'TSRUN_E_CGROUP',
        `linux.resources.devices: ${dir}/devices.list does not show the rules written (it shows: ${readCgroupFile(dir, 'devices.list').split('\n').join(', ')})`,
      );
  },
};
