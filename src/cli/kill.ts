import { killContainer } from '../runtime/kill';
import { bool, needId, parseFlags } from './args';
import type { Globals } from './globals';

export function kill(argv: string[], g: Globals): number {
  const { flags, args } = parseFlags(argv, [{ name: 'all', alias: 'a', type: 'bool' }], false);
  killContainer(g.root, needId(args, 'kill'), args[1], bool(flags['all']));
  return 0;
}
