// A lesson that needs another machine than this one: `<!-- lane: cgroup-v2 -->` in its source
// runs it inside the cgroup v2 lane's qemu guest (test/v2-lane/run.sh: a pure cgroup v2
// hierarchy, which this host's hybrid one is not). The guest sees the project read-write and
// the host's software read-only, but not the host's network: it starts a registry of its own.
// Host side: runInLane() boots the guest with this file as the command; guest side: main()
// runs the lesson as the generator would and writes the results as JSON into the project.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LessonResult, RunOptions } from './runner';
import { parseLesson, REPO_DIR, type LessonSource } from './source';

export type Lane = 'cgroup-v2';

/** The lane a lesson asks for, if any. */
export function laneOf(source: LessonSource): Lane | undefined {
  for (const s of source.segments) if (s.kind === 'prose' && /<!--\s*lane:\s*cgroup-v2\s*-->/.test(s.text)) return 'cgroup-v2';
  return undefined;
}

/** How a run rewrites commands, as data the guest can be given (a function cannot cross). */
export type Rewrite = 'none' | 'json';

interface Wire {
  results: LessonResult['results'];
  pictures: [string, string][];
}

let seq = 0;

/** Runs `source` in the lane's guest and resolves to what the lesson printed there. */
export function runInLane(source: LessonSource, rewrite: Rewrite): Promise<LessonResult> {
  const out = path.join(REPO_DIR, `.lesson-lane-${process.pid}-${++seq}.json`);
  fs.rmSync(out, { force: true });
  const child = spawn('bash', ['test/v2-lane/run.sh', '--timeout', '2400', '--', 'node', 'dist/scripts/lessons/lane.js', source.file, rewrite, out], {
    cwd: REPO_DIR,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const keep = (d: Buffer): void => {
    log = (log + d.toString('utf8')).slice(-20_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return new Promise<LessonResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      try {
        if (code !== 0 || !fs.existsSync(out)) throw new Error(`${source.file}: the cgroup v2 lane exited ${code ?? signal}:\n${log.slice(-6000)}`);
        const wire = JSON.parse(fs.readFileSync(out, 'utf8')) as Wire;
        resolve({ source, results: wire.results, pictures: new Map(wire.pictures) });
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)));
      } finally {
        fs.rmSync(out, { force: true });
      }
    });
  });
}

async function main(argv: string[]): Promise<number> {
  const [file, rewrite, out] = argv;
  if (!file || !out || (rewrite !== 'none' && rewrite !== 'json')) throw new Error('usage: lane.js SOURCE none|json OUT.json');
  const { runLessons } = require('./runner') as typeof import('./runner');
  const { startLessonRegistry } = require('./setup') as typeof import('./setup');
  // Only ever in the lane's guest, whose / is the host's under a tmpfs overlay: what is
  // removed here is removed from the guest's view alone.
  if (!fs.readFileSync('/proc/cmdline', 'utf8').includes('cgroup_no_v1=all'))
    throw new Error('lane.js runs inside the cgroup v2 lane (test/v2-lane/run.sh), not on this host');
  // skopeo's blob cache as the host last wrote it, seen through 9p, may be half a write: the
  // guest starts without it.
  fs.rmSync('/var/lib/containers/cache/blob-info-cache-v1.boltdb', { force: true });
  const source = parseLesson(path.join(REPO_DIR, file), fs.readFileSync(path.join(REPO_DIR, file), 'utf8'));
  // Emulated, and perhaps beside another guest: the registry may take minutes to answer.
  const registry = await startLessonRegistry({ answerWithinMs: 600_000 });
  try {
    const opts: RunOptions = { local: true, commandTimeoutMs: 600_000, ...(rewrite === 'json' ? { explain: 'json' as const } : {}) };
    const [r] = await runLessons(registry.addr, [source], opts);
    const wire: Wire = { results: r!.results, pictures: [...r!.pictures] };
    fs.writeFileSync(out, JSON.stringify(wire));
    return 0;
  } finally {
    await registry.stop();
  }
}

if (require.main === module)
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (e) => {
      process.stderr.write(`lessons lane: ${e instanceof Error ? e.stack : String(e)}\n`);
      process.exitCode = 1;
    },
  );
