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
  t.deepEqual(h.v1.map((x) => x.controllers), [['cpu', 'cpuacct'], ['memory'], ['name=systemd']]);
  t.is(h.unified, '/sys/fs/cgroup/unified');
  t.is(parseMountinfo(V2).mode, 'v2');
  t.is(parseMountinfo(HYBRID.split('\n').slice(0, 3).join('\n')).mode, 'v1');
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
  const v1 = newCgroupManager('c', '/a/c', parseMountinfo(HYBRID));
  t.deepEqual(v1.state.dirs, {
    'cpu,cpuacct': '/sys/fs/cgroup/cpu,cpuacct/a/c',
    memory: '/sys/fs/cgroup/memory/a/c',
    'name=systemd': '/sys/fs/cgroup/systemd/a/c',
    unified: '/sys/fs/cgroup/unified/a/c',
  });
  t.deepEqual(newCgroupManager('c', '/a/c', parseMountinfo(V2)).state.dirs, { unified: '/sys/fs/cgroup/a/c' });
  t.throws(() => newCgroupManager('c', '/', parseMountinfo(V2)), { message: /root cgroup/ });
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
