import { containerState } from '../runtime/list';
import { needId, parseCommand } from './args';
import type { Globals } from './globals';

export function state(argv: string[], g: Globals): number {
  const { args } = parseCommand('state', argv);
  process.stdout.write(JSON.stringify(containerState(g.root, needId(args, 'state')), null, 2) + '\n');
  return 0;
}
