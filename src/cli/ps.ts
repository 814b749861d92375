import { TsrunError } from '../common/errors';
import { containerPids, psTable } from '../runtime/list';
import { needId, parseFlags, str } from './args';
import type { Globals } from './globals';

export function ps(argv: string[], g: Globals): number {
  // As runc: flags end at the id (or at `--` before it); what follows is ps's own (`ps ID -e -x`).
  const { flags, args } = parseFlags(argv, [{ name: 'format', alias: 'f', type: 'string' }], true);
  const id = needId(args, 'ps');
  const format = str(flags['format']) ?? 'table';
  if (format === 'json') process.stdout.write(JSON.stringify(containerPids(g.root, id)) + '\n');
  else if (format === 'table') process.stdout.write(psTable(g.root, id, args.slice(1)));
  else throw new TsrunError('TSRUN_E_USAGE', `invalid format option ${JSON.stringify(format)}: use table or json`);
  return 0;
}
