// OCI hooks: each at its point, in its namespaces, with the state on stdin.
import test from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { HookConfig, RuntimeConfig } from '../../specs/oci/runtime-config';
import { makeBundle } from '../fixtures/busybox';
import { leftovers, newRoot, status, tsrun, uniqueId, waitFor } from '../helpers/tsrun';

const root = newRoot();

/** A host script that appends "<phase> <mount ns> <state json>" to `log`. */
function recorder(dir: string, log: string): string {
  const script = path.join(dir, 'record.sh');
  fs.writeFileSync(script, `#!/bin/sh\nstate=$(cat)\necho "$1 $(readlink /proc/self/ns/mnt) $state" >> ${log}\n`, { mode: 0o755 });
  return script;
}

test('all six hook kinds run in order, with the state on stdin, in the right namespaces', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-hooks-'));
  const log = path.join(dir, 'log');
  const rec = recorder(dir, log);
  const hook = (phase: string): HookConfig[] => [{ path: rec, args: ['record.sh', phase] }];
  const id = uniqueId('hooks');
  const bundle = makeBundle(['true'], (c: RuntimeConfig) => {
    c.mounts!.push({ destination: dir, type: 'bind', source: dir, options: ['rbind'] });
    c.hooks = {
      createRuntime: hook('createRuntime'),
      prestart: hook('prestart'),
      createContainer: hook('createContainer'),
      // startContainer runs inside the container: use the container's sh and the bind-mounted dir.
      startContainer: [{ path: '/bin/sh', args: ['sh', rec, 'startContainer'] }],
      poststart: hook('poststart'),
      poststop: hook('poststop'),
    };
  });
  t.is(tsrun(root, ['create', '-b', bundle, id]).code, 0);
  t.is(tsrun(root, ['start', id]).code, 0);
  await waitFor(() => fs.readFileSync(log, 'utf8').split('\n').length >= 6);
  // delete without --force needs `true` to have exited.
  t.true(await waitFor(() => status(root, id) === 'stopped', 30_000));
  t.is(tsrun(root, ['delete', id]).code, 0);
  const lines = fs.readFileSync(log, 'utf8').trim().split('\n');
  const phases = lines.map((l) => l.split(' ')[0]);
  t.deepEqual(phases, ['createRuntime', 'prestart', 'createContainer', 'startContainer', 'poststart', 'poststop']);
  const hostMnt = fs.readlinkSync('/proc/self/ns/mnt');
  const ns = Object.fromEntries(lines.map((l) => [l.split(' ')[0], l.split(' ')[1]]));
  t.is(ns['createRuntime'], hostMnt, 'createRuntime: runtime namespace');
  t.not(ns['createContainer'], hostMnt, 'createContainer: container namespace');
  t.not(ns['startContainer'], hostMnt, 'startContainer: container namespace');
  t.is(ns['poststop'], hostMnt);
  const states = Object.fromEntries(lines.map((l) => [l.split(' ')[0], JSON.parse(l.split(' ').slice(2).join(' '))]));
  t.like(states['createRuntime'], { id, status: 'creating', bundle });
  t.true(states['createRuntime'].pid > 0);
  t.like(states['poststart'], { id, status: 'running' });
  t.like(states['poststop'], { id, status: 'stopped' });
});

test('a hook may exit without reading stdin', (t) => {
  const r = tsrun(root, [
    'run',
    '-b',
    makeBundle(['true'], (c) => (c.hooks = { createRuntime: [{ path: '/bin/true' }], createContainer: [{ path: '/bin/true' }] })),
    uniqueId('noread'),
  ]);
  t.is(r.code, 0, r.stderr);
});

test('a failing createRuntime hook aborts create and leaves nothing; a timeout is enforced', (t) => {
  for (const [hooks, msg] of [
    [{ createRuntime: [{ path: '/bin/false' }] }, /createRuntime hook \/bin\/false failed with exit status 1/],
    [{ prestart: [{ path: '/bin/sleep', args: ['sleep', '10'], timeout: 1 }] }, /prestart hook \/bin\/sleep ran past its timeout of 1s/],
    [{ createContainer: [{ path: '/bin/false' }] }, /createContainer hook \/bin\/false failed with exit status 1/],
    [{ createContainer: [{ path: '/bin/sleep', args: ['sleep', '10'], timeout: 1 }] }, /createContainer hook \/bin\/sleep ran past its timeout of 1s/],
  ] as const) {
    const id = uniqueId('hookfail');
    const r = tsrun(root, ['create', '-b', makeBundle(['true'], (c) => (c.hooks = hooks as unknown as RuntimeConfig['hooks'])), id]);
    t.is(r.code, 1);
    t.regex(r.stderr, msg);
    t.deepEqual(leftovers(root, id), []);
  }
});

test('poststart and poststop failures are warnings', (t) => {
  const r = tsrun(root, [
    'run',
    '-b',
    makeBundle(['true'], (c) => (c.hooks = { poststart: [{ path: '/bin/false' }], poststop: [{ path: '/bin/false' }] })),
    uniqueId('warn'),
  ]);
  t.is(r.code, 0);
  t.regex(r.stderr, /warning: poststart hook \/bin\/false failed/);
  t.regex(r.stderr, /warning: poststop hook \/bin\/false failed/);
});
