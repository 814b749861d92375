import { startContainer } from '../runtime/start';
import { needId, parseCommand } from './args';
import type { Globals } from './globals';

export async function start(argv: string[], g: Globals): Promise<number> {
  const { args } = parseCommand('start', argv);
  await startContainer(g.root, needId(args, 'start'));
  return 0;
}
