// cgroup v2 has no devices files: the rules become an eBPF program attached to the cgroup.
import { TsrunError } from '../../common/errors';
import { attachDeviceFilter } from '../../sys/native';
import type { Controller } from '../controller';
import { noteWrite } from '../fs-ops';
import { DEFAULT_DEVICE_RULES } from '../device-rules';

export const devices: Controller = {
  name: 'devices',
  wanted: (r) => !!r.devices,
  apply(dir, r) {
    const rules = [...(r.devices ?? []), ...DEFAULT_DEVICE_RULES].map((d) => ({
      allow: d.allow,
      type: d.type ?? 'a',
      major: d.major ?? -1,
      minor: d.minor ?? -1,
      access: d.access ?? 'rwm',
    }));
    try {
      attachDeviceFilter(dir, rules);
    } catch (e) {
      throw new TsrunError('TSRUN_E_CGROUP', `linux.resources.devices: ${(e as Error).message}`);
    }
    noteWrite(`eBPF device program (${rules.length} rules) attached`);
  },
};
