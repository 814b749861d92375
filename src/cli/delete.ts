import { deleteContainer } from '../runtime/delete';
import { bool, needId, parseFlags } from './args';
import type { Globals } from './globals';

export function del(argv: string[], g: Globals): number {
  const { flags, args } = parseFlags(argv, [{ name: 'force', alias: 'f', type: 'bool' }], false);
  deleteContainer(g.root, needId(args, 'delete'), bool(flags['force']));
  return 0;
}
