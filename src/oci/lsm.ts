// AppArmor and SELinux: tsrun applies neither yet; a config that asks for a profile or label
// on a host without that LSM is refused clearly (never run unconfined silently).
import * as fs from 'node:fs';
import type { RuntimeConfig } from '../../specs/oci/runtime-config';
import { TsrunError } from '../common/errors';

const appArmorEnabled = (): boolean => {
  try {
    return fs.readFileSync('/sys/module/apparmor/parameters/enabled', 'utf8').trim() === 'Y';
  } catch {
    return false;
  }
};
const selinuxEnabled = (): boolean => fs.existsSync('/sys/fs/selinux/enforce');

export function checkSecurityModules(config: RuntimeConfig, file = 'config.json'): void {
  const p = config.process;
  if (p?.apparmorProfile) {
    const why = appArmorEnabled() ? 'tsrun cannot apply AppArmor profiles yet' : 'AppArmor is not enabled on this host';
    throw new TsrunError('TSRUN_E_UNSUPPORTED', `${file}: process.apparmorProfile: ${JSON.stringify(p.apparmorProfile)} requested, but ${why}`);
  }
  const label = p?.selinuxLabel
    ? ['process.selinuxLabel', p.selinuxLabel]
    : config.linux?.mountLabel
      ? ['linux.mountLabel', config.linux.mountLabel]
      : undefined;
  if (label) {
    const why = selinuxEnabled() ? 'tsrun cannot apply SELinux labels yet' : 'SELinux is not enabled on this host';
    throw new TsrunError('TSRUN_E_UNSUPPORTED', `${file}: ${label[0]}: ${JSON.stringify(label[1])} requested, but ${why}`);
  }
}
