// Errors that say what to do: the mistakes of someone new to a runtime, made on purpose. Each
// is refused with a message naming what is wrong and the command that does what was meant,
// exit status 1, and nothing left behind.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { makeBundle } from '../fixtures/busybox';
import { freePort } from '../fixtures/registry';
import { leftovers, newRoot, status, TSRUN, tsrun, uniqueId, waitFor } from '../helpers/tsrun';

const roots: string[] = [];
/** A state root per test: tests run at once, and each checks that it left no container. */
const freshRoot = (): string => {
  const r = newRoot();
  roots.push(r);
  return r;
};
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-errors-'));

/** tsrun with its working directory in `cwd`. */
const tsrunIn = (root: string, cwd: string, args: string[]): ReturnType<typeof tsrun> => tsrun(root, args, { cwd });

const containers = (root: string): string[] => fs.readdirSync(root);

test.after.always(() => {
  for (const root of roots) for (const id of containers(root)) tsrun(root, ['delete', '--force', id]);
  fs.rmSync(work, { recursive: true, force: true });
});

test('run ./ in a directory without config.json: how to make a bundle', (t) => {
  const root = freshRoot();
  const dir = fs.mkdtempSync(path.join(work, 'empty-'));
  const r = tsrunIn(root, dir, ['run', './']);
  t.is(r.code, 1);
  t.regex(
    r.stderr,
    /\.\/ has no config\.json; a bundle is a directory with config\.json and a root filesystem: make one from an image with `tsrun bundle IMAGE \.\/`.*put a root filesystem in rootfs and run `tsrun spec` in \.\//,
  );
  t.notRegex(r.stderr, /invalid container id/);
  t.deepEqual(fs.readdirSync(dir), [], 'nothing written in the directory');
  t.deepEqual(containers(root), []);
});

test('run ./bb/ echo hi: no config.json there; with one, the command belongs in the bundle', (t) => {
  const root = freshRoot();
  const dir = fs.mkdtempSync(path.join(work, 'bb-'));
  fs.mkdirSync(path.join(dir, 'bb'));
  const r = tsrunIn(root, dir, ['run', './bb/', 'echo', 'hi']);
  t.is(r.code, 1);
  t.regex(r.stderr, /\.\/bb\/ has no config\.json; .*`tsrun bundle IMAGE \.\/bb\/`.*bb\/rootfs and run `tsrun spec` in \.\/bb\//);
  fs.cpSync(makeBundle(['true']), path.join(dir, 'bb'), { recursive: true });
  const withConfig = tsrunIn(root, dir, ['run', './bb/', 'echo', 'hi']);
  t.is(withConfig.code, 1);
  t.regex(
    withConfig.stderr,
    /"run" takes one argument, not a command \("echo hi"\): the command is process\.args in the bundle's config\.json\. To run another one, make the bundle with it \(tsrun bundle IMAGE DIR -- echo hi\)/,
  );
  t.deepEqual(containers(root), []);
});

test('run mybundle (a bundle directory named where the id goes): says how to run it, and that works', (t) => {
  const root = freshRoot();
  const dir = fs.mkdtempSync(path.join(work, 'named-'));
  fs.cpSync(makeBundle(['sh', '-c', 'echo ran mybundle']), path.join(dir, 'mybundle'), { recursive: true });
  const r = tsrunIn(root, dir, ['run', 'mybundle']);
  t.is(r.code, 1);
  t.regex(
    r.stderr,
    /no config\.json in the current directory \(the bundle when -b is not given\), but \.\/mybundle holds one: run it with `tsrun run \.\/mybundle\/` \(a generated id\) or `tsrun run -b mybundle ID`/,
  );
  t.deepEqual(containers(root), []);
  const followed = tsrunIn(root, dir, ['run', './mybundle/']);
  t.is(followed.code, 0, followed.stderr);
  t.is(followed.stdout, 'ran mybundle\n');
  const create = tsrunIn(root, dir, ['create', 'mybundle']);
  t.is(create.code, 1);
  t.regex(create.stderr, /\.\/mybundle holds one: run it with `tsrun create -b mybundle ID`/);
  t.deepEqual(containers(root), []);
});

test('not root: the runtime says it needs root (or a rootless bundle) instead of a raw EACCES', (t) => {
  const bundle = makeBundle(['true']);
  fs.chmodSync(bundle, 0o755);
  const state = fs.mkdtempSync(path.join(work, 'root-only-')); // 0700, root's
  const asNobody = (args: string[]): { code: number; stderr: string } => {
    const r = spawnSync('setpriv', ['--reuid', '65534', '--regid', '65534', '--clear-groups', TSRUN, '--root', path.join(state, 'state'), ...args], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { code: r.status ?? -1, stderr: r.stderr };
  };
  const id = uniqueId('nobody');
  // A bundle without a user namespace cannot run rootless (issue 18): runc's words, and both ways out.
  const r = asNobody(['run', '-b', bundle, id]);
  t.is(r.code, 1);
  t.regex(
    r.stderr,
    /linux\.namespaces: rootless container requires user namespaces \(tsrun runs as uid 65534, not root: give the container a user namespace, as tsrun spec --rootless writes, or run tsrun as root\)/,
  );
  t.deepEqual(fs.readdirSync(state), []);
  t.deepEqual(leftovers(path.join(state, 'state'), id), []);
  // State it may not make: said with the ways out instead of a raw EACCES.
  const list = asNobody(['list']);
  t.is(list.code, 1);
  t.regex(
    list.stderr,
    /tsrun runs as uid 65534 \(rootless\) and may not use the state root .*\/state \(EACCES\): set XDG_RUNTIME_DIR \(the state then goes to \$XDG_RUNTIME_DIR\/tsrun, as runc's to \$XDG_RUNTIME_DIR\/runc\), give --root DIR, or run tsrun as root/,
  );
  // Elsewhere (the image store) the caller is told tsrun needs root, or a rootless bundle.
  const pull = spawnSync('setpriv', ['--reuid', '65534', '--regid', '65534', '--clear-groups', TSRUN, '--store', path.join(state, 'store'), 'images'], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  t.is(pull.status, 1);
  t.regex(
    pull.stderr,
    /tsrun images needs root: it makes namespaces, cgroups and mounts .* \(as an ordinary user only rootless containers run: a bundle from tsrun spec --rootless, state under \$XDG_RUNTIME_DIR\/tsrun\)\. Run it as root \(e\.g\. sudo tsrun images \.\.\.\)\. \(EACCES: permission denied/,
  );
});

test('an id in use: the error says what the container is doing and how to remove it', async (t) => {
  const root = freshRoot();
  const id = uniqueId('taken');
  t.is(tsrun(root, ['run', '-d', '-b', makeBundle(['sleep', '100']), id]).code, 0);
  t.true(await waitFor(() => status(root, id) === 'running'));
  const again = tsrun(root, ['run', '-d', '-b', makeBundle(['true']), id]);
  t.is(again.code, 1);
  t.regex(
    again.stderr,
    new RegExp(`container with id ${id} already exists: it is running: stop and remove it with \`tsrun delete --force ${id}\`, or choose another id`),
  );
  t.is(status(root, id), 'running', 'the container that had the id is untouched');
  const del = tsrun(root, ['delete', id]);
  t.regex(del.stderr, new RegExp(`that is not stopped: running; \`tsrun delete --force ${id}\` kills it first`));
  t.is(tsrun(root, ['delete', '--force', id]).code, 0);

  const kept = uniqueId('kept');
  t.is(tsrun(root, ['run', '--keep', '-b', makeBundle(['true']), kept]).code, 0);
  const create = tsrun(root, ['create', '-b', makeBundle(['true']), kept]);
  t.is(create.code, 1);
  t.regex(create.stderr, new RegExp(`already exists: it has stopped: remove it with \`tsrun delete ${kept}\`, or choose another id`));
  t.is(tsrun(root, ['delete', kept]).code, 0);
  t.deepEqual(leftovers(root, kept), []);
});

test('a container left in "creating" by a killed tsrun: every verb points at delete --force', (t) => {
  const root = freshRoot();
  const id = uniqueId('creating');
  const bundle = makeBundle(['sleep', '100']);
  // Killed right after the init joined its cgroup: the record says "creating", the init lives.
  const killed = spawnSync(TSRUN, ['--root', root, 'create', '-b', bundle, id], {
    stdio: 'ignore',
    timeout: 60_000,
    env: { ...process.env, TSRUN_FAILPOINT: 'cgroup_joined' },
  });
  t.is(killed.signal, 'SIGKILL');
  t.is(status(root, id), 'creating');
  const advice = new RegExp(`a create that did not finish \\(a killed tsrun\\) left it: remove it with \`tsrun delete --force ${id}\``);
  for (const args of [
    ['start', id],
    ['delete', id],
    ['kill', id],
    ['exec', id, 'true'],
  ]) {
    const r = tsrun(root, args);
    t.not(r.code, 0, args.join(' '));
    t.regex(r.stderr, advice, args.join(' '));
  }
  const again = tsrun(root, ['create', '-b', bundle, id]);
  t.regex(
    again.stderr,
    new RegExp(`already exists: it is left in "creating" by a create that did not finish \\(a killed tsrun\\): remove it with \`tsrun delete --force ${id}\``),
  );
  t.is(tsrun(root, ['delete', '--force', id]).code, 0);
  t.deepEqual(leftovers(root, id), []);
});

test('an unreachable registry: the error names it and the mirror config that would serve it', async (t) => {
  const root = freshRoot();
  const store = fs.mkdtempSync(path.join(work, 'store-'));
  const hosts = fs.mkdtempSync(path.join(work, 'hosts-'));
  const port = await freePort(); // nothing listens there
  const registry = `127.0.0.1:${port}`;
  const r = tsrun(root, ['--store', store, 'pull', '--hosts-dir', hosts, `${registry}/team/app:1.0`]);
  t.is(r.code, 1);
  const file = path.join(hosts, registry, 'hosts.toml').replace(/[.]/g, '\\.');
  t.regex(
    r.stderr,
    new RegExp(
      `cannot reach the registry ${registry} \\(http://${registry}: connect ECONNREFUSED [^)]*\\)\\. A mirror that serves ${registry} is configured in ${file}: a \\[host\\."http://MIRROR:PORT/v2/${registry}"\\] table with override_path = true`,
    ),
  );
  // A mirror that does not answer either is named too.
  const mirror = `127.0.0.1:${await freePort()}`;
  fs.mkdirSync(path.join(hosts, registry));
  fs.writeFileSync(path.join(hosts, registry, 'hosts.toml'), `[host."http://${mirror}/v2/${registry}"]\n  override_path = true\n`);
  const m = tsrun(root, ['--store', store, 'pull', '--hosts-dir', hosts, `${registry}/team/app:1.0`]);
  t.is(m.code, 1);
  t.regex(m.stderr, new RegExp(`http://${mirror}: connect ECONNREFUSED.*The mirrors configured in ${file} did not answer either`));
  const images = tsrun(root, ['--store', store, 'images', '--quiet']);
  t.is(images.stdout, '', 'nothing in the store');
  t.deepEqual(fs.existsSync(path.join(store, 'blobs')) ? fs.readdirSync(path.join(store, 'blobs', 'sha256')) : [], []);
});

test('tsrun spec writes an interactive sh on a terminal; run without a terminal on stdin warns that it waits for input', (t) => {
  const root = freshRoot();
  const dir = fs.mkdtempSync(path.join(work, 'spec-'));
  t.is(tsrunIn(root, dir, ['spec']).code, 0);
  const spec = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as { process: { terminal: boolean; args: string[] }; root: { path: string } };
  t.true(spec.process.terminal);
  t.deepEqual(spec.process.args, ['sh']);
  // That spec, on a rootfs: stdin is a pipe (a script, a CI job): the shell reads it, and tsrun says so first.
  const bundle = makeBundle(['sh'], (c) => (c.process!.terminal = true));
  const r = spawnSync(TSRUN, ['--root', root, 'run', '-b', bundle, uniqueId('sh')], {
    input: 'echo shell read this; exit 4\n',
    encoding: 'utf8',
    timeout: 60_000,
  });
  t.is(r.status, 4, r.stderr);
  t.regex(r.stdout, /shell read this/);
  t.regex(
    r.stderr,
    /warning: the process is `sh` with a terminal \(process\.terminal in config\.json, as `tsrun spec` writes it\): an interactive shell waiting for input, and stdin is not a terminal\. To run a command, set process\.args/,
  );
  // On a terminal (a pty from script(1)) there is nothing to warn about.
  const onTty = spawnSync('script', ['-qec', `${TSRUN} --root ${root} run -b ${bundle} ${uniqueId('tty')}`, '/dev/null'], {
    input: 'exit 5\n',
    encoding: 'utf8',
    timeout: 60_000,
  });
  t.is(onTty.status, 5, onTty.stdout);
  t.notRegex(onTty.stdout, /warning/);
  // A command (not an interactive shell) is not warned about either.
  const cmd = spawnSync(TSRUN, ['--root', root, 'run', '-b', makeBundle(['echo', 'hi'], (c) => (c.process!.terminal = true)), uniqueId('cmd')], {
    input: '',
    encoding: 'utf8',
    timeout: 60_000,
  });
  t.is(cmd.status, 0, cmd.stderr);
  t.notRegex(cmd.stderr, /warning/);
  t.deepEqual(containers(root), []);
});
