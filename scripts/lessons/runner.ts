// Runs lessons the way a learner does: every command in order, in one shell, as root. The
// generator writes what they printed into the docs; the lessons test checks it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { laneOf, runInLane } from './lane';
import type { LessonSource } from './source';
import { commandsOf, withExplain } from './source';
import { LessonEnv } from './setup';

export interface CommandResult {
  /** as written in the source */
  command: string;
  /** as run (the source's command, or another explain mode of it) */
  ran: string;
  /** stdout and stderr, interleaved as written */
  output: string;
  /** the output with placeholders for what changes between runs */
  shown: string;
}

export interface LessonResult {
  source: LessonSource;
  /** one per command of the source, in order */
  results: CommandResult[];
  /**
   * The pages the lesson drew (--explain=html, inspect --html) into $LESSONS/pictures/, by file
   * name, with placeholders applied: the generator puts them beside the lesson with a PNG.
   */
  pictures: Map<string, string>;
}

export interface RunOptions {
  /** 'json': each tsrun --explain runs as --explain=json (the test's third run) */
  explain?: 'json';
  /** run every lesson here, whatever lane it asks for (the lane's guest itself) */
  local?: boolean;
  /** how long one command may take (default 60 s; an emulated guest is slower) */
  commandTimeoutMs?: number;
  /** hears each command as it finishes */
  progress?: (lesson: LessonSource, r: CommandResult) => void;
}

async function runLesson(env: LessonEnv, source: LessonSource, opts: RunOptions): Promise<LessonResult> {
  const placeholders = env.placeholders();
  const results: CommandResult[] = [];
  let pictures: Map<string, string>;
  let passed = false;
  try {
    for (const command of commandsOf(source)) {
      const ran = opts.explain === 'json' ? withExplain(command, 'json') : command;
      const { output, code } = await env.shell.run(ran, opts.commandTimeoutMs);
      // A lesson shows commands that work; one meant to fail says so itself (`...; echo "exit $?"`).
      if (code !== 0) throw new Error(`${source.file}: exit status ${code} from:\n  ${ran}\n${output}`);
      const r = { command, ran, output, shown: placeholders.apply(output, ran) };
      results.push(r);
      opts.progress?.(source, r);
    }
    pictures = takePictures(env, placeholders);
    // Each lesson starts where the last one left the machine: with images, but nothing running.
    const left = env.leftovers();
    if (left.length)
      throw new Error(
        `${source.file}: the lesson leaves behind ${left.join(', ')}: end it with tsrun delete / tsrun bundle --remove, and stop what it started in the background`,
      );
    passed = true;
  } finally {
    // A failed lesson may have left a server running in the background: stop it (the run ends
    // here anyway) before the lesson's cleanup takes away what the server made.
    if (!passed) await env.shell.close();
    await env.cleanup(source);
  }
  return { source, results, pictures };
}

/** Moves the lesson's pages out of $LESSONS/pictures (the next lesson starts without them). */
function takePictures(env: LessonEnv, placeholders: ReturnType<LessonEnv['placeholders']>): Map<string, string> {
  const dir = path.join(env.vars.LESSONS, 'pictures');
  const out = new Map<string, string>();
  if (!fs.existsSync(dir)) return out;
  // A placeholder (<pid-1>) is text in a page, not a tag.
  const escape = (html: string): string => html.replace(/<((?:pid|id|ino|mac|veth|if)-\d+|t|n|time|port|when)>/g, '&lt;$1&gt;');
  for (const f of fs.readdirSync(dir).sort()) if (f.endsWith('.html')) out.set(f, escape(placeholders.apply(fs.readFileSync(path.join(dir, f), 'utf8'))));
  fs.rmSync(dir, { recursive: true, force: true });
  return out;
}

/** Runs `sources` in order on one fresh environment (store, state root, shell), then removes it. */
export async function runLessons(registry: string, sources: LessonSource[], opts: RunOptions = {}): Promise<LessonResult[]> {
  // A lesson for another kind of machine runs there, on an environment of its own: started
  // first, it runs while the lessons here do (an emulated guest is slow).
  const inLane = new Map(sources.filter((s) => !opts.local && laneOf(s)).map((s) => [s, runInLane(s, opts.explain === 'json' ? 'json' : 'none')] as const));
  // Awaited in any case, so a failure here never leaves a guest running unwatched.
  const settled = Promise.allSettled(inLane.values());
  const env = new LessonEnv(registry);
  try {
    const out: LessonResult[] = [];
    for (const s of sources) {
      const lane = inLane.get(s);
      if (lane) {
        const r = await lane;
        for (const c of r.results) opts.progress?.(s, c);
        out.push(r);
      } else out.push(await runLesson(env, s, opts));
    }
    return out;
  } finally {
    await env.teardown();
    await settled;
  }
}
