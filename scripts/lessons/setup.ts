// What the lessons need around them: a local registry holding a small image, and for each run
// of the lessons a fresh state root, image store and working directory, cleaned up afterwards.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pristineBusyboxRootfs } from '../../test/fixtures/busybox';
import { OciLayout, push, tarOf, tarOfDir } from '../../test/fixtures/oci-builder';
import { startRegistry, type Registry } from '../../test/fixtures/registry';
import { CRI_TOOLS_BIN_DIR } from '../../test/helpers/cri-tools';
import { flock } from '../../src/sys/native';
import { Placeholders } from './placeholders';
import { Shell } from './shell';
import { cleanupOf, REPO_DIR, type LessonSource } from './source';

/** The image every lesson starts from, as $REGISTRY/<LESSON_IMAGE>. */
export const LESSON_IMAGE = 'lessons/hello:1.0';

/**
 * Three layers, built byte for byte the same every time (same digests): busybox; then /app and
 * /data; then a change to /app/greeting, a whiteout for /app/old.txt and an opaque /data.
 */
export async function buildLessonImage(dir: string): Promise<OciLayout> {
  const layout = new OciLayout(dir);
  const base = tarOfDir(pristineBusyboxRootfs(), { reproducible: true });
  const app = await tarOf([
    { name: 'app/', type: 'directory', mode: 0o755 },
    { name: 'app/greeting', body: 'hello from layer 2\n' },
    { name: 'app/old.txt', body: 'this file is removed by layer 3\n' },
    { name: 'data/', type: 'directory', mode: 0o755 },
    { name: 'data/a', body: 'a\n' },
    { name: 'data/b', body: 'b\n' },
  ]);
  const change = await tarOf([
    { name: 'app/', type: 'directory', mode: 0o755 },
    { name: 'app/greeting', body: 'hello from layer 3\n' },
    { name: 'app/.wh.old.txt', body: '' },
    { name: 'data/', type: 'directory', mode: 0o755 },
    { name: 'data/.wh..wh..opq', body: '' },
    { name: 'data/c', body: 'c\n' },
  ]);
  const config = { Cmd: ['sh'], Env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'], WorkingDir: '/app' };
  layout.tag('1.0', layout.image([base, app, change], config));
  return layout;
}

/** docker-registry on 127.0.0.1 with the lesson image pushed to it; stop() also removes its files. */
export async function startLessonRegistry(opts: { answerWithinMs?: number } = {}): Promise<Registry> {
  const started = await startRegistry('plain', opts);
  const reg: Registry = {
    ...started,
    stop: async () => {
      await started.stop();
      fs.rmSync(path.dirname(started.dataDir), { recursive: true, force: true });
    },
  };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-lessons-oci-'));
  try {
    await buildLessonImage(dir);
    push(dir, '1.0', `${reg.addr}/${LESSON_IMAGE}`);
  } catch (e) {
    await reg.stop();
    throw e;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return reg;
}

/**
 * The lessons use fixed container ids, and cgroups are named after ids machine-wide
 * (/tsrun/<id>): runs of the lessons (the generator, the test) take turns.
 */
export function withLessonLock<T>(fn: () => Promise<T>): Promise<T> {
  const fd = fs.openSync(path.join(os.tmpdir(), 'tsrun-lessons.lock'), 'a');
  flock(fd, true, true);
  return fn().finally(() => fs.closeSync(fd));
}

/** One learner's machine: a shell, its variables and the directories they name. */
export class LessonEnv {
  readonly vars: Record<'REGISTRY' | 'TSRUN_STORE' | 'TSRUN_ROOT' | 'LESSONS', string>;
  readonly shell: Shell;
  private readonly base: string;
  /** the shell's environment, for the cleanup's shell */
  private readonly env: Record<string, string>;

  constructor(registry: string) {
    this.base = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-lessons-'));
    fs.chmodSync(this.base, 0o755);
    this.vars = {
      REGISTRY: registry,
      TSRUN_STORE: path.join(this.base, 'store'),
      TSRUN_ROOT: path.join(this.base, 'root'),
      LESSONS: path.join(this.base, 'lessons'),
    };
    for (const d of ['lessons', 'out']) fs.mkdirSync(path.join(this.base, d));
    const env: Record<string, string> = {};
    for (const k of ['HOME', 'USER', 'TERM']) if (process.env[k]) env[k] = process.env[k]!;
    // This checkout's tsrun first, crictl where scripts/install-cri-tools.sh puts it; English
    // unless a command asks (--lang) and UTC times, whatever the caller's locale.
    Object.assign(
      env,
      { PATH: `${path.join(REPO_DIR, 'bin')}:${process.env['PATH'] ?? '/usr/bin:/bin'}:${CRI_TOOLS_BIN_DIR}`, LANG: 'C.UTF-8', TZ: 'UTC' },
      this.vars,
    );
    this.env = env;
    this.shell = new Shell(this.vars.LESSONS, env, path.join(this.base, 'out'));
  }

  /** Fresh numbering per lesson: <pid-1> is the first pid the lesson shows. */
  placeholders(): Placeholders {
    return new Placeholders(Object.fromEntries(Object.entries(this.vars).map(([k, v]) => [`$${k}`, v])));
  }

  /** Containers still in the state root, mounts under the working directory, background jobs. */
  leftovers(): string[] {
    const tsrun = path.join(REPO_DIR, 'bin', 'tsrun');
    const ids = execFileSync(tsrun, ['--root', this.vars.TSRUN_ROOT, 'list', '-q'], { encoding: 'utf8' }).split('\n').filter(Boolean);
    return [
      ...ids.map((id) => `container ${id}`),
      ...mountsUnder(this.base).map((m) => `mount ${m}`),
      ...this.shell.background().map((p) => `process ${p.pid} (${p.comm})`),
    ];
  }

  /**
   * Runs the lesson's cleanup blocks in a shell of their own (the lesson's may be stuck), with
   * the lesson's variables and directory. Best effort: what they print is not shown, and what
   * they miss the leftovers check or the teardown reports or removes.
   */
  async cleanup(source: LessonSource): Promise<void> {
    const scripts = cleanupOf(source);
    if (!scripts.length) return;
    const shell = new Shell(this.vars.LESSONS, this.env, path.join(this.base, 'out'), 'cleanup');
    try {
      for (const script of scripts) {
        const r = await shell.run(script).catch((e: Error) => ({ code: -1, output: e.message }));
        if (r.code !== 0) process.stderr.write(`${source.file}: cleanup exited ${r.code}: ${r.output}\n`);
      }
    } finally {
      await shell.close();
    }
  }

  /** Removes everything the lessons made, even after a failure. */
  async teardown(): Promise<void> {
    await this.shell.close();
    const tsrun = path.join(REPO_DIR, 'bin', 'tsrun');
    const ids = spawnSync(tsrun, ['--root', this.vars.TSRUN_ROOT, 'list', '-q'], { encoding: 'utf8' }).stdout?.split('\n').filter(Boolean) ?? [];
    for (const id of ids) spawnSync(tsrun, ['--root', this.vars.TSRUN_ROOT, 'delete', '--force', id], { stdio: 'ignore' });
    for (const m of mountsUnder(this.base).reverse()) spawnSync('umount', ['-l', m], { stdio: 'ignore' });
    fs.rmSync(this.base, { recursive: true, force: true });
  }
}

function mountsUnder(dir: string): string[] {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m.startsWith(dir + '/'));
}
