// A small flag parser with runc's conventions: long flags with one or two dashes, values as
// "--flag value" or "--flag=value", short aliases, "--" ends the flags.
import { TsrunError } from '../common/errors';
import { COMMANDS, type CommandHelp, type Verb } from './commands';

export type FlagType = 'bool' | 'string' | 'int' | 'list';
export interface FlagSpec {
  name: string;
  alias?: string;
  type: FlagType;
  /** the only values it takes (`--format table|json`): anything else is a usage error */
  values?: readonly string[];
}

/** `--help` or `-h` among a verb's flags: main prints that verb's usage. */
export class HelpRequested extends Error {
  constructor() {
    super('help requested');
  }
}
export type FlagValue = string | boolean | number | string[];
export interface Parsed {
  flags: Record<string, FlagValue | undefined>;
  args: string[];
}

/**
 * stopAtPositional: everything after the first positional is positional too
 * (`exec ID sh -c ...`, and the verb among the global flags).
 */
export function parseFlags(argv: readonly string[], specs: readonly FlagSpec[], stopAtPositional: boolean): Parsed {
  const flags: Parsed['flags'] = {};
  const args: string[] = [];
  const byName = new Map<string, FlagSpec>();
  for (const s of specs) {
    byName.set(s.name, s);
    if (s.alias) byName.set(s.alias, s);
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      args.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      args.push(a);
      if (stopAtPositional) {
        args.push(...argv.slice(i + 1));
        break;
      }
      continue;
    }
    const body = a.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const spec = byName.get(name);
    if (!spec && (name === 'help' || name === 'h')) throw new HelpRequested();
    if (!spec) throw new TsrunError('TSRUN_E_USAGE', `flag provided but not defined: ${a.split('=')[0]}`);
    let value: string | undefined = eq >= 0 ? body.slice(eq + 1) : undefined;
    if (spec.type === 'bool') {
      flags[spec.name] = value === undefined ? true : !['false', '0', ''].includes(value);
      continue;
    }
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new TsrunError('TSRUN_E_USAGE', `flag needs an argument: ${a}`);
      value = argv[++i]!;
    }
    if (spec.type === 'int') {
      if (!/^\d+$/.test(value)) throw new TsrunError('TSRUN_E_USAGE', `invalid value ${JSON.stringify(value)} for flag ${a}: not a number`);
      flags[spec.name] = Number(value);
    } else if (spec.type === 'list') {
      flags[spec.name] = [...((flags[spec.name] as string[] | undefined) ?? []), value];
    } else {
      if (spec.values && !spec.values.includes(value))
        throw new TsrunError('TSRUN_E_USAGE', `invalid value ${JSON.stringify(value)} for flag ${a.split('=')[0]}: use ${spec.values.join(' or ')}`);
      flags[spec.name] = value;
    }
  }
  return { flags, args };
}

export const str = (v: FlagValue | undefined): string | undefined => (typeof v === 'string' ? v : undefined);
export const bool = (v: FlagValue | undefined): boolean => v === true;
export const int = (v: FlagValue | undefined): number | undefined => (typeof v === 'number' ? v : undefined);
export const list = (v: FlagValue | undefined): string[] => (Array.isArray(v) ? v : []);

export function needId(args: string[], verb: string): string {
  if (!args[0]) throw new TsrunError('TSRUN_E_USAGE', `"${verb}" requires a container id`);
  return args[0];
}

/** A verb's command line, parsed with its entry in the flag table (the one its --help prints). */
export function parseCommand(verb: Verb, argv: readonly string[]): Parsed {
  const c: CommandHelp = COMMANDS[verb];
  return parseFlags(argv, c.flags, !!c.stopAtPositional);
}
