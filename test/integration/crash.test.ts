// Crash injection: `create`, `delete` and `exec` are killed (SIGKILL) at every step boundary of
// their event stream (TSRUN_FAILPOINT, not a guessed delay); whatever that leaves, `delete --force`
// then removes: no state dir, no cgroup, no live init. An exec killed half-way leaves the
// container working and none of its own processes behind.
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeBundle } from '../fixtures/busybox';
import { newRoot, TSRUN, tsrun, uniqueId } from '../helpers/tsrun';
import { until } from '../helpers/until';

const root = newRoot();
const bundle = makeBundle(['sleep', '100']);

/** The steps a verb emits, in order, each with its occurrence: "mount#3". */
function stepsOf(args: string[]): string[] {
  // Output to files, not pipes: a created container holds what it inherited (as with runc).
  const r = tsrun(root, args);
  if (r.code !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`);
  const seen = new Map<string, number>();
  return r.stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => {
      const kind = (JSON.parse(l) as { kind: string }).kind;
      seen.set(kind, (seen.get(kind) ?? 0) + 1);
      return `${kind}#${seen.get(kind)}`;
    });
}

function cgroupDirs(id: string): string[] {
  return fs
    .readdirSync('/sys/fs/cgroup')
    .map((h) => path.join('/sys/fs/cgroup', h, 'tsrun', id))
    .filter((d) => fs.existsSync(d));
}

function alive(pid: number): boolean {
  try {
    return pid > 0 && !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

function killedAt(failpoint: string, args: string[]): { status: number | null; signal: NodeJS.Signals | null } {
  const r = spawnSync(TSRUN, ['--root', root, ...args], { stdio: 'ignore', timeout: 60_000, env: { ...process.env, TSRUN_FAILPOINT: failpoint } });
  return { status: r.status, signal: r.signal };
}

/** delete --force cleans what the crash left. */
function assertCleaned(t: import('ava').ExecutionContext, id: string, at: string): void {
  let pid = 0;
  try {
    pid = (JSON.parse(fs.readFileSync(path.join(root, id, 'state.json'), 'utf8')) as { pid: number }).pid;
  } catch {
    /* killed before the record was written */
  }
  const d = tsrun(root, ['delete', '--force', id]);
  t.is(d.code, 0, `${at}: delete --force: ${d.stderr}`);
  t.false(fs.existsSync(path.join(root, id)), `${at}: the state dir is gone`);
  t.deepEqual(cgroupDirs(id), [], `${at}: no cgroup left`);
  t.false(alive(pid), `${at}: the init (pid ${pid}) is gone`);
}

test('create killed at every step boundary: delete --force leaves nothing', (t) => {
  const probe = uniqueId('probe');
  const steps = stepsOf(['create', '--explain=json', '-b', bundle, probe]);
  tsrun(root, ['delete', '--force', probe]);
  t.true(steps.length > 20, `the create emitted its steps: ${steps.join(' ')}`);
  for (const at of steps) {
    const id = uniqueId('crash');
    const r = killedAt(at, ['create', '-b', bundle, id]);
    t.is(r.signal, 'SIGKILL', `create killed at ${at}`);
    assertCleaned(t, id, at);
  }
});

test('delete killed at every step boundary: a second delete --force leaves nothing', (t) => {
  const probe = uniqueId('probe');
  t.is(tsrun(root, ['create', '-b', bundle, probe]).code, 0);
  const steps = stepsOf(['delete', '--explain=json', '--force', probe]);
  t.true(steps.length > 0, 'delete emits its steps');
  for (const at of steps) {
    const id = uniqueId('crashdel');
    t.is(tsrun(root, ['create', '-b', bundle, id]).code, 0);
    t.is(killedAt(at, ['delete', '--force', id]).signal, 'SIGKILL', `delete killed at ${at}`);
    assertCleaned(t, id, at);
  }
});

/** Live processes of a session (a killed tsrun's runtime stage, its exec'd process keep it). */
function sessionMembers(sid: number): number[] {
  const out: number[] = [];
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      // pid (comm) state ppid pgrp session ...; comm may hold spaces, so count from its ')'.
      const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(f[3]) === sid && f[0] !== 'Z') out.push(Number(p));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** tsrun in a session of its own (its pid is the session id), killed at `failpoint`. */
function killedInSession(failpoint: string, args: string[]): Promise<{ sid: number; signal: NodeJS.Signals | null }> {
  const p = spawn(TSRUN, ['--root', root, ...args], { stdio: 'ignore', detached: true, env: { ...process.env, TSRUN_FAILPOINT: failpoint } });
  return new Promise((resolve) => p.on('exit', (_c, signal) => resolve({ sid: p.pid!, signal })));
}

test('exec killed at every step boundary: the container still works, nothing of the exec is left, delete --force leaves nothing', async (t) => {
  const id = uniqueId('crashexec');
  t.is(tsrun(root, ['run', '-d', '-b', bundle, id]).code, 0);
  const steps = stepsOf(['exec', '--explain=json', id, 'true']);
  t.true(steps.length >= 8, `exec emits its steps: ${steps.join(' ')}`);
  for (const at of steps) {
    const r = await killedInSession(at, ['exec', id, 'sh', '-c', 'sleep 0.2']);
    t.is(r.signal, 'SIGKILL', `exec killed at ${at}`);
    // The runtime stage and the exec'd process end once the sync socket or the program closes.
    await until(`the processes of the exec killed at ${at} to end`, async () => (sessionMembers(r.sid).length === 0 ? true : undefined), 15_000);
    const again = tsrun(root, ['exec', id, 'echo', 'still-works']);
    t.is(again.stdout, 'still-works\n', `after ${at}: ${again.stderr}`);
    t.is(JSON.parse(tsrun(root, ['state', id]).stdout).status, 'running', `after ${at}`);
  }
  // A crash while the exec'd program still runs: delete --force takes it with the container.
  const r = await killedInSession('started', ['exec', id, 'sleep', '100']);
  t.is(r.signal, 'SIGKILL');
  t.true(sessionMembers(r.sid).length > 0, "the exec'd sleep outlives the killed exec");
  assertCleaned(t, id, 'exec killed after start');
  await until("the exec'd sleep to go with the container", async () => (sessionMembers(r.sid).length === 0 ? true : undefined), 15_000);
});
