// tsrun's entry point: global flags, then the verb. Each verb's module is loaded only when
// used, so a call pays only for what it runs.
import { TsrunError } from '../common/errors';
import { configureLog, logDebugFields, logError } from '../common/log';
import { HelpRequested, parseCommand, parseFlags, bool, str, type FlagSpec } from './args';
import { COMMANDS, EXPLAIN_FLAGS, GLOBAL_FLAGS, isVerb, type Verb } from './commands';
import type { Globals } from './globals';

export type Command = (args: string[], g: Globals) => Promise<number> | number;

const VERBS: Record<Verb, () => Command> = {
  create: () => require('./create').create,
  start: () => require('./start').start,
  run: () => require('./run').run,
  exec: () => require('./exec').exec,
  kill: () => require('./kill').kill,
  delete: () => require('./delete').del,
  state: () => require('./state').state,
  list: () => require('./list').list,
  ps: () => require('./ps').ps,
  spec: () => require('./spec').spec,
  features: () => require('./features').features,
  pause: () => require('./pause').pause,
  resume: () => require('./pause').resume,
  update: () => require('./update').update,
  events: () => require('./events').events,
  pull: () => require('./pull').pull,
  images: () => require('./images').images,
  rmi: () => require('./images').rmi,
  prune: () => require('./images').prune,
  bundle: () => require('./bundle').bundle,
  inspect: () => require('./inspect').inspect,
  cri: () => require('./cri').cri,
  help: () => helpVerb,
};

export const VERSION = '0.1.0';

const help = (): typeof import('./help') => require('./help') as typeof import('./help');

/** `tsrun help [COMMAND]` */
function helpVerb(argv: string[]): number {
  const { args } = parseCommand('help', argv);
  const h = help();
  if (!args[0]) process.stdout.write(h.topUsage());
  else if (isVerb(args[0])) process.stdout.write(h.verbUsage(args[0]));
  else throw unknownVerb(args[0]);
  return 0;
}

function unknownVerb(word: string): TsrunError {
  const near = help().suggestVerb(word);
  return new TsrunError('TSRUN_E_USAGE', `no such command: ${word}${near ? `; did you mean "tsrun ${near}"?` : ''} (\`tsrun help\` lists the commands)`);
}

/**
 * --explain[=json] and --lang LANG may follow the verb (`tsrun run --explain bundle/`):
 * taken out here, before the verb's own flags (for exec, only before the container id).
 */
function takeExplainFlags(verb: Verb, argv: string[]): { rest: string[]; explain?: string; lang?: string; target?: string } {
  if (!('explain' in COMMANDS[verb])) return { rest: argv };
  const rest: string[] = [];
  let explain: string | undefined;
  let target: string | undefined;
  let lang: string | undefined;
  let positional = false;
  const flags = new Map<string, FlagSpec>();
  for (const f of COMMANDS[verb].flags as readonly FlagSpec[]) {
    flags.set(f.name, f);
    if (f.alias) flags.set(f.alias, f);
  }
  const checked = (flag: string, v: string): string => {
    const spec = EXPLAIN_FLAGS.find((f) => f.name === flag)!;
    if (!spec.values!.includes(v))
      throw new TsrunError('TSRUN_E_USAGE', `invalid value ${JSON.stringify(v)} for flag --${flag}: use ${spec.values!.join(' or ')}`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--' || (verb === 'exec' && positional)) {
      rest.push(...argv.slice(i));
      break;
    }
    if (a === '--explain' || a === '-explain') explain = 'text';
    else if (/^--?explain=/.test(a)) {
      const mode = a.slice(a.indexOf('=') + 1);
      // --explain=html FILE (cri: DIR, one page per pod); it may come beside a text or JSON one.
      if (mode === 'html') {
        target = argv[++i];
        if (!target || target.startsWith('-'))
          throw new TsrunError(
            'TSRUN_E_USAGE',
            `--explain=html needs where to write the page: ${verb === 'cri' ? '--explain=html DIR (one page per pod)' : `--explain=html FILE.html`}`,
          );
      } else if (mode !== 'json' && mode !== 'text')
        throw new TsrunError('TSRUN_E_USAGE', `--explain=${mode}: say --explain (text), --explain=json or --explain=html FILE`);
      else explain = mode;
    } else if ((a === '--lang' || a === '-lang') && i + 1 < argv.length) lang = checked('lang', argv[++i]!);
    else if (/^--?lang=/.test(a)) lang = checked('lang', a.slice(a.indexOf('=') + 1));
    else {
      if (!a.startsWith('-') || a === '-') positional = true;
      rest.push(a);
      // A flag's value is not the first positional (`exec --cwd /tmp --explain ID`).
      const flag = a.startsWith('-') && !a.includes('=') ? flags.get(a.replace(/^--?/, '')) : undefined;
      if (flag && flag.type !== 'bool' && i + 1 < argv.length) rest.push(argv[++i]!);
    }
  }
  return { rest, explain, lang, target };
}

/**
 * A reader that goes away (`tsrun run --explain ... 2>&1 | head -2`) must not abort a lifecycle
 * step half-way: what we print is only told, so once its pipe is closed it is dropped.
 */
function survivePipeClose(): void {
  for (const s of [process.stdout, process.stderr]) {
    s.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e;
      s.write = (() => true) as typeof s.write;
    });
  }
}

/**
 * $TSRUN_ROOT, else for an ordinary user $XDG_RUNTIME_DIR/tsrun (made 0700 and sticky, as runc
 * makes $XDG_RUNTIME_DIR/runc), else /run/tsrun. Verbs without container state do not touch it.
 */
function defaultRootFor(verb: string): string {
  const { defaultRoot, prepareXdgRoot } = require('../runtime/rootless') as typeof import('../runtime/rootless');
  const { root, xdg } = defaultRoot();
  if (xdg && !NO_STATE_VERBS.has(verb)) prepareXdgRoot(root);
  return root;
}
const NO_STATE_VERBS = new Set(['spec', 'features', 'pull', 'images', 'rmi', 'prune', 'bundle', 'cri']);

export async function main(argv: string[]): Promise<number> {
  // Before --log opens its file: which fds the caller passed is read off the table now.
  if (argv.some((a) => a.includes('preserve-fds'))) (require('../runtime/passed-fds') as typeof import('../runtime/passed-fds')).noteFdsAtEntry();
  survivePipeClose();
  let verb: string | undefined;
  try {
    const { flags, args } = parseFlags(argv, GLOBAL_FLAGS, true);
    configureLog({ file: str(flags['log']), format: str(flags['log-format']), debug: bool(flags['debug']) });
    if (bool(flags['version'])) {
      process.stdout.write(`tsrun version ${VERSION}\nspec: 1.2.0\n`);
      return 0;
    }
    verb = args[0];
    if (!verb) {
      // No command at all is a usage error (exit 1), as runc's; asking for help is not.
      (bool(flags['help']) ? process.stdout : process.stderr).write(help().topUsage());
      return bool(flags['help']) ? 0 : 1;
    }
    if (!isVerb(verb)) throw unknownVerb(verb);
    if (bool(flags['help'])) throw new HelpRequested();
    const load = VERBS[verb];
    const g: Globals = {
      root: str(flags['root']) ?? defaultRootFor(verb),
      debug: bool(flags['debug']),
      systemdCgroup: bool(flags['systemd-cgroup']),
      rootless: str(flags['rootless']),
      store: str(flags['store']) ?? process.env['TSRUN_STORE'] ?? '/var/lib/tsrun',
    };
    const taken = takeExplainFlags(verb, args.slice(1));
    const explain = taken.explain;
    let picture: import('./picture').Picture | undefined;
    if (taken.target) {
      const { addSink } = require('../events/bus') as typeof import('../events/bus');
      const { pickLang } = require('../events/narrate') as typeof import('../events/narrate');
      const lang = pickLang(taken.lang);
      if (verb === 'cri') g.explainHtml = { dir: taken.target!, lang };
      else {
        picture = (require('./picture') as typeof import('./picture')).startPicture(taken.target!, `tsrun ${[verb, ...taken.rest].join(' ')}`, lang, g.root);
        addSink(picture.sink);
      }
    }
    if (explain) {
      const { addSink } = require('../events/bus') as typeof import('../events/bus');
      const { narrator, pickLang } = require('../events/narrate') as typeof import('../events/narrate');
      const { detectCgroupLayout } = require('../cgroups/detect') as typeof import('../cgroups/detect');
      const narrate = narrator(pickLang(taken.lang), { cgroupV1: detectCgroupLayout().mode !== 'v2' });
      // Narration goes to stderr: stdout belongs to the container.
      addSink((e) => process.stderr.write(explain === 'json' ? JSON.stringify(e) + '\n' : narrate(e)));
    }
    const failpoint = process.env['TSRUN_FAILPOINT'];
    if (failpoint) {
      const { addSink } = require('../events/bus') as typeof import('../events/bus');
      addSink((require('../events/failpoint') as typeof import('../events/failpoint')).failpointSink(failpoint));
    }
    if (g.debug) {
      const { addSink } = require('../events/bus') as typeof import('../events/bus');
      const { renderText } = require('../events/render-text') as typeof import('../events/render-text');
      addSink((e) => logDebugFields(renderText(e), { step: e }));
    }
    try {
      return await load()(taken.rest, g);
    } finally {
      picture?.finish();
    }
  } catch (e) {
    if (e instanceof HelpRequested) {
      process.stdout.write(verb && isVerb(verb) ? help().verbUsage(verb) : help().topUsage());
      return 0;
    }
    const err = (require('./advice') as typeof import('./advice')).notRootAdvice(e, verb) ?? e;
    // The code travels in JSON logs, so a caller (the CRI server) can tell kinds of failure apart.
    logError(err instanceof Error ? err.message : String(err), err instanceof TsrunError ? err.code : undefined);
    // exec's own failures exit 255, as runc's do: any other status is the process's own.
    // A command line it cannot use is 1, as for every verb (runc checks its arguments first).
    return verb === 'exec' && !(err instanceof TsrunError && err.code === 'TSRUN_E_USAGE') ? 255 : 1;
  }
}
