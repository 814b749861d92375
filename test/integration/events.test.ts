// The step events (the teaching trace) and the truthfulness of `state` while creating.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseMountinfo } from '../../src/cgroups/detect';
import { makeBundle } from '../fixtures/busybox';
import { newRoot, TSRUN, tsrun, tsrunAsync, uniqueId } from '../helpers/tsrun';

const root = newRoot();

test('--debug --log-format json records every step, in order, with its timing', (t) => {
  const log = path.join(os.tmpdir(), `${uniqueId('ev')}.json`);
  const id = uniqueId('ev');
  const r = tsrun(root, ['--debug', '--log-format', 'json', '--log', log, 'run', '-b', makeBundle(['true'], (c) => (c.hostname = 'evbox')), id]);
  t.is(r.code, 0, r.stderr);
  const steps = fs
    .readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { level: string; step?: { kind: string; detail: string; durationUs: number; containerId: string } })
    .filter((l) => l.step)
    .map((l) => l.step!);
  const kinds = steps.map((s) => s.kind);
  const order = [
    'config_loaded',
    'state_reserved',
    'cgroup_created',
    'clone',
    'init_spawned',
    'cgroup_joined',
    'rootfs',
    'mount',
    'device',
    'pivot_root',
    'hostname',
    'cap_bounding',
    'user',
    'capabilities',
    'created',
    'started',
    'deleted',
  ];
  let last = -1;
  for (const k of order) {
    const i = kinds.indexOf(k, last + 1);
    t.true(i > last, `${k} after the previous steps (got ${kinds.join(',')})`);
    last = i;
  }
  t.true(steps.every((s) => typeof s.durationUs === 'number' && s.containerId === id));
  t.true(steps.some((s) => s.kind === 'mount' && s.detail === 'proc proc -> /proc'));
  t.true(steps.some((s) => s.kind === 'hostname' && s.detail === 'evbox'));
  t.regex(steps.find((s) => s.kind === 'clone')!.detail, /new namespaces: mount cgroup uts ipc pid network/);
});

test('without --debug nothing is traced', (t) => {
  const log = path.join(os.tmpdir(), `${uniqueId('quiet')}.json`);
  t.is(tsrun(root, ['--log-format', 'json', '--log', log, 'run', '-b', makeBundle(['true']), uniqueId('q')]).code, 0);
  t.is(fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '', '');
});

test('state says "creating" while create is under way (seen from a createRuntime hook)', (t) => {
  const out = path.join(os.tmpdir(), `${uniqueId('creating')}.state`);
  const hook = path.join(os.tmpdir(), `${uniqueId('hook')}.sh`);
  const id = uniqueId('creating');
  fs.writeFileSync(hook, `#!/bin/sh\n${TSRUN} --root ${root} state ${id} > ${out}\n`, { mode: 0o755 });
  t.is(tsrun(root, ['run', '-b', makeBundle(['true'], (c) => (c.hooks = { createRuntime: [{ path: hook }] })), id]).code, 0);
  t.is(JSON.parse(fs.readFileSync(out, 'utf8')).status, 'creating');
});

test('concurrent creates of one id: exactly one wins, the other is told the id exists', async (t) => {
  const id = uniqueId('race');
  const bundle = makeBundle(['sleep', '100']);
  const results = await Promise.all([0, 1, 2].map(() => tsrunAsync(root, ['create', '-b', bundle, id])));
  t.is(results.filter((r) => r.code === 0).length, 1);
  for (const r of results.filter((x) => x.code !== 0)) t.regex(r.stderr, /already exists/);
  t.is(tsrun(root, ['delete', '-f', id]).code, 0);
});

test('--explain narrates exactly the steps the runtime emitted, in order, in both languages', (t) => {
  const bundle = makeBundle(['true']);
  const json = tsrun(root, ['run', '--explain=json', '-b', bundle, uniqueId('xj')]);
  t.is(json.code, 0, json.stderr);
  const kinds = json.stderr
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { kind: string }).kind);
  t.true(kinds.includes('pivot_root') && kinds.includes('capabilities'));
  const { CATALOGS } = require('../../src/events/narrate') as typeof import('../../src/events/narrate');
  for (const lang of ['en', 'ja'] as const) {
    const r = tsrun(root, ['run', '--explain', '--lang', lang, '-b', bundle, uniqueId('xt')]);
    t.is(r.code, 0, r.stderr);
    const titles = r.stderr
      .split('\n')
      .filter((l) => l.startsWith('['))
      .map((l) => l.replace(/^\[[^\]]*\] /, '').split(': ')[0]);
    t.deepEqual(
      titles,
      kinds.map((k) => CATALOGS[lang][k as keyof typeof CATALOGS.en].title),
      lang,
    );
  }
});

test('inspect shows the container from the kernel side: namespaces, cgroup, capabilities, mounts', (t) => {
  const id = uniqueId('insp');
  const bundle = makeBundle(['sleep', '100'], (c) => {
    c.linux!.resources = { memory: { limit: 64 * 1024 * 1024 }, pids: { limit: 50 } };
    c.linux!.namespaces = c.linux!.namespaces!.filter((n) => n.type !== 'network');
  });
  t.is(tsrun(root, ['run', '-d', '-b', bundle, id]).code, 0);
  const i = JSON.parse(tsrun(root, ['inspect', '--format', 'json', id]).stdout);
  const ns = Object.fromEntries(i.namespaces.map((n: { type: string; shared: boolean }) => [n.type, n.shared]));
  t.like(ns, { pid: false, mount: false, uts: false, network: true, user: true });
  t.is(i.cgroup.memory.limit, 64 * 1024 * 1024);
  t.is(i.cgroup.pids.limit, 50);
  t.deepEqual(i.capabilities.bounding, ['CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_AUDIT_WRITE']);
  t.true(i.noNewPrivs);
  t.true(i.mounts.some((m: { target: string; fstype: string }) => m.target === '/proc' && m.fstype === 'proc'));
  const text = tsrun(root, ['inspect', '--explain', '--lang', 'en', id]).stdout;
  t.regex(text, /network +net:\[\d+\] +net:\[\d+\] +shared with the host/);
  t.regex(text, /# Each namespace is a kernel object/);
  tsrun(root, ['delete', '-f', id]);
});

test('--explain tells each idea once (not under every mount), ends with "exited, status N", and names the host\'s cgroup files', (t) => {
  const bundle = makeBundle(['sh', '-c', 'exit 3'], (c) => {
    c.linux!.resources = { memory: { limit: 64 * 1024 * 1024 }, pids: { limit: 50 } };
  });
  const v1 = parseMountinfo(fs.readFileSync('/proc/self/mountinfo', 'utf8')).mode !== 'v2';
  const { CATALOGS, detailIn } = require('../../src/events/narrate') as typeof import('../../src/events/narrate');
  for (const lang of ['en', 'ja'] as const) {
    const r = tsrun(root, ['run', '--explain', '--lang', lang, '-b', bundle, uniqueId('once')]);
    t.is(r.code, 3, r.stderr);
    const lines = r.stderr.trimEnd().split('\n');
    const steps = lines.filter((l) => l.startsWith('['));
    t.true(steps.filter((l) => l.includes(`] ${CATALOGS[lang].mount.title}: `)).length > 5, 'many mounts');
    // Every explanation line is there once: the first mount has it, the others only their step.
    const explanations = lines.filter((l) => !l.startsWith('['));
    t.is(new Set(explanations).size, explanations.length, explanations.join('\n'));
    t.is(explanations.filter((l) => l.trim() === CATALOGS[lang].mount.explain).length, 1);
    // The container's exit, then its deletion.
    const exited = steps.findIndex((l) => l.endsWith(`] ${CATALOGS[lang].exited.title}: ${detailIn({ kind: 'exited', detail: 'status 3' }, lang)}`));
    t.true(exited > 0, steps.join('\n'));
    t.regex(steps[exited + 1]!, new RegExp(`\\] ${CATALOGS[lang].deleted.title}: `));
    // The limits step says the files this host has: memory.limit_in_bytes on v1 (or hybrid), memory.max on v2.
    const limits = CATALOGS[lang].cgroup_limits;
    t.true(
      explanations.some((l) => l.trim() === (v1 ? limits.explainCgroupV1 : limits.explain)),
      explanations.join('\n'),
    );
    t.regex(r.stderr, v1 ? /memory\.limit_in_bytes=67108864/ : /memory\.max=67108864/);
    if (v1) t.false(r.stderr.includes('memory.max'), 'no v2 file names on a v1 host');
  }
});

test('inspect: sizes in binary units (exact bytes in --format json), mount options per mount, masked paths shown as masked', (t) => {
  const id = uniqueId('units');
  const bundle = makeBundle(['sleep', '100'], (c) => {
    c.linux!.resources = { memory: { limit: 96 * 1024 * 1024 } };
  });
  t.is(tsrun(root, ['run', '-d', '-b', bundle, id]).code, 0);
  const text = tsrun(root, ['inspect', id]).stdout;
  t.regex(text, /\n {2}memory {2}[\d.]+ (B|KiB|MiB) used, limit 96\.0 MiB\n/);
  t.notRegex(text, /bytes used/);
  const i = JSON.parse(tsrun(root, ['inspect', '--format', 'json', id]).stdout) as {
    cgroup: { memory: { limit: number; usage: number } };
    mounts: { target: string; fstype: string; options: string; superOptions: string; masked?: string }[];
  };
  t.is(i.cgroup.memory.limit, 96 * 1024 * 1024);
  t.true(Number.isInteger(i.cgroup.memory.usage) && i.cgroup.memory.usage > 0);
  // As /proc/PID/mountinfo has them: the mount's options apart from its filesystem's.
  const mountinfo = fs
    .readFileSync(`/proc/${JSON.parse(tsrun(root, ['state', id]).stdout).pid}/mountinfo`, 'utf8')
    .trim()
    .split('\n');
  const dev = i.mounts.find((m) => m.target === '/dev')!;
  const devLine = mountinfo.find((l) => l.split(' ')[4] === '/dev')!;
  t.is(dev.options, devLine.split(' ')[5]);
  t.is(dev.superOptions, devLine.split(' - ')[1]!.split(' ')[2]);
  t.regex(text, /\n {2}\/dev +tmpfs +rw,nosuid {2}\(tmpfs: rw,[^)]*size=65536k[^)]*\)\n/);
  // The default spec masks /proc/keys (a file) and /sys/firmware (a directory).
  t.is(i.mounts.find((m) => m.target === '/proc/keys')?.masked, 'file');
  t.is(i.mounts.find((m) => m.target === '/sys/firmware')?.masked, 'directory');
  t.regex(text, /\n {2}\/proc\/keys +masked +\/dev\/null bound over the file\n/);
  t.regex(text, /\n {2}\/sys\/firmware +masked +an empty read-only tmpfs over the directory\n/);
  const ja = tsrun(root, ['inspect', '--explain', '--lang', 'ja', id]).stdout;
  t.regex(ja, /# コンテナ自身のマウント名前空間のマウントテーブルです/);
  tsrun(root, ['delete', '-f', id]);
});

// A reader that stops early closes the pipe under tsrun's narration: the run still completes,
// with the container's status, and leaves nothing behind (no record in "creating", no cgroup).
for (const flag of ['--explain', '--debug']) {
  test(`${flag} into a pipe that closes early (| head -2) aborts nothing: the run completes and cleans up`, (t) => {
    const id = uniqueId('pipe');
    const bundle = makeBundle(['sh', '-c', 'sleep 0.3; exit 3']);
    const global = flag === '--debug' ? '--debug' : '';
    const verbFlag = flag === '--explain' ? '--explain' : '';
    const r = spawnSync(
      'bash',
      ['-c', `${TSRUN} --root ${root} ${global} run ${verbFlag} -b ${bundle} ${id} 2>&1 | head -2 >/dev/null; echo "status=\${PIPESTATUS[0]}"`],
      { encoding: 'utf8', timeout: 60_000 },
    );
    t.is(r.stdout.trim(), 'status=3', r.stderr);
    t.is(tsrun(root, ['state', id]).code, 1, 'the container was deleted');
    t.false(fs.existsSync(path.join(root, id)));
    for (const hier of fs.readdirSync('/sys/fs/cgroup')) t.false(fs.existsSync(path.join('/sys/fs/cgroup', hier, 'tsrun', id)), `no cgroup left in ${hier}`);
  });
}
