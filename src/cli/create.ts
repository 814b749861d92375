import { createContainer } from '../runtime/create';
import { bool, int, needId, parseCommand, str } from './args';
import type { Globals } from './globals';
import { rejectSystemdCgroup } from './systemd';

export async function create(argv: string[], g: Globals): Promise<number> {
  const { flags, args } = parseCommand('create', argv);
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
