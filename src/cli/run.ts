import { runContainer } from '../runtime/run';
import { idAndBundle } from './advice';
import { bool, int, parseCommand, str } from './args';
import type { Globals } from './globals';
import { warnIfShellWaits } from './terminal-warning';
import { withExistsAdvice } from './exists';

export async function run(argv: string[], g: Globals): Promise<number> {
  const { flags, args } = parseCommand('run', argv);
  // `tsrun run ID` (bundle: -b DIR or the current directory), or the short form `tsrun run DIR/`.
  const { id, bundle } = idAndBundle('run', args, str(flags['bundle']));
  const detach = bool(flags['detach']);
  if (!detach && !str(flags['console-socket'])) warnIfShellWaits(bundle);
  return withExistsAdvice(g.root, id, () =>
    runContainer({
      root: g.root,
      id,
      bundle,
      pidFile: str(flags['pid-file']),
      consoleSocket: str(flags['console-socket']),
      preserveFds: int(flags['preserve-fds']),
      noPivot: bool(flags['no-pivot']),
      rootless: g.rootless,
      systemdCgroup: g.systemdCgroup,
      detach,
      keep: bool(flags['keep']),
    }),
  );
}
