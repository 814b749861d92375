import test from 'ava';
import { hostHasController, parseMountinfo } from '../../src/cgroups/detect';
import { cgroupPathFor, newCgroupManager } from '../../src/cgroups/manager';

const HYBRID = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw`;
const V2 = '30 23 0:27 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate';

test('layouts are told apart from mountinfo', (t) => {
  const h = parseMountinfo(HYBRID);
  t.is(h.mode, 'hybrid');
  t.deepEqual(
    h.v1.map((x) => x.controllers),
    [['cpu', 'cpuacct'], ['memory'], ['name=systemd']],
  );
  t.is(h.unified, '/sys/fs/cgroup/unified');
  t.is(parseMountinfo(V2).mode, 'v2');
  t.is(parseMountinfo(HYBRID.split('\n').slice(0, 3).join('\n')).mode, 'v1');
});

test('a mount over a cgroup mount hides it: a tmpfs over the hybrid cgroup2 makes the host v1', (t) => {
  const covered = parseMountinfo(`${HYBRID}\n90 41 0:99 / /sys/fs/cgroup/unified rw,relatime - tmpfs none rw`);
  t.is(covered.mode, 'v1');
  t.is(covered.unified, undefined);
  t.is(covered.v1.length, 3);
  t.deepEqual(parseMountinfo(`${HYBRID}\n91 23 0:98 / /sys/fs/cgroup rw - tmpfs none rw`).v1, [], 'a mount over /sys/fs/cgroup hides every hierarchy under it');
});

test('a v1 controller is on the host when a hierarchy carries it', (t) => {
  t.true(hostHasController('cpuacct', parseMountinfo(HYBRID)));
  t.true(hostHasController('memory', parseMountinfo(HYBRID)));
  t.false(hostHasController('hugetlb', parseMountinfo(HYBRID)));
});

test('cgroup paths: default under /tsrun, relative ones anchored at the root', (t) => {
  t.is(cgroupPathFor('abc', undefined), '/tsrun/abc');
  t.is(cgroupPathFor('abc', 'pods/abc'), '/pods/abc');
  t.is(cgroupPathFor('abc', '/kubepods/x'), '/kubepods/x');
});

test('v1 manager has a directory per hierarchy; v2 one in the unified tree', (t) => {
  const v1 = newCgroupManager('c', '/a/c', { layout: parseMountinfo(HYBRID) });
  t.deepEqual(v1.state.dirs, {
    'cpu,cpuacct': '/sys/fs/cgroup/cpu,cpuacct/a/c',
    memory: '/sys/fs/cgroup/memory/a/c',
    'name=systemd': '/sys/fs/cgroup/systemd/a/c',
    unified: '/sys/fs/cgroup/unified/a/c',
  });
  t.deepEqual(newCgroupManager('c', '/a/c', { layout: parseMountinfo(V2) }).state.dirs, { unified: '/sys/fs/cgroup/a/c' });
  t.throws(() => newCgroupManager('c', '/', { layout: parseMountinfo(V2) }), { message: /root cgroup/ });
});

import { blkioWeightToIoWeight, sharesToWeight, swapToV2 } from '../../src/cgroups/convert';
import { ruleText } from '../../src/cgroups/device-rules';

test('v1 -> v2 conversions match runc', (t) => {
  t.is(sharesToWeight(2), 1);
  t.is(sharesToWeight(1024), 39);
  t.is(sharesToWeight(262144), 10000);
  t.is(blkioWeightToIoWeight(10), 1);
  t.is(blkioWeightToIoWeight(1000), 10000);
  t.is(swapToV2(-1, 100), 'max');
  t.is(swapToV2(300, 100), '200');
  t.throws(() => swapToV2(50, 100), { message: /must be at least memory\.limit/ });
});

test('device rules in the v1 file format', (t) => {
  t.is(ruleText({ allow: false, access: 'rwm' }), 'a');
  t.is(ruleText({ allow: true, type: 'c', major: 1, minor: 3, access: 'rw' }), 'c 1:3 rw');
  t.is(ruleText({ allow: true, type: 'b', major: null, minor: -1 }), 'b *:* rwm');
});

import { DeviceEmulator } from '../../src/cgroups/device-emulator';
import { parseSubCgroupArgs, subCgroupDirs } from '../../src/cgroups/sub-cgroups';

const texts = (rules: { allow: boolean }[]): string[] => rules.map((r) => `${r.allow ? 'allow' : 'deny'} ${ruleText(r)}`);

test("device emulator: rules merge, stray letters drop, and only what changes is written (as runc's)", (t) => {
  const target = DeviceEmulator.fromRules([
    { allow: false, access: 'rwm' },
    { allow: true, type: 'c', major: 1, minor: -1, access: 'rwm' },
    { allow: true, type: 'c', major: 1, minor: 11, access: 'rwa' },
    { allow: true, type: 'c', major: 1, minor: 11, access: 'r' },
  ]);
  // A new v1 cgroup allows everything ("a *:* rwm"): reset with "a", then the exceptions.
  t.deepEqual(texts(DeviceEmulator.fromList('a *:* rwm\n').transition(target)), ['deny a', 'allow c 1:* rwm', 'allow c 1:11 rw']);
  // Already in that state: nothing to write (no "a", which v1 refuses once a cgroup has children).
  t.deepEqual(DeviceEmulator.fromList('c 1:* rwm\nc 1:11 rw\n').transition(target), []);
  // One permission less: only that is taken away.
  t.deepEqual(texts(DeviceEmulator.fromList('c 1:* rwm\nc 1:11 rwm\nc 5:0 rwm\n').transition(target)), ['deny c 1:11 m', 'deny c 5:0 rwm']);
  // v2 gets the same state as rules from "deny everything".
  t.deepEqual(texts(target.rules()), ['allow c 1:* rwm', 'allow c 1:11 rw']);
  t.deepEqual(
    texts(
      DeviceEmulator.fromRules([
        { allow: true, access: 'rwm' },
        { allow: false, type: 'b', major: 8, minor: 0, access: 'w' },
      ]).rules(),
    ),
    ['allow a', 'deny b 8:0 w'],
  );
});

test('device emulator: a deny inside a wider allow is refused, as cgroup v1 would ignore it', (t) => {
  t.throws(
    () =>
      DeviceEmulator.fromRules([
        { allow: false, access: 'rwm' },
        { allow: true, type: 'c', major: 1, minor: -1, access: 'rwm' },
        { allow: false, type: 'c', major: 1, minor: 3, access: 'w' },
      ]),
    {
      message: /devices\[2\]: "c 1:3 w" would cut a hole in the wider rule "c 1:\* rwm"/,
    },
  );
  t.throws(() => DeviceEmulator.fromRules([{ allow: true, type: 'p', major: 1, minor: 1 }]), { message: /devices\[0\]\.type: "p" is not a, b or c/ });
});

test("exec --cgroup values are read as runc reads them; a path never leaves the container's cgroup", (t) => {
  const state = {
    driver: 'v1' as const,
    path: '/t/c',
    dirs: { memory: '/nonexistent/memory/t/c', 'cpu,cpuacct': '/nonexistent/cpu,cpuacct/t/c' },
    created: [],
  };
  t.deepEqual(
    [...parseSubCgroupArgs(['memory,cpu:a/b', 'pids:/c'])],
    [
      ['memory', 'a/b'],
      ['cpu', 'a/b'],
      ['pids', '/c'],
    ],
  );
  t.deepEqual([...parseSubCgroupArgs(['sub'])], [['', 'sub']]);
  t.throws(() => parseSubCgroupArgs(['a', 'b']), { message: /each needs a CONTROLLER: prefix/ });
  t.throws(() => parseSubCgroupArgs(['a:b:c']), { message: /invalid argument "a:b:c"/ });
  for (const escape of ['..', '../c2', 'a/../../x', '/../x'])
    t.throws(() => subCgroupDirs(state, parseSubCgroupArgs([`memory:${escape}`])), { message: /is not a sub-cgroup path/ }, escape);
  t.throws(() => subCgroupDirs(state, parseSubCgroupArgs(['io:x'])), { message: /unknown controller "io"/ });
  // Inside, but not made: named, not created.
  t.throws(() => subCgroupDirs(state, parseSubCgroupArgs(['memory:/x/../y'])), { message: /\/nonexistent\/memory\/t\/c\/y does not exist/ });
  t.throws(() => subCgroupDirs({ driver: 'v2', path: '/t/c', dirs: { unified: '/x' }, created: [] }, parseSubCgroupArgs(['memory:x'])), {
    message: /cgroup v2 has one hierarchy/,
  });
});
