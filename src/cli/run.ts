import * as fs from 'node:fs';
import * as path from 'node:path';
import { generateId } from '../common/ids';
import { runContainer } from '../runtime/run';
import { bool, int, needId, parseCommand, str } from './args';
import type { Globals } from './globals';
import { rejectSystemdCgroup } from './systemd';

export async function run(argv: string[], g: Globals): Promise<number> {
  const { flags, args } = parseCommand('run', argv);
  rejectSystemdCgroup(g);
  let bundle = str(flags['bundle']);
  let id: string;
  // Short form: `tsrun run DIR` where DIR holds config.json runs it under a generated id.
  if (!bundle && args.length === 1 && args[0]!.includes('/') && fs.existsSync(path.join(args[0]!, 'config.json'))) {
    bundle = args[0]!;
    id = `${path.basename(path.resolve(bundle))}-${generateId().slice(0, 8)}`;
  } else id = needId(args, 'run');
  return runContainer({
    root: g.root,
    id,
    bundle: bundle ?? '.',
    pidFile: str(flags['pid-file']),
    consoleSocket: str(flags['console-socket']),
    preserveFds: int(flags['preserve-fds']),
    noPivot: bool(flags['no-pivot']),
    detach: bool(flags['detach']),
    keep: bool(flags['keep']),
  });
}
