import { deleteContainer } from '../runtime/delete';
import { bool, needId, parseFlags } from './args';
import type { Globals } from './globals';

export async function del(argv: string[], g: Globals): Promise<number> {
  const { flags, args } = parseFlags(argv, [{ name: 'force', alias: 'f', type: 'bool' }], false);
  await deleteContainer(g.root, needId(args, 'delete'), bool(flags['force']));
  return 0;
}
