import { TsrunError } from '../common/errors';
import { containerStats, watchEvents } from '../runtime/resources';
import { bool, needId, parseCommand, str } from './args';
import type { Globals } from './globals';

/** "5s", "500ms", "1m" -> milliseconds */
function parseDuration(s: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(s);
  if (!m) throw new TsrunError('TSRUN_E_USAGE', `--interval: invalid duration ${JSON.stringify(s)}`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm'];
}

export function events(argv: string[], g: Globals): number {
  const { flags, args } = parseCommand('events', argv);
  const id = needId(args, 'events');
  if (bool(flags['stats'])) {
    process.stdout.write(JSON.stringify(containerStats(g.root, id)) + '\n');
    return 0;
  }
  watchEvents(g.root, id, parseDuration(str(flags['interval']) ?? '5s'), (e) => process.stdout.write(JSON.stringify(e) + '\n'));
  return 0;
}
