// The cgroup v2 device filter (an eBPF program built by the native addon), exercised on this
// host's cgroup2 mount: the kernel runs device programs of cgroup2 in hybrid mode too.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { attachDeviceFilter, type DeviceFilterRule } from '../../src/sys/native';
import { detectCgroupLayout } from '../../src/cgroups/detect';
import type { RuntimeConfig } from '../../specs/oci/runtime-config';
import { makeBundle } from '../fixtures/busybox';
import { newRoot, runToFiles, TSRUN, uniqueId } from '../helpers/tsrun';

type DeviceCgroup = NonNullable<NonNullable<NonNullable<RuntimeConfig['linux']>['resources']>['devices']>[number];

const unified = detectCgroupLayout().unified ?? '/sys/fs/cgroup';

/** Runs `script` with sh moved into a fresh cgroup that has `rules` attached. */
function underFilter(rules: DeviceFilterRule[], script: string): { code: number; err: string } {
  const dir = path.join(unified, `tsrun-devfilter-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
  fs.mkdirSync(dir);
  try {
    attachDeviceFilter(dir, rules);
    const r = spawnSync('sh', ['-c', `echo $$ > ${dir}/cgroup.procs && ${script}`], { encoding: 'utf8' });
    return { code: r.status ?? -1, err: r.stderr };
  } finally {
    for (let i = 0; i < 100; i++) {
      try {
        fs.rmdirSync(dir);
        break;
      } catch {
        spawnSync('sleep', ['0.02']);
      }
    }
  }
}

const rule = (allow: boolean, type: string, major: number, minor: number, access: string): DeviceFilterRule => ({ allow, type, major, minor, access });
const DENY_ALL = rule(false, 'a', -1, -1, 'rwm');

test('deny all, then allow: the later rule wins, matching type, numbers and access', (t) => {
  t.regex(underFilter([DENY_ALL], 'head -c1 /dev/zero > /dev/full').err, /Operation not permitted/);
  // /dev/full opens when allowed, then refuses the write itself: ENOSPC, not EPERM.
  t.regex(underFilter([DENY_ALL, rule(true, 'c', 1, 5, 'r'), rule(true, 'c', 1, 7, 'w')], 'head -c1 /dev/zero > /dev/full').err, /No space left on device/);
  t.regex(underFilter([DENY_ALL, rule(true, 'c', 1, 5, 'r')], 'echo x > /dev/zero').err, /Operation not permitted/, 'read-only access refuses a write');
  t.regex(underFilter([DENY_ALL, rule(true, 'c', 1, -1, 'rw')], 'head -c1 /dev/zero > /dev/full').err, /No space left on device/, 'a wildcard minor');
  t.regex(
    underFilter([rule(true, 'a', -1, -1, 'rwm'), rule(false, 'c', 1, 5, 'rwm')], 'head -c1 /dev/zero').err,
    /Operation not permitted/,
    'a later deny overrides an allow',
  );
});

test('an update replaces the program attached before', (t) => {
  const dir = path.join(unified, `tsrun-devfilter-repl-${process.pid}`);
  fs.mkdirSync(dir);
  try {
    attachDeviceFilter(dir, [DENY_ALL]);
    attachDeviceFilter(dir, [rule(true, 'a', -1, -1, 'rwm')]);
    const r = spawnSync('sh', ['-c', `echo $$ > ${dir}/cgroup.procs && head -c1 /dev/zero > /dev/null && echo ok`], { encoding: 'utf8' });
    t.is(r.stdout, 'ok\n', r.stderr);
  } finally {
    spawnSync('sleep', ['0.1']);
    fs.rmdirSync(dir);
  }
});

// The config's device rules reach the kernel as runc's devices emulator normalises them, on
// v1 (devices.allow/deny) and v2 (this program) alike; the same case runs on runc.
for (const [name, bin] of [
  ['runc', 'runc'],
  ['tsrun', TSRUN],
] as const) {
  test(`${name}: a redundant device rule with a stray access letter is merged; a deny cut into a wider allow is refused`, (t) => {
    const root = newRoot();
    const run = (extra: DeviceCgroup[], args: string[]) =>
      runToFiles(bin, ['--root', root, 'run', '--bundle', makeBundle(args, (c) => c.linux!.resources!.devices!.push(...extra)), uniqueId(`dev${name}`)]);
    const merged = run(
      [
        { allow: true, type: 'c', major: 1, access: 'rwm' },
        { allow: true, type: 'c', major: 1, minor: 11, access: 'rwa' },
      ],
      ['sh', '-c', 'head -c1 /dev/zero | wc -c'],
    );
    t.is(merged.code, 0, merged.stderr);
    t.is(merged.stdout.trim(), '1');
    const hole = run(
      [
        { allow: true, type: 'c', major: 1, access: 'rwm' },
        { allow: false, type: 'c', major: 1, minor: 5, access: 'r' },
      ],
      ['true'],
    );
    t.not(hole.code, 0);
    t.regex(hole.stderr, /hole/);
  });
}
