// Lesson sources: docs/lessons/src/NN-name.LANG.md, markdown whose ```run blocks hold the
// commands a learner types. A ```cleanup block is not shown: the generator runs it after the
// lesson, also when the lesson failed half-way, to take away what the lesson would have (a pod,
// a bridge). Everything else is prose, copied through as written. A lesson is found by its file
// name alone, so adding a lesson is adding its two source files.
import * as fs from 'node:fs';
import * as path from 'node:path';

export const LANGS = ['en', 'ja'] as const;
export type LessonLang = (typeof LANGS)[number];

export const REPO_DIR = path.resolve(__dirname, '..', '..', '..');
export const LESSONS_DIR = path.join(REPO_DIR, 'docs', 'lessons');
export const SOURCES_DIR = path.join(LESSONS_DIR, 'src');

export type Segment = { kind: 'prose'; text: string } | { kind: 'run'; commands: string[] } | { kind: 'cleanup'; script: string };

export interface LessonSource {
  /** "01-image-and-layers": the generated file is <lang>/<name>.md */
  name: string;
  lang: LessonLang;
  /** the source file, relative to the repository */
  file: string;
  /** the first "# " heading */
  title: string;
  segments: Segment[];
}

export interface Lesson {
  name: string;
  sources: Record<LessonLang, LessonSource>;
}

const SOURCE_NAME = /^(\d\d-[a-z0-9-]+)\.([a-z]{2})\.md$/;
const HEREDOC = /<<-?\s*(['"]?)([A-Za-z_][A-Za-z0-9_]*)\1/;

/**
 * A run block's lines as commands: a line ending in "\" continues on the next one, and a
 * heredoc runs to its terminator.
 */
export function splitCommands(lines: string[], where: string): string[] {
  const commands: string[] = [];
  let cur: string[] = [];
  let heredoc: string | undefined;
  for (const line of lines) {
    if (!cur.length && !line.trim()) continue;
    cur.push(line);
    if (heredoc !== undefined) {
      if (line.replace(/^\t+/, '') === heredoc) heredoc = undefined;
    } else {
      const h = HEREDOC.exec(line);
      if (h) heredoc = h[2];
    }
    if (heredoc === undefined && !line.endsWith('\\')) {
      commands.push(cur.join('\n'));
      cur = [];
    }
  }
  if (cur.length) throw new Error(`${where}: the last command of a run block is unfinished (a trailing "\\" or an open heredoc)`);
  return commands;
}

export function parseLesson(file: string, text: string): LessonSource {
  const m = SOURCE_NAME.exec(path.basename(file));
  if (!m || !(LANGS as readonly string[]).includes(m[2]!)) throw new Error(`${file}: lesson sources are named NN-name.{${LANGS.join(',')}}.md`);
  const rel = path.relative(REPO_DIR, file);
  const segments: Segment[] = [];
  let prose: string[] = [];
  let run: string[] | undefined;
  let blockKind: 'run' | 'cleanup' = 'run';
  let runStart = 0;
  const lines = text.split('\n');
  for (const [i, line] of lines.entries()) {
    const open = run === undefined ? /^```(run|cleanup)\s*$/.exec(line) : null;
    if (open) {
      if (prose.length) segments.push({ kind: 'prose', text: prose.join('\n') });
      prose = [];
      run = [];
      blockKind = open[1] as 'run' | 'cleanup';
      runStart = i + 1;
    } else if (run !== undefined && /^```\s*$/.test(line)) {
      if (blockKind === 'cleanup') {
        if (!run.join('').trim()) throw new Error(`${rel}:${runStart}: an empty cleanup block`);
        segments.push({ kind: 'cleanup', script: run.join('\n') });
      } else {
        const commands = splitCommands(run, `${rel}:${runStart}`);
        if (!commands.length) throw new Error(`${rel}:${runStart}: an empty run block`);
        segments.push({ kind: 'run', commands });
      }
      run = undefined;
    } else if (run !== undefined) run.push(line);
    else prose.push(line);
  }
  if (run !== undefined) throw new Error(`${rel}:${runStart}: a run block without its closing \`\`\``);
  if (prose.length) segments.push({ kind: 'prose', text: prose.join('\n') });
  const title = /^# (.+)$/m.exec(text)?.[1]?.trim();
  if (!title) throw new Error(`${rel}: a lesson starts with a "# title" line`);
  return { name: m[1]!, lang: m[2] as LessonLang, file: rel, title, segments };
}

export function commandsOf(l: LessonSource): string[] {
  return l.segments.flatMap((s) => (s.kind === 'run' ? s.commands : []));
}

/** The lesson's cleanup blocks, in order (not shown in the generated lesson). */
export function cleanupOf(l: LessonSource): string[] {
  return l.segments.flatMap((s) => (s.kind === 'cleanup' ? [s.script] : []));
}

/** Every lesson in `dir`, in order; each must exist in every language. */
export function discoverLessons(dir = SOURCES_DIR): Lesson[] {
  const byName = new Map<string, Partial<Record<LessonLang, LessonSource>>>();
  for (const f of fs.readdirSync(dir).sort()) {
    if (!f.endsWith('.md')) continue;
    const src = parseLesson(path.join(dir, f), fs.readFileSync(path.join(dir, f), 'utf8'));
    const entry = byName.get(src.name) ?? {};
    entry[src.lang] = src;
    byName.set(src.name, entry);
  }
  return [...byName.entries()].map(([name, sources]) => {
    for (const lang of LANGS) if (!sources[lang]) throw new Error(`lesson ${name} has no ${lang} source (${path.relative(REPO_DIR, dir)}/${name}.${lang}.md)`);
    return { name, sources: sources as Record<LessonLang, LessonSource> };
  });
}

/** A command without its --lang choice: what every language's lesson must agree on. */
export function withoutLang(cmd: string): string {
  return cmd.replace(/\s--lang(?:=|\s+)\S+/g, '');
}

/** The languages must teach the same commands; only --lang may differ. */
export function checkSameCommands(l: Lesson): void {
  const [first, ...rest] = LANGS;
  const want = commandsOf(l.sources[first]).map(withoutLang);
  for (const lang of rest) {
    const got = commandsOf(l.sources[lang]).map(withoutLang);
    const i = want.findIndex((c, k) => c !== got[k]);
    if (i >= 0 || got.length !== want.length) {
      const k = i >= 0 ? i : Math.min(want.length, got.length);
      throw new Error(
        `lesson ${l.name}: ${lang} command ${k + 1} differs from ${first}:\n  ${first}: ${want[k] ?? '(none)'}\n  ${lang}: ${got[k] ?? '(none)'}`,
      );
    }
    if (cleanupOf(l.sources[lang]).join('\n') !== cleanupOf(l.sources[first]).join('\n'))
      throw new Error(`lesson ${l.name}: the ${lang} cleanup blocks differ from ${first}'s`);
  }
}

const EXPLAIN_VERBS = new Set(['cri', 'run', 'create', 'start', 'exec', 'pull', 'bundle', 'delete', 'kill', 'pause', 'resume', 'update']);

/**
 * A command as another explain mode runs it: "json" turns each tsrun --explain into
 * --explain=json; a language makes it --explain --lang LANG. `inspect --explain` is not an
 * event stream and stays as written. `tsrun cri --explain` narrates into wherever its stderr
 * goes (a file the lesson shows later): that file then holds JSON lines instead.
 */
export function withExplain(cmd: string, mode: 'json' | LessonLang): string {
  return cmd.replace(/\btsrun\b[^;|&\n]*/g, (call) => {
    const verb = call
      .split(/\s+/)
      .slice(1)
      .find((w) => !w.startsWith('-'));
    if (!verb || !EXPLAIN_VERBS.has(verb) || !/\s--explain\b/.test(call)) return call;
    // A picture (--explain=html FILE) is drawn in every mode, kept out of the way meanwhile.
    const html = /\s--explain=html\s+\S+/.exec(call)?.[0] ?? '';
    const bare = call.replace(html, ' \u0000').replace(/\s--lang(?:=|\s+)\S+/g, '');
    const text = /\s--explain(?:=(?:text|json))?(?=\s|$)/;
    const out = text.test(bare)
      ? bare.replace(text, mode === 'json' ? ' --explain=json' : ` --explain --lang ${mode}`)
      : mode === 'json'
        ? bare
        : `${bare} --lang ${mode}`;
    return out.replace(' \u0000', html);
  });
}
