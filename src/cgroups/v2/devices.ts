// cgroup v2 has no devices files: the rules become an eBPF program attached to the cgroup,
// built from the same normalised rules as the v1 files (the emulator's), as runc builds it.
import { TsrunError } from '../../common/errors';
import { attachDeviceFilter } from '../../sys/native';
import type { Controller } from '../controller';
import { DeviceEmulator } from '../device-emulator';
import { noteWrite } from '../fs-ops';
import { DEFAULT_DEVICE_RULES, warnStrayAccess } from '../device-rules';

export const devices: Controller = {
  name: 'devices',
  wanted: (r) => !!r.devices,
  apply(dir, r) {
    warnStrayAccess(r.devices);
    const rules = DeviceEmulator.fromRules([...(r.devices ?? []), ...DEFAULT_DEVICE_RULES])
      .rules()
      .map((d) => ({ allow: d.allow, type: d.type!, major: d.major!, minor: d.minor!, access: d.access! }));
    try {
      attachDeviceFilter(dir, rules);
    } catch (e) {
      throw new TsrunError('TSRUN_E_CGROUP', `linux.resources.devices: ${(e as Error).message}`);
    }
    noteWrite(`eBPF device program (${rules.length} rules) attached`);
  },
};
