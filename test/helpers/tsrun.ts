// Runs the tsrun CLI the way a user or a client does: a separate process, real exit codes.
import { spawn, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const ROOT_DIR = path.resolve(__dirname, '..', '..', '..');
export const TSRUN = path.join(ROOT_DIR, 'bin', 'tsrun');
export const BUILD = path.join(ROOT_DIR, 'build', 'Release');

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** A fresh --root per test file keeps parallel workers apart. */
export function newRoot(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-root-'));
}

let outSeq = 0;
/**
 * stdout/stderr go to files, not pipes: a detached container keeps the stdio it inherited
 * (as with runc), and a pipe would not reach EOF until the container exits.
 */
export function tsrun(root: string, args: string[], opts: SpawnSyncOptions = {}): Result {
  return runToFiles(TSRUN, ['--root', root, ...args], opts);
}

/** Runs `cmd` with stdout and stderr in files, as tsrun() does, and returns what it printed. */
export function runToFiles(cmd: string, args: string[], opts: SpawnSyncOptions = {}): Result {
  const base = path.join(os.tmpdir(), `tsrun-out-${process.pid}-${++outSeq}`);
  const out = fs.openSync(`${base}.out`, 'w+');
  const err = fs.openSync(`${base}.err`, 'w+');
  try {
    const r = spawnSync(cmd, args, { timeout: 60_000, stdio: ['ignore', out, err], ...opts });
    return { code: r.status ?? -1, stdout: fs.readFileSync(`${base}.out`, 'utf8'), stderr: fs.readFileSync(`${base}.err`, 'utf8') };
  } finally {
    fs.closeSync(out);
    fs.closeSync(err);
    fs.rmSync(`${base}.out`, { force: true });
    fs.rmSync(`${base}.err`, { force: true });
  }
}

/** Async form, for runs that overlap with other work; stdout/stderr go to files as in tsrun(). */
export function tsrunAsync(root: string, args: string[]): Promise<Result> {
  const base = path.join(os.tmpdir(), `tsrun-out-${process.pid}-${++outSeq}`);
  const out = fs.openSync(`${base}.out`, 'w+');
  const err = fs.openSync(`${base}.err`, 'w+');
  return new Promise((resolve) => {
    const p = spawn(TSRUN, ['--root', root, ...args], { stdio: ['ignore', out, err] });
    p.on('exit', (code) => {
      fs.closeSync(out);
      fs.closeSync(err);
      resolve({ code: code ?? -1, stdout: fs.readFileSync(`${base}.out`, 'utf8'), stderr: fs.readFileSync(`${base}.err`, 'utf8') });
      fs.rmSync(`${base}.out`, { force: true });
      fs.rmSync(`${base}.err`, { force: true });
    });
  });
}

let seq = 0;
export function uniqueId(prefix: string): string {
  return `${prefix}-${process.pid}-${++seq}`;
}

export async function waitFor(cond: () => boolean, ms = 30_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return cond();
}

export function status(root: string, id: string): string {
  const r = tsrun(root, ['state', id]);
  return r.code === 0 ? (JSON.parse(r.stdout) as { status: string }).status : `error: ${r.stderr.trim()}`;
}

/** What a failed create may leave behind: state dir, cgroup dirs, mounts of the bundle. */
export function leftovers(root: string, id: string): string[] {
  const found: string[] = [];
  if (fs.existsSync(path.join(root, id))) found.push(path.join(root, id));
  for (const h of fs.readdirSync('/sys/fs/cgroup')) {
    const d = path.join('/sys/fs/cgroup', h, 'tsrun', id);
    if (fs.existsSync(d)) found.push(d);
  }
  const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  if (mounts.includes(id)) found.push(`a mount naming ${id}`);
  return found;
}
