import { containerPids, psTable } from '../runtime/list';
import { needId, parseCommand, str } from './args';
import type { Globals } from './globals';

export function ps(argv: string[], g: Globals): number {
  // As runc: flags end at the id (or at `--` before it); what follows is ps's own (`ps ID -e -x`).
  const { flags, args } = parseCommand('ps', argv);
  const id = needId(args, 'ps');
  const format = str(flags['format']) ?? 'table';
  if (format === 'json') process.stdout.write(JSON.stringify(containerPids(g.root, id)) + '\n');
  else process.stdout.write(psTable(g.root, id, args.slice(1)));
  return 0;
}
