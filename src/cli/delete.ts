import { deleteContainer } from '../runtime/delete';
import { bool, needId, parseCommand } from './args';
import type { Globals } from './globals';

export async function del(argv: string[], g: Globals): Promise<number> {
  const { flags, args } = parseCommand('delete', argv);
  await deleteContainer(g.root, needId(args, 'delete'), bool(flags['force']));
  return 0;
}
