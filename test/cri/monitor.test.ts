// tsrun-monitor with real containers: the CRI log, exit records, attach, ctl.sock, a tty, a
// failed create, and a monitor that outlives the process that started it.
import test, { type ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RuntimeConfig } from '../../specs/oci/runtime-config';
import { TsrunError } from '../../src/common/errors';
import {
  attach,
  launchMonitor,
  readExit,
  reopenLog,
  resizeTty,
  signalInit,
  waitExit,
  type ExitRecord,
  type IoOptions,
  type StartedMonitor,
} from '../../src/cri/monitor';
import { OciRuntime } from '../../src/cri/oci-runtime';
import { makeBundle } from '../fixtures/busybox';
import { ROOT_DIR, leftovers, newRoot, status, tsrun, uniqueId, waitFor } from '../helpers/tsrun';

interface Launched {
  id: string;
  root: string;
  dir: string;
  logPath: string;
  pid: number;
  monitorPid: number;
}

// The content may hold anything but a newline (a tty's lines end in \r).
const RECORD = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z) (stdout|stderr) ([FP]) ([^\n]*)$/;

interface LogRecord {
  time: string;
  stream: string;
  tag: string;
  content: string;
}

function records(file: string): LogRecord[] {
  const text = fs.readFileSync(file, 'utf8');
  if (text === '') return [];
  if (!text.endsWith('\n')) throw new Error(`${file} does not end with a newline`);
  return text
    .slice(0, -1)
    .split('\n')
    .map((line) => {
      const m = RECORD.exec(line);
      if (!m) throw new Error(`not a CRI log record: ${JSON.stringify(line.slice(0, 120))}`);
      return { time: m[1]!, stream: m[2]!, tag: m[3]!, content: m[4]! };
    });
}

function isMonitor(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('tsrun-monitor');
  } catch {
    return false;
  }
}

/** Processes whose command line names `needle` (to find a monitor by its --dir). */
function processesNaming(needle: string): number[] {
  const found: number[] = [];
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').includes(needle)) found.push(Number(p));
    } catch {
      /* gone */
    }
  }
  return found;
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

const exitOf = (dir: string): Promise<ExitRecord> => within(waitExit(dir), 30_000, `exit.json in ${dir}`);

/** A fresh root, monitor dir and bundle; everything is removed when the test ends. */
function prepare(
  t: ExecutionContext,
  args: string[],
  edit?: (c: RuntimeConfig) => void,
): { id: string; root: string; dir: string; bundle: string; logPath: string } {
  const id = uniqueId('mon');
  const root = newRoot();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-mon-'));
  const bundle = makeBundle(args, edit);
  t.teardown(() => {
    tsrun(root, ['delete', '-f', id]);
    for (const pid of processesNaming(dir)) if (isMonitor(pid)) process.kill(pid, 'SIGKILL');
    for (const d of [root, dir, bundle]) fs.rmSync(d, { recursive: true, force: true });
  });
  return { id, root, dir, bundle, logPath: path.join(dir, 'container.log') };
}

/** As the CRI server creates a container: in-process, the init started by its monitor. */
function createMonitored(o: IoOptions & { bundle: string; runtimeRoot: string }): Promise<StartedMonitor> {
  return new OciRuntime(o.runtimeRoot).create(o.id, o.bundle, launchMonitor(o), o.tty ? path.join(o.dir, 'console.sock') : undefined);
}

async function launch(t: ExecutionContext, args: string[], opts: Partial<IoOptions> = {}, edit?: (c: RuntimeConfig) => void): Promise<Launched> {
  const p = prepare(t, args, edit);
  const m = await createMonitored({ id: p.id, bundle: p.bundle, runtimeRoot: p.root, dir: p.dir, logPath: p.logPath, ...opts });
  return { ...p, ...m };
}

function start(t: ExecutionContext, c: Launched): void {
  const r = tsrun(c.root, ['start', c.id]);
  t.is(r.code, 0, r.stderr);
}

test('stdout and stderr lines become CRI log records with nanosecond UTC timestamps; exit code 3 is recorded', async (t) => {
  const before = Date.now();
  const c = await launch(t, ['sh', '-c', 'echo out-1; echo err-1 >&2; echo out-2; echo; exit 3']);
  t.is(fs.readFileSync(`/proc/${c.pid}/comm`, 'utf8').trim(), 'tsrun:init', 'create is over, start is not');
  t.is(status(c.root, c.id), 'created');
  start(t, c);
  const exit = await exitOf(c.dir);
  const recs = records(c.logPath);
  t.deepEqual(
    recs.filter((r) => r.stream === 'stdout').map((r) => `${r.tag} ${r.content}`),
    ['F out-1', 'F out-2', 'F '],
  );
  t.deepEqual(
    recs.filter((r) => r.stream === 'stderr').map((r) => `${r.tag} ${r.content}`),
    ['F err-1'],
  );
  for (const r of recs) {
    const ms = Date.parse(r.time);
    t.true(ms >= before - 1000 && ms <= Date.now() + 1000, `timestamp ${r.time} lies within the test`);
  }
  t.like(exit, { pid: c.pid, exitCode: 3, signal: 0 });
  t.regex(exit.exitedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
  t.is(BigInt(exit.exitedAtNs) / 1_000_000n, BigInt(Date.parse(exit.exitedAt)), 'exitedAtNs is the same instant as exitedAt');
  t.deepEqual(readExit(c.dir), exit);
  t.true(await waitFor(() => !isMonitor(c.monitorPid)), 'the monitor exits after the container');
  t.false(fs.existsSync(path.join(c.dir, 'attach.sock')), 'its sockets are removed');
});

test('a 40 KiB line is split into P, P, F records of at most 16 KiB; an unfinished last line is a P record, as containerd tags it', async (t) => {
  const c = await launch(t, ['sh', '-c', "head -c 40960 /dev/zero | tr '\\000' a; echo; echo short; printf 'no newline at the end'"]);
  start(t, c);
  t.like(await exitOf(c.dir), { exitCode: 0 });
  const recs = records(c.logPath);
  t.deepEqual(
    recs.map((r) => `${r.stream} ${r.tag} ${r.content.length}`),
    ['stdout P 16384', 'stdout P 16384', 'stdout F 8192', 'stdout F 5', 'stdout P 21'],
  );
  t.is(
    recs
      .slice(0, 3)
      .map((r) => r.content)
      .join(''),
    'a'.repeat(40960),
  );
  t.is(recs[4]!.content, 'no newline at the end');
});

test('an idle container: the monitor stays small (RSS in the log); SIGKILL is recorded as 137, signal 9', async (t) => {
  const c = await launch(t, ['sleep', '1000']);
  start(t, c);
  t.true(isMonitor(c.monitorPid));
  const field = (file: string, name: string): string | undefined => new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(file, 'utf8'))?.[1];
  const rss = field(`/proc/${c.monitorPid}/status`, 'VmRSS');
  const anon = field(`/proc/${c.monitorPid}/status`, 'RssAnon');
  const pss = field(`/proc/${c.monitorPid}/smaps_rollup`, 'Pss');
  // VmRSS counts the shared libc pages it maps; RssAnon is what only this monitor uses.
  t.log(`tsrun-monitor watching an idle container: VmRSS ${rss} kB (RssAnon ${anon} kB, Pss ${pss} kB)`);
  t.truthy(rss);
  t.is(tsrun(c.root, ['kill', c.id, 'KILL']).code, 0);
  t.like(await exitOf(c.dir), { pid: c.pid, exitCode: 137, signal: 9 });
});

test('ctl.sock signal: the monitor gives its init the stop signal; after the exit, signal is refused', async (t) => {
  const c = await launch(t, ['sh', '-c', 'trap "exit 3" TERM; while true; do sleep 0.1; done']);
  start(t, c);
  await t.throwsAsync(signalInit(c.dir, 0), { message: /not a signal number/ });
  await signalInit(c.dir, 15);
  t.like(await exitOf(c.dir), { pid: c.pid, exitCode: 3 });
  // The monitor reaped its init: it answers "has exited" while it lingers, and is gone after.
  const late = await t.throwsAsync(signalInit(c.dir, 15));
  t.regex(late!.message, /has exited|ctl\.sock/);
});

test('the monitor and the exit record survive a kill -9 of the process that started the monitor', async (t) => {
  const p = prepare(t, ['sh', '-c', 'read line; echo "survived $line"; exit 5']);
  // A separate node process starts the monitor, prints the result, then waits to be killed.
  const o = { id: p.id, bundle: p.bundle, runtimeRoot: p.root, dir: p.dir, logPath: p.logPath, stdin: true };
  const script = `const { launchMonitor } = require(${JSON.stringify(path.join(ROOT_DIR, 'dist', 'src', 'cri', 'monitor'))});
    const { OciRuntime } = require(${JSON.stringify(path.join(ROOT_DIR, 'dist', 'src', 'cri', 'oci-runtime'))});
    const o = ${JSON.stringify(o)};
    new OciRuntime(o.runtimeRoot).create(o.id, o.bundle, launchMonitor(o))
    .then((r) => { require('fs').writeFileSync(${JSON.stringify(path.join(p.dir, 'started.json'))}, JSON.stringify(r)); setInterval(() => {}, 1000); },
          (e) => { require('fs').writeFileSync(${JSON.stringify(path.join(p.dir, 'started.json'))}, JSON.stringify({ error: e.message })); });`;
  const starter = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
  t.teardown(() => starter.kill('SIGKILL'));
  const startedFile = path.join(p.dir, 'started.json');
  t.true(await waitFor(() => fs.existsSync(startedFile), 30_000), 'the starter reports');
  const started = JSON.parse(fs.readFileSync(startedFile, 'utf8')) as { pid: number; monitorPid: number; error?: string };
  t.is(started.error, undefined);
  const c: Launched = { ...p, pid: started.pid, monitorPid: started.monitorPid };
  start(t, c);
  const gone = new Promise((r) => starter.once('exit', r));
  starter.kill('SIGKILL');
  await gone;
  t.true(isMonitor(c.monitorPid), 'the monitor lives on');
  t.is(status(c.root, c.id), 'running');
  const s = await attach(c.dir);
  s.writeStdin('after the kill\n');
  t.like(await exitOf(c.dir), { pid: c.pid, exitCode: 5, signal: 0 });
  t.is(await within(s.exited, 10_000, 'exit frame'), 5);
  t.deepEqual(
    records(c.logPath).map((r) => r.content),
    ['survived after the kill'],
  );
});

test('reopen: after the log is renamed away, new records go to a new file at the same path', async (t) => {
  const c = await launch(t, ['sh', '-c', 'echo before; read x; echo after'], { stdin: true });
  start(t, c);
  t.true(await waitFor(() => fs.existsSync(c.logPath) && fs.readFileSync(c.logPath, 'utf8').includes('before')));
  const rotated = `${c.logPath}.1`;
  fs.renameSync(c.logPath, rotated);
  await reopenLog(c.dir);
  t.true(fs.existsSync(c.logPath), 'reopen creates the file');
  await t.throwsAsync(resizeTty(c.dir, 24, 80), { instanceOf: TsrunError, message: /no terminal/ });
  const s = await attach(c.dir);
  s.writeStdin('go\n');
  await exitOf(c.dir);
  s.close();
  t.deepEqual(
    records(rotated).map((r) => r.content),
    ['before'],
  );
  t.deepEqual(
    records(c.logPath).map((r) => r.content),
    ['after'],
  );
});

test('attach: output reaches every client, stdin reaches cat; close stdin ends it and clients get the exit frame', async (t) => {
  const c = await launch(t, ['sh', '-c', 'cat; echo bye >&2'], { stdin: true });
  const a = await attach(c.dir);
  const b = await attach(c.dir);
  let outA = '';
  let outB = '';
  let errB = '';
  a.stdout.on('data', (d: Buffer) => (outA += d));
  b.stdout.on('data', (d: Buffer) => (outB += d));
  b.stderr.on('data', (d: Buffer) => (errB += d));
  start(t, c);
  a.writeStdin('ping\n');
  t.true(await waitFor(() => outA.includes('ping\n') && outB.includes('ping\n')), 'cat echoed to both clients');
  a.writeStdin(Buffer.from('pong\n'));
  t.true(await waitFor(() => outB.includes('pong\n')));
  a.closeStdin();
  t.is(await within(a.exited, 10_000, 'exit frame'), 0);
  t.is(await within(b.exited, 10_000, 'exit frame'), 0);
  t.is(outA, 'ping\npong\n');
  t.is(errB, 'bye\n');
  t.like(readExit(c.dir), { exitCode: 0 });
  t.deepEqual(
    records(c.logPath)
      .map((r) => `${r.stream} ${r.content}`)
      .sort(),
    ['stderr bye', 'stdout ping', 'stdout pong'],
  );
});

test('stdin the container is not reading yet waits (the sender is paused), in order and complete', async (t) => {
  // cat starts late: the pipe fills and the monitor must hold the rest without blocking.
  const c = await launch(t, ['sh', '-c', 'sleep 1; cat'], { stdin: true });
  start(t, c);
  const s = await attach(c.dir);
  let out = 0;
  s.stdout.on('data', (d: Buffer) => (out += d.length));
  const lines = Array.from({ length: 100000 }, (_, i) => `line-${String(i).padStart(6, '0')}\n`);
  for (let i = 0; i < lines.length; i += 1000) s.writeStdin(lines.slice(i, i + 1000).join(''));
  s.closeStdin();
  t.is(await within(s.exited, 30_000, 'exit frame'), 0);
  t.is(out, lines.join('').length, 'everything came back through cat');
  const recs = records(c.logPath);
  t.is(recs.length, lines.length);
  t.true(
    recs.every((r, i) => r.content === `line-${String(i).padStart(6, '0')}`),
    'in order',
  );
});

test('--stdin-once: stdin closes when the client that wrote to it disconnects', async (t) => {
  const c = await launch(t, ['sh', '-c', 'cat; echo stdin-closed'], { stdin: true, stdinOnce: true });
  start(t, c);
  const watcher = await attach(c.dir);
  let out = '';
  watcher.stdout.on('data', (d: Buffer) => (out += d));
  const writer = await attach(c.dir);
  writer.writeStdin('once\n');
  t.true(await waitFor(() => out.includes('once\n')));
  writer.close();
  t.is(await within(watcher.exited, 10_000, 'exit frame'), 0);
  t.is(out, 'once\nstdin-closed\n');
});

test.serial('a client that does not read is disconnected; the log still gets every line and the exit is recorded', async (t) => {
  // 3.7 MB in bursts of 92 KB: far more than a stalled client may lag (1 MiB). The client that
  // reads sets the pace (a line on stdin asks for the next burst), so however slowly this
  // process is scheduled, it never lags by more than one burst.
  const c = await launch(t, ['sh', '-c', 'for i in $(seq 40); do read x; yes 0123456789abcdefghijklmnopqrstuvwxyz | head -n 2500; done'], { stdin: true });
  const slow = await attach(c.dir); // never reads its stdout
  const reader = await attach(c.dir);
  let lines = 0;
  let asked = 1;
  reader.stdout.on('data', (d: Buffer) => {
    lines += d.toString().split('\n').length - 1;
    if (lines >= asked * 2500 && asked < 40) {
      asked++;
      reader.writeStdin('\n');
    }
  });
  start(t, c);
  reader.writeStdin('\n');
  t.like(await exitOf(c.dir), { exitCode: 0 });
  t.is(await within(reader.exited, 10_000, 'exit frame'), 0);
  let slowBytes = 0;
  slow.stdout.on('data', (d: Buffer) => (slowBytes += d.length)); // now it reads what it was sent
  t.is(await within(slow.exited, 10_000, 'the slow client sees its end'), undefined, 'dropped before the exit frame');
  t.true(slowBytes < 100000 * 37, `the slow client got only part of the output (${slowBytes} bytes)`);
  t.regex(fs.readFileSync(path.join(c.dir, 'monitor.log'), 'utf8'), /attach client too slow/);
  t.is(lines, 100000, 'a client that keeps up sees everything');
  const recs = records(c.logPath);
  t.is(recs.length, 100000);
  t.true(recs.every((r) => r.tag === 'F' && r.content === '0123456789abcdefghijklmnopqrstuvwxyz'));
});

test('a tty container whose monitor directory is too long for a socket address still gets its terminal', async (t) => {
  const p = prepare(t, ['sh', '-c', 'tty; echo tty-done'], (cfg) => (cfg.process!.terminal = true));
  const dir = path.join(p.dir, 'd'.repeat(60), 'e'.repeat(60));
  const m = await createMonitored({ id: p.id, bundle: p.bundle, runtimeRoot: p.root, dir, logPath: p.logPath, tty: true });
  t.true(Buffer.byteLength(path.join(dir, 'console.sock')) > 108);
  start(t, { ...p, ...m, dir });
  t.like(await exitOf(dir), { exitCode: 0 });
  const lines = records(p.logPath).map((r) => r.content.replace(/\r$/, ''));
  t.deepEqual(lines, ['/dev/pts/0', 'tty-done']);
});

test('a monitor directory too long for a socket address still serves attach and ctl.sock', async (t) => {
  const p = prepare(t, ['cat'], undefined);
  const dir = path.join(p.dir, 'd'.repeat(60), 'e'.repeat(60));
  const m = await createMonitored({ id: p.id, bundle: p.bundle, runtimeRoot: p.root, dir, logPath: p.logPath, stdin: true });
  t.true(Buffer.byteLength(path.join(dir, 'attach.sock')) > 108);
  start(t, { ...p, ...m, dir });
  const s = await attach(dir);
  let out = '';
  s.stdout.on('data', (d: Buffer) => (out += d));
  s.writeStdin('long path\n');
  t.true(await waitFor(() => out === 'long path\n'));
  await reopenLog(dir);
  s.closeStdin();
  t.is(await within(s.exited, 10_000, 'exit frame'), 0);
  t.like(readExit(dir), { pid: m.pid, exitCode: 0 });
});

test('a tty container: the pty output is logged as stdout; resize reaches the terminal; input goes through the pty', async (t) => {
  const c = await launch(t, ['sh', '-c', 'tty; read x; stty size; echo tty-done'], { tty: true, stdin: true }, (cfg) => (cfg.process!.terminal = true));
  start(t, c);
  t.true(await waitFor(() => fs.existsSync(c.logPath) && fs.readFileSync(c.logPath, 'utf8').includes('/dev/pts/0')));
  await resizeTty(c.dir, 33, 101);
  const s = await attach(c.dir);
  s.writeStdin('go\n');
  t.like(await exitOf(c.dir), { exitCode: 0 });
  s.close();
  const recs = records(c.logPath);
  t.true(recs.every((r) => r.stream === 'stdout'));
  const lines = recs.map((r) => r.content.replace(/\r$/, ''));
  t.true(lines.includes('/dev/pts/0'), lines.join('|'));
  t.true(lines.includes('33 101'), lines.join('|'));
  t.true(lines.includes('tty-done'), lines.join('|'));
});

test("a failed create rejects with the runtime's own message and leaves no monitor, container or log behind", async (t) => {
  const p = prepare(t, ['/no/such/program']);
  const e = await t.throwsAsync(createMonitored({ id: p.id, bundle: p.bundle, runtimeRoot: p.root, dir: p.dir, logPath: p.logPath }), {
    instanceOf: TsrunError,
  });
  t.regex(e!.message, /exec: \/no\/such\/program: No such file or directory/);
  t.deepEqual(processesNaming(p.dir), [], 'no monitor process');
  t.deepEqual(leftovers(p.root, p.id), []);
  t.false(fs.existsSync(p.logPath), 'no container log');
  t.false(fs.existsSync(path.join(p.dir, 'attach.sock')));
  await t.throwsAsync(attach(p.dir), { instanceOf: TsrunError, message: /no monitor is listening/ });
});
