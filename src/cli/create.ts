import { createContainer } from '../runtime/create';
import { idAndBundle } from './advice';
import { bool, int, parseCommand, str } from './args';
import { withExistsAdvice } from './exists';
import type { Globals } from './globals';

export async function create(argv: string[], g: Globals): Promise<number> {
  const { flags, args } = parseCommand('create', argv);
  const { id, bundle } = idAndBundle('create', args, str(flags['bundle']));
  await withExistsAdvice(g.root, id, () =>
    createContainer({
      root: g.root,
      id,
      bundle,
      pidFile: str(flags['pid-file']),
      consoleSocket: str(flags['console-socket']),
      preserveFds: int(flags['preserve-fds']),
      noPivot: bool(flags['no-pivot']),
      rootless: g.rootless,
      systemdCgroup: g.systemdCgroup,
    }),
  );
  return 0;
}
