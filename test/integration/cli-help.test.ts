// The command line a runc or podman user expects: `tsrun VERB --help`, `-h` and `tsrun help VERB`
// print the verb's usage with every flag; every flag the help lists is one the verb parses;
// --format takes only what a verb prints; a mistyped verb gets a suggestion; the lifecycle verbs
// run from the bundle the build makes.
import test from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { COMMANDS } from '../../src/cli/commands';
import { newRoot, ROOT_DIR, tsrun } from '../helpers/tsrun';

const root = newRoot();
const VERBS = Object.keys(COMMANDS);

/** The flags a help text lists, read off the text itself: `-b, --bundle DIR`, `--explain[=text|json]`. */
function flagsInHelp(text: string): { short?: string; long: string; value?: string }[] {
  const out: { short?: string; long: string; value?: string }[] = [];
  const section = text.split('\noptions:\n')[1]?.split('\n\n')[0] ?? '';
  for (const line of section.split('\n')) {
    const m = /^ {2}(?:-(\w), )?\s*--([\w-]+)(\[=[^\]]+\]| \S+)?/.exec(line);
    if (m) out.push({ short: m[1], long: m[2]!, value: m[3]?.trim() });
  }
  return out;
}

/** A value the flag takes: the first of `a|b`, else a number (every string flag takes one too). */
function sampleValue(value: string): string {
  const alternatives = value.replace(/^\[=|\]$/g, '');
  const first = alternatives.split('|')[0]!;
  return alternatives.includes('|') && /^[a-z0-9-]+$/.test(first) ? first : '1';
}

for (const verb of VERBS) {
  test(`${verb}: --help, -h and \`help ${verb}\` print its usage`, (t) => {
    const long = tsrun(root, [verb, '--help']);
    t.is(long.code, 0, long.stderr);
    t.regex(long.stdout, new RegExp(`^tsrun ${verb}: \\S`));
    t.regex(long.stdout, new RegExp(`\\nusage: tsrun ${verb}\\b`));
    t.is(long.stderr, '');
    t.is(tsrun(root, [verb, '-h']).stdout, long.stdout);
    t.is(tsrun(root, ['help', verb]).stdout, long.stdout);
  });

  test(`${verb}: every flag its help lists is one it parses`, (t) => {
    const help = tsrun(root, [verb, '--help']).stdout;
    const flags = flagsInHelp(help);
    if (COMMANDS[verb as keyof typeof COMMANDS].flags.length) t.true(flags.length > 0, help);
    // All of them at once, then --help: the verb's own parser reads each before it sees --help.
    const argv: string[] = [];
    for (const f of flags) {
      if (!f.value) argv.push(`--${f.long}`);
      else if (f.value.startsWith('[=')) argv.push(`--${f.long}=${sampleValue(f.value)}`);
      else argv.push(`--${f.long}`, sampleValue(f.value));
      if (f.short) argv.push(`-${f.short}`, ...(f.value ? [sampleValue(f.value)] : []));
    }
    const r = tsrun(root, [verb, ...argv, '--help']);
    t.is(r.code, 0, `${argv.join(' ')}: ${r.stderr}`);
    t.is(r.stdout, help);
    // ...and a flag the help does not list is refused, by name.
    const bad = tsrun(root, [verb, '--no-such-flag', 'x']);
    t.is(bad.code, 1);
    t.regex(bad.stderr, /flag provided but not defined: --no-such-flag/);
  });
}

test('the top-level usage lists every command, every global flag and the forms people look for', (t) => {
  for (const args of [['--help'], ['-h'], ['help']]) {
    const r = tsrun(root, args);
    t.is(r.code, 0);
    for (const v of VERBS) t.regex(r.stdout, new RegExp(`\\n  ${v} +\\S`), v);
    for (const f of ['--root', '--store', '--log', '--log-format', '--debug', '--version', '--help']) t.true(r.stdout.includes(f), f);
    for (const form of [
      '--explain',
      '--lang en|ja',
      'tsrun run [--bundle DIR]',
      '[-d] [--keep]',
      '--plain-http',
      '--concurrency N',
      '[-q]',
      'tsrun bundle',
      'IMAGE DIR [-- CMD [ARG...]]',
      'tsrun inspect [--format text|json]',
    ])
      t.true(r.stdout.includes(form), form);
  }
  // Nothing at all is a usage error; the usage goes to stderr.
  const none = tsrun(root, []);
  t.is(none.code, 1);
  t.regex(none.stderr, /usage: tsrun/);
});

test('--format takes only the values a verb prints', (t) => {
  for (const verb of ['list', 'images', 'ps', 'inspect']) {
    const r = tsrun(root, [verb, '--format', 'wide', 'x']);
    t.is(r.code, 1, verb);
    t.regex(r.stderr, /invalid value "wide" for flag --format: use (table or json|text or json)/, verb);
    t.is(r.stdout, '');
  }
  t.is(tsrun(root, ['--log-format', 'yaml', 'list']).code, 1);
  const explain = tsrun(root, ['run', '--explain=yaml', 'x']);
  t.is(explain.code, 1);
  t.regex(explain.stderr, /--explain=yaml: say --explain \(text\), --explain=json or --explain=html FILE/);
});

test('a mistyped command gets "did you mean"', (t) => {
  const cases: [string, string][] = [
    ['lsit', 'list'],
    ['pul', 'pull'],
    ['delte', 'delete'],
    ['imgaes', 'images'],
    ['rm', 'delete'],
    ['stop', 'kill'],
  ];
  for (const [typo, verb] of cases) {
    const r = tsrun(root, [typo]);
    t.is(r.code, 1, typo);
    t.regex(r.stderr, new RegExp(`no such command: ${typo}; did you mean "tsrun ${verb}"\\?`), typo);
  }
  const far = tsrun(root, ['xyzzy']);
  t.is(far.code, 1);
  t.regex(far.stderr, /no such command: xyzzy \(`tsrun help` lists the commands\)/);
  t.is(tsrun(root, ['help', 'lsit']).code, 1);
});

// `npm run build` bundles the lifecycle verbs into one file with V8's code cache (issue 16);
// bin/tsrun falls back to the module tree without them, so only this notices a build that
// stopped making them. The modules a run loaded are read from Node's own module cache.
test('bin/tsrun runs the lifecycle verbs from the bundle the build made, and pull/images from the module tree', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-modules-'));
  try {
    const hook = path.join(dir, 'loaded.js');
    fs.writeFileSync(hook, "process.on('exit', () => require('fs').writeFileSync(process.env.LOADED_OUT, JSON.stringify(Object.keys(require.cache))));\n");
    const loaded = (args: string[]): string[] => {
      const out = path.join(dir, `${args[0]}.json`);
      const r = tsrun(root, args, { env: { ...process.env, NODE_OPTIONS: `--require ${hook}`, LOADED_OUT: out } });
      t.is(r.code, 1, r.stderr);
      return (JSON.parse(fs.readFileSync(out, 'utf8')) as string[]).filter((f) => f.includes(`${path.sep}dist${path.sep}src${path.sep}`) && f.endsWith('.js'));
    };
    t.true(fs.existsSync(path.join(ROOT_DIR, 'dist', 'src', 'cli', 'tsrun.bundle.js')), 'npm run build made the bundle');
    t.true(fs.existsSync(path.join(ROOT_DIR, 'dist', 'src', 'cli', 'tsrun.bundle.cache')), 'and its code cache');
    t.deepEqual(loaded(['state', 'no-such-container']), [], 'state: no module of dist/src loaded one by one');
    t.true(
      loaded(['images', '--format', 'wide']).some((f) => f.endsWith(path.join('cli', 'main.js'))),
      'images: from the module tree',
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
