import { startContainer } from '../runtime/start';
import { needId, parseFlags } from './args';
import type { Globals } from './globals';

export function start(argv: string[], g: Globals): number {
  const { args } = parseFlags(argv, [], false);
  startContainer(g.root, needId(args, 'start'));
  return 0;
}
