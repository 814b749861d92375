import { TsrunError } from '../common/errors';
import { pullImage } from '../image/pull';
import { familiarName, parseReference } from '../image/reference';
import { bool, int, parseCommand, str } from './args';
import type { Globals } from './globals';
import { pullDisplay } from './pull-progress';
import { tracing } from '../events/bus';

/** "user:password" from --creds */
export function parseCreds(s: string | undefined): { username: string; password: string } | undefined {
  if (!s) return undefined;
  const i = s.indexOf(':');
  if (i <= 0) throw new TsrunError('TSRUN_E_USAGE', '--creds: expected USER:PASSWORD');
  return { username: s.slice(0, i), password: s.slice(i + 1) };
}

export async function pull(argv: string[], g: Globals): Promise<number> {
  const { flags, args } = parseCommand('pull', argv);
  if (!args[0]) throw new TsrunError('TSRUN_E_USAGE', '"pull" requires an image reference');
  const display = pullDisplay(args[0], bool(flags['quiet']), tracing());
  let rec;
  try {
    rec = await pullImage(args[0], {
      store: g.store,
      platform: str(flags['platform']),
      credentials: parseCreds(str(flags['creds'])),
      plainHttp: bool(flags['plain-http']),
      hostsDir: str(flags['hosts-dir']),
      concurrency: int(flags['concurrency']),
      progress: display ? (p) => display.progress(p) : undefined,
    });
  } catch (e) {
    display?.end(false);
    throw e;
  }
  const name = familiarName(parseReference(rec.name));
  display?.end(true, name);
  process.stdout.write(`${name} ${rec.digest}\n`);
  return 0;
}
