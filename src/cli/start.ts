import { startContainer } from '../runtime/start';
import { needId, parseFlags } from './args';
import type { Globals } from './globals';

export async function start(argv: string[], g: Globals): Promise<number> {
  const { args } = parseFlags(argv, [], false);
  await startContainer(g.root, needId(args, 'start'));
  return 0;
}
