import { TsrunError } from '../common/errors';
import { makeBundle, removeBundle } from '../runtime/bundle';
import { bool, parseCommand } from './args';
import type { Globals } from './globals';

/** tsrun bundle IMAGE DIR [-- ARGS...] | tsrun bundle --remove DIR */
export function bundle(argv: string[], g: Globals): number {
  const { flags, args } = parseCommand('bundle', argv);
  if (bool(flags['remove'])) {
    if (!args[0]) throw new TsrunError('TSRUN_E_USAGE', '"bundle --remove" requires the bundle directory');
    removeBundle(g.store, args[0]);
    return 0;
  }
  if (args.length < 2) throw new TsrunError('TSRUN_E_USAGE', '"bundle" requires an image and a directory');
  process.stdout.write(makeBundle(g.store, args[0]!, args[1]!, args.slice(2)) + '\n');
  return 0;
}
