// devices cgroup v1: deny everything, then the config's rules in order, then the devices
// every container gets (as runc appends them).
import type { Controller } from '../controller';
import { writeCgroupFile } from '../fs-ops';
import { DEFAULT_DEVICE_RULES, ruleText } from '../device-rules';

export const devices: Controller = {
  name: 'devices',
  wanted: (r) => !!r.devices,
  apply(dir, r) {
    writeCgroupFile(dir, 'devices.deny', 'a');
    for (const rule of [...(r.devices ?? []), ...DEFAULT_DEVICE_RULES]) writeCgroupFile(dir, rule.allow ? 'devices.allow' : 'devices.deny', ruleText(rule));
  },
};
