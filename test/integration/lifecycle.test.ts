// create / start / state / kill / delete / list / ps / run, observed through the CLI.
import test from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { makeBundle } from '../fixtures/busybox';
import { leftovers, newRoot, status, tsrun, uniqueId, waitFor } from '../helpers/tsrun';

const root = newRoot();

test('create leaves the init waiting; start runs it; kill stops it; delete removes everything', async (t) => {
  const id = uniqueId('life');
  // pid 1 of a pid namespace ignores signals it has no handler for: trap TERM.
  const bundle = makeBundle(['sh', '-c', 'trap "exit 0" TERM; sleep 100 & wait']);
  const pidFile = path.join(os.tmpdir(), `${id}.pid`);
  const c = tsrun(root, ['create', '--bundle', bundle, '--pid-file', pidFile, id]);
  t.is(c.code, 0, c.stderr);
  const pidText = fs.readFileSync(pidFile, 'utf8');
  t.regex(pidText, /^\d+$/, 'pid file holds the number only, no newline');
  const st = JSON.parse(tsrun(root, ['state', id]).stdout);
  t.like(st, { id, status: 'created', pid: Number(pidText), bundle, ociVersion: '1.2.0' });
  t.is(fs.readFileSync(`/proc/${pidText}/comm`, 'utf8').trim(), 'tsrun:init', 'the init waits before execve');

  t.is(tsrun(root, ['start', id]).code, 0);
  t.is(status(root, id), 'running');
  t.true(await waitFor(() => fs.readFileSync(`/proc/${pidText}/comm`, 'utf8').trim() === 'sh'));
  t.regex(tsrun(root, ['start', id]).stderr, /cannot start container .*running/);

  const list = JSON.parse(tsrun(root, ['list', '--format', 'json']).stdout) as { id: string; status: string }[];
  t.deepEqual(list.find((s) => s.id === id)?.status, 'running');
  t.true(tsrun(root, ['list', '-q']).stdout.split('\n').includes(id));
  t.regex(tsrun(root, ['list']).stdout, new RegExp(`^ID +PID +STATUS +BUNDLE +CREATED +OWNER\\n(.*\\n)*${id} +${pidText} +running `, 'm'));
  // sh forks its sleep after its own exec: wait until the child runs sleep.
  const psJson = (): number[] => JSON.parse(tsrun(root, ['ps', '--format', 'json', id]).stdout) as number[];
  const comm = (p: number): string => {
    try {
      return fs.readFileSync(`/proc/${p}/comm`, 'utf8').trim();
    } catch {
      return ''; // gone meanwhile
    }
  };
  t.true(await waitFor(() => psJson().some((p) => p !== Number(pidText) && comm(p) === 'sleep'), 30_000), 'the sleep child runs');
  const pids = psJson();
  t.is(pids.length, 2, 'sh and its sleep');
  t.true(pids.includes(Number(pidText)));
  t.regex(tsrun(root, ['ps', id]).stdout, /PID[\s\S]*\n\S+\s+\d+\s.* sleep 100$/m, 'a row of its own for the sleep');

  t.regex(tsrun(root, ['delete', id]).stderr, /cannot delete container .* that is not stopped: running/);
  t.is(tsrun(root, ['kill', id, 'TERM']).code, 0);
  t.true(await waitFor(() => status(root, id) === 'stopped'), 'state says stopped after the process exits');
  t.is(JSON.parse(tsrun(root, ['state', id]).stdout).pid, 0);
  t.regex(tsrun(root, ['kill', id]).stderr, /not running/);
  t.is(tsrun(root, ['delete', id]).code, 0);
  t.deepEqual(leftovers(root, id), []);
  t.regex(tsrun(root, ['state', id]).stderr, /does not exist/);
});

test('a process that exits on its own makes the state stopped', async (t) => {
  const id = uniqueId('exit');
  t.is(tsrun(root, ['create', '-b', makeBundle(['true']), id]).code, 0);
  t.is(tsrun(root, ['start', id]).code, 0);
  t.true(await waitFor(() => status(root, id) === 'stopped'));
  t.is(tsrun(root, ['delete', id]).code, 0);
});

test('run returns the container exit status and deletes the container', (t) => {
  const id = uniqueId('run');
  const r = tsrun(root, ['run', '-b', makeBundle(['sh', '-c', 'echo out; echo err >&2; exit 7']), id]);
  t.is(r.code, 7);
  t.is(r.stdout, 'out\n');
  t.is(r.stderr, 'err\n');
  t.deepEqual(leftovers(root, id), []);
});

test('run reports death by signal as 128+N', (t) => {
  // Not pid 1 of a pid namespace: that one ignores signals it has no handler for.
  const bundle = makeBundle(['sh', '-c', 'kill -USR1 $$'], (c) => (c.linux!.namespaces = c.linux!.namespaces!.filter((n) => n.type !== 'pid')));
  const r = tsrun(root, ['run', '-b', bundle, uniqueId('sig')]);
  t.is(r.code, 128 + 10);
});

test('short form: tsrun run BUNDLE_DIR runs under a generated id', (t) => {
  const bundle = makeBundle(['echo', 'short form']);
  const r = tsrun(root, ['run', bundle + '/']);
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, 'short form\n');
});

test('run -d detaches; kill accepts SIG names and numbers; delete --force kills', async (t) => {
  for (const sig of ['SIGKILL', 'KILL', '9']) {
    const id = uniqueId('det');
    const r = tsrun(root, ['run', '-d', '-b', makeBundle(['sleep', '100']), id]);
    t.is(r.code, 0, r.stderr);
    t.is(status(root, id), 'running');
    t.is(tsrun(root, ['kill', id, sig]).code, 0);
    t.true(await waitFor(() => status(root, id) === 'stopped'), sig);
    t.is(tsrun(root, ['delete', id]).code, 0);
  }
  const id = uniqueId('force');
  tsrun(root, ['run', '-d', '-b', makeBundle(['sleep', '100']), id]);
  t.is(tsrun(root, ['delete', '--force', id]).code, 0);
  t.deepEqual(leftovers(root, id), []);
  t.is(tsrun(root, ['delete', '--force', 'never-existed']).code, 0, 'delete --force of an unknown id succeeds, as runc');
});

test('kill --all signals every process in the container', async (t) => {
  const id = uniqueId('all');
  tsrun(root, ['run', '-d', '-b', makeBundle(['sleep', '100']), id]);
  tsrun(root, ['exec', '-d', id, 'sleep', '200']);
  const pids = JSON.parse(tsrun(root, ['ps', '--format', 'json', id]).stdout) as number[];
  t.is(pids.length, 2);
  t.is(tsrun(root, ['kill', '--all', id, 'KILL']).code, 0);
  t.true(await waitFor(() => pids.every((p) => !fs.existsSync(`/proc/${p}`) || fs.readFileSync(`/proc/${p}/stat`, 'utf8').includes(') Z'))));
  tsrun(root, ['delete', '--force', id]);
});

test('usage errors: no id, unknown id, duplicate id, unknown verb, bad signal', (t) => {
  for (const verb of ['start', 'state', 'kill', 'delete', 'ps', 'exec']) {
    const r = tsrun(root, [verb]);
    t.is(r.code, 1, verb);
    t.regex(r.stderr, /requires a container id/, verb);
  }
  for (const verb of ['start', 'state', 'kill', 'delete', 'ps']) {
    const r = tsrun(root, [verb, 'no-such-container']);
    t.is(r.code, 1, verb);
    t.regex(r.stderr, /container no-such-container does not exist/, verb);
  }
  const id = uniqueId('dup');
  const bundle = makeBundle(['sleep', '100']);
  t.is(tsrun(root, ['create', '-b', bundle, id]).code, 0);
  const dup = tsrun(root, ['create', '-b', bundle, id]);
  t.is(dup.code, 1);
  t.regex(dup.stderr, /container with id .* already exists/);
  t.regex(tsrun(root, ['kill', id, 'SIGNOPE']).stderr, /unknown signal "SIGNOPE"/);
  t.is(tsrun(root, ['delete', '-f', id]).code, 0);
  t.regex(tsrun(root, ['frobnicate']).stderr, /no such command: frobnicate/);
  t.regex(tsrun(root, ['create', '-b', bundle, 'bad/id']).stderr, /invalid container id/);
  t.regex(tsrun(root, ['create', '--nope', 'x']).stderr, /flag provided but not defined: --nope/);
});

test('exec runs in the container, returns its status, honours --env --cwd --user', (t) => {
  const id = uniqueId('exec');
  tsrun(root, ['run', '-d', '-b', makeBundle(['sleep', '100']), id]);
  const r = tsrun(root, [
    'exec',
    '--env',
    'FOO=bar',
    '--cwd',
    '/tmp',
    '--user',
    '65534:65534',
    id,
    'sh',
    '-c',
    'echo $FOO $(pwd) $(id -u):$(id -g) $(hostname); exit 5',
  ]);
  t.is(r.code, 5, r.stderr);
  t.is(r.stdout, 'bar /tmp 65534:65534 tsrun\n');
  const ns = tsrun(root, ['exec', id, 'sh', '-c', 'readlink /proc/1/ns/pid; readlink /proc/self/ns/pid']);
  const [a, b] = ns.stdout.trim().split('\n');
  t.is(a, b, 'exec joins the container pid namespace');
  const missing = tsrun(root, ['exec', id, 'no-such-binary']);
  t.is(missing.code, 255, "exec's own failure, as runc's");
  t.regex(missing.stderr, /exec: "no-such-binary": executable file not found in \$PATH/);
  const procFile = path.join(os.tmpdir(), `${id}-process.json`);
  fs.writeFileSync(procFile, JSON.stringify({ user: { uid: 0, gid: 0 }, args: ['sh', '-c', 'echo from-process-json'], cwd: '/', env: ['PATH=/bin'] }));
  const pj = tsrun(root, ['exec', '-p', procFile, id]);
  t.is(pj.stdout, 'from-process-json\n', pj.stderr);
  fs.writeFileSync(procFile, JSON.stringify({ user: { uid: 0, gid: 0 }, args: 'sh', cwd: '/' }));
  t.regex(tsrun(root, ['exec', '-p', procFile, id]).stderr, /process\.json: args: .*expected array/);
  tsrun(root, ['delete', '-f', id]);
});

test('spec writes a runc-compatible default config; features and --version describe tsrun', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-spec-'));
  t.is(tsrun(root, ['spec', '--bundle', dir]).code, 0);
  const c = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
  t.is(c.root.path, 'rootfs');
  t.deepEqual(c.process.args, ['sh']);
  t.regex(tsrun(root, ['spec', '--bundle', dir]).stderr, /exists/);
  const f = JSON.parse(tsrun(root, ['features']).stdout);
  t.true(f.linux.namespaces.includes('cgroup'));
  t.regex(tsrun(root, ['--version']).stdout, /^tsrun version \d+\.\d+\.\d+\nspec: 1\.2\.0\n$/);
});
