import { createContainer } from '../runtime/create';
import { bool, int, needId, parseFlags, str, type FlagSpec } from './args';
import type { Globals } from './globals';
import { rejectSystemdCgroup } from './systemd';

export const CREATE_FLAGS: FlagSpec[] = [
  { name: 'bundle', alias: 'b', type: 'string' },
  { name: 'pid-file', type: 'string' },
  { name: 'console-socket', type: 'string' },
  { name: 'preserve-fds', type: 'int' },
  { name: 'no-pivot', type: 'bool' },
  { name: 'no-new-keyring', type: 'bool' },
];

export async function create(argv: string[], g: Globals): Promise<number> {
  const { flags, args } = parseFlags(argv, CREATE_FLAGS, false);
  rejectSystemdCgroup(g);
  await createContainer({
    root: g.root,
    id: needId(args, 'create'),
    bundle: str(flags['bundle']) ?? '.',
    pidFile: str(flags['pid-file']),
    consoleSocket: str(flags['console-socket']),
    preserveFds: int(flags['preserve-fds']),
    noPivot: bool(flags['no-pivot']),
  });
  return 0;
}
