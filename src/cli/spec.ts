import * as fs from 'node:fs';
import * as path from 'node:path';
import { TsrunError } from '../common/errors';
import { detectCgroupLayout } from '../cgroups/detect';
import { runtimeDefaultSeccomp } from '../oci/default-seccomp';
import { defaultSpec } from '../oci/default-spec';
import { bool, parseCommand, str } from './args';

export function spec(argv: string[]): number {
  const { flags } = parseCommand('spec', argv);
  const file = path.join(str(flags['bundle']) ?? '.', 'config.json');
  if (fs.existsSync(file)) throw new TsrunError('TSRUN_E_USAGE', `File ${file} exists. Remove it first`);
  const cgroupns = detectCgroupLayout().mode === 'v2';
  const s = defaultSpec({ rootless: bool(flags['rootless']), uid: process.geteuid?.(), gid: process.getegid?.(), cgroupns });
  // --seccomp: the CRI's RuntimeDefault profile for these capabilities (what a kubelet's
  // `seccompProfile: RuntimeDefault` gets), as `ctr run --seccomp` adds containerd's.
  if (bool(flags['seccomp'])) s.linux = { ...s.linux, seccomp: runtimeDefaultSeccomp(s.process?.capabilities?.bounding ?? []) };
  fs.writeFileSync(file, JSON.stringify(s, null, '\t') + '\n', { mode: 0o644 });
  return 0;
}
