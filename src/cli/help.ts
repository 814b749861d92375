// The usage texts, printed from the flag tables in commands.ts (the ones the verbs parse with).
import { COMMANDS, EXPLAIN_FLAGS, GLOBAL_FLAGS, type CommandHelp, type FlagHelp, type Verb } from './commands';

const GROUPS: [string, Verb[]][] = [
  ['containers (as runc)', ['create', 'start', 'run', 'exec', 'kill', 'delete', 'state', 'list', 'ps', 'spec', 'features']],
  ['resources', ['pause', 'resume', 'update', 'events', 'inspect']],
  ['images', ['pull', 'images', 'rmi', 'prune', 'bundle']],
  ['servers', ['cri']],
  ['and', ['help']],
];

function flagLine(f: FlagHelp): [string, string] {
  const names = f.alias && f.alias.length === 1 ? `-${f.alias}, --${f.name}` : `    --${f.name}`;
  const value = f.type === 'bool' ? '' : f.value?.startsWith('[') ? f.value : ` ${f.values ? f.values.join('|') : (f.value ?? 'VALUE')}`;
  const repeat = f.type === 'list' ? ' (repeatable)' : '';
  return [`${names}${value}`, `${f.help}${repeat}`];
}

const WIDTH = 100;

/** Word-wrapped to WIDTH columns, continuation lines under the text. */
function wrap(text: string, indent: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && indent + line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  lines.push(line);
  return lines.join('\n' + ' '.repeat(indent));
}

/** Items (each kept whole) on lines of at most WIDTH columns, continuation lines indented. */
function wrapUnits(units: string[], indent: number): string {
  const lines: string[] = [];
  let line = '';
  for (const u of units) {
    if (line && 2 + line.length + 1 + u.length > WIDTH) {
      lines.push(line);
      line = ' '.repeat(indent - 2) + u;
    } else line = line ? `${line} ${u}` : u;
  }
  lines.push(line);
  return lines.map((l) => `  ${l}`).join('\n');
}

/** `[-d]`, `[--bundle DIR]`, `[--format table|json]` */
function compactFlag(f: FlagHelp): string {
  // A switch by its letter (-d), a flag with a value by its name (--format table|json).
  const name = f.type === 'bool' && f.alias?.length === 1 ? `-${f.alias}` : `--${f.name}`;
  const value = f.type === 'bool' ? '' : f.value?.startsWith('[') ? f.value : ` ${f.values ? f.values.join('|') : (f.value ?? 'VALUE')}`;
  return `[${name}${value}]`;
}

function columns(rows: [string, string][], width = Math.max(...rows.map((r) => r[0].length))): string {
  const w = Math.min(34, width);
  return rows.map(([l, r]) => (l.length > w ? `  ${l}\n${' '.repeat(w + 4)}${wrap(r, w + 4)}` : `  ${l.padEnd(w + 2)}${wrap(r, w + 4)}`)).join('\n') + '\n';
}

export function verbUsage(verb: Verb): string {
  const c: CommandHelp = COMMANDS[verb];
  const out = [`tsrun ${verb}: ${c.summary}`, '', ...c.usage.map((u, i) => `${i ? '      ' : 'usage:'} tsrun ${verb} ${u}`.trimEnd()), ''];
  const flags: FlagHelp[] = [...c.flags, ...(c.explain ? EXPLAIN_FLAGS : [])];
  if (flags.length) out.push('options:', columns(flags.map(flagLine)).trimEnd(), '');
  if (c.notes) out.push(...c.notes, '');
  out.push('global options (before the command) are listed by `tsrun --help`.');
  return out.join('\n') + '\n';
}

export function topUsage(): string {
  const out = [
    'tsrun: a container runtime (OCI, runc-compatible), an image store and a Kubernetes CRI server',
    '',
    'usage: tsrun [global options] COMMAND [options] [args]',
    '',
  ];
  const width = Math.max(...Object.keys(COMMANDS).map((v) => v.length));
  for (const [title, verbs] of GROUPS) {
    out.push(
      `${title ? title + ':' : ''}`,
      columns(
        verbs.map((v) => [v, COMMANDS[v].summary]),
        width,
      ).trimEnd(),
    );
  }
  out.push('', 'synopsis (every option explained: tsrun help COMMAND):');
  for (const [v, c] of Object.entries(COMMANDS) as [Verb, CommandHelp][]) {
    const forms = c.usage.map((u) => u.split('    (')[0]!.trim());
    // A flag that makes a form of its own (bundle --remove DIR) is not an option of the others.
    const flags = [...c.flags, ...(c.explain ? EXPLAIN_FLAGS : [])].filter((f) => !forms.some((u) => u.startsWith(`--${f.name}`))).map(compactFlag);
    forms.forEach((form, i) => {
      const words = form.split(' ').filter(Boolean);
      // The first form spells the options out; the others say [options].
      const units = i === 0 ? (words[0] === '[options]' ? [...flags, ...words.slice(1)] : form.startsWith('-') ? words : [...flags, ...words]) : words;
      out.push(wrapUnits(['tsrun', v, ...units], 8));
    });
  }
  out.push('', 'global options:', columns(GLOBAL_FLAGS.map(flagLine)).trimEnd());
  out.push(
    '',
    'To watch what the runtime does, add --explain (or --explain=json, and --lang ja for Japanese) after',
    `the command: ${Object.entries(COMMANDS)
      .filter(([, c]) => (c as CommandHelp).explain)
      .map(([v]) => v)
      .join(', ')}.`,
    '',
    'first steps:',
    '  tsrun bundle IMAGE DIR -- CMD [ARG...]   a bundle from an image in the store (`tsrun pull IMAGE` first)',
    '  tsrun run DIR/                           run it under a generated id',
    '  tsrun help COMMAND                       every option of a command (or: tsrun COMMAND --help)',
  );
  return out.join('\n') + '\n';
}

/** Docker's words for what tsrun calls otherwise. */
const DOCKER_WORDS: Record<string, string> = {
  rm: 'delete',
  ls: 'list',
  stop: 'kill',
  top: 'ps',
  image: 'images',
  remove: 'delete',
  status: 'state',
  unpause: 'resume',
};

/** "did you mean ..." for a verb that is not one. */
export function suggestVerb(word: string): string | undefined {
  const { distance } = require('fastest-levenshtein') as typeof import('fastest-levenshtein');
  if (DOCKER_WORDS[word]) return DOCKER_WORDS[word];
  let best: { verb: string; d: number } | undefined;
  for (const v of Object.keys(COMMANDS)) {
    const d = distance(word, v);
    if (!best || d < best.d) best = { verb: v, d };
  }
  if (best && best.d <= (word.length <= 3 ? 1 : 2)) return best.verb;
  const prefix = Object.keys(COMMANDS).filter((v) => v.startsWith(word) || word.startsWith(v));
  return prefix.length === 1 ? prefix[0] : undefined;
}
