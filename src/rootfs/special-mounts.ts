// proc and sysfs mounted through a symlink of the rootfs would land wherever the image points
// the link (inside the rootfs, since paths resolve in it, but not where the config says, and
// hiding what the image put there). runc refuses such a rootfs; so does tsrun, in its words.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RuntimeConfig } from '../../specs/oci/runtime-config';
import { TsrunError } from '../common/errors';

export function checkSpecialMountTargets(config: RuntimeConfig, rootfs: string): void {
  for (const [i, m] of (config.mounts ?? []).entries()) {
    if (m.type !== 'proc' && m.type !== 'sysfs') continue;
    let st: fs.Stats;
    try {
      st = fs.lstatSync(path.join(rootfs, m.destination));
    } catch {
      continue; // made as a directory when mounted
    }
    if (!st.isDirectory())
      throw new TsrunError(
        'TSRUN_E_BUNDLE',
        `mounts[${i}]: filesystem "${m.type}" must be mounted on an ordinary directory, and ${m.destination} in the rootfs is ${st.isSymbolicLink() ? `a symlink to ${fs.readlinkSync(path.join(rootfs, m.destination))}` : 'not a directory'}`,
      );
  }
}
