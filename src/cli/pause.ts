import { pauseContainer } from '../runtime/resources';
import { needId, parseCommand } from './args';
import type { Globals } from './globals';

export function pause(argv: string[], g: Globals): number {
  pauseContainer(g.root, needId(parseCommand('pause', argv).args, 'pause'), true);
  return 0;
}

export function resume(argv: string[], g: Globals): number {
  pauseContainer(g.root, needId(parseCommand('resume', argv).args, 'resume'), false);
  return 0;
}
