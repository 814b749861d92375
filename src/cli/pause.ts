import { pauseContainer } from '../runtime/resources';
import { needId, parseFlags } from './args';
import type { Globals } from './globals';

export function pause(argv: string[], g: Globals): number {
  pauseContainer(g.root, needId(parseFlags(argv, [], false).args, 'pause'), true);
  return 0;
}

export function resume(argv: string[], g: Globals): number {
  pauseContainer(g.root, needId(parseFlags(argv, [], false).args, 'resume'), false);
  return 0;
}
