import { listContainers } from '../runtime/list';
import { bool, parseCommand, str } from './args';
import type { Globals } from './globals';
import { table } from './table';

export function list(argv: string[], g: Globals): number {
  const { flags } = parseCommand('list', argv);
  const all = listContainers(g.root);
  if (bool(flags['quiet'])) process.stdout.write(all.map((s) => s.id + '\n').join(''));
  else if (str(flags['format']) === 'json') process.stdout.write(JSON.stringify(all) + '\n');
  else
    process.stdout.write(
      table(
        ['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'],
        all.map((s) => [s.id, String(s.pid), s.status, s.bundle, s.created, s.owner]),
      ),
    );
  return 0;
}
