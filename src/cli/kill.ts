import { killContainer } from '../runtime/kill';
import { bool, needId, parseCommand } from './args';
import type { Globals } from './globals';

export function kill(argv: string[], g: Globals): number {
  const { flags, args } = parseCommand('kill', argv);
  killContainer(g.root, needId(args, 'kill'), args[1], bool(flags['all']));
  return 0;
}
