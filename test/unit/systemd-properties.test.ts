// The systemd driver's names and properties, checked against what runc's systemd driver makes of
// the same input (its ExpandSlice, getUnitName, genV2ResourcesProperties, addCPUQuota, RangeToBits
// and devices/systemd.go); the lane shows systemd accepting them.
import test from 'ava';
import type { Variant } from '@jellybrick/dbus-next';
import { deviceProperties, rangeToBits, resourceProperties } from '../../src/cgroups/systemd/properties';
import { expandSlice, parseSystemdPath, unitCgroupPath } from '../../src/cgroups/systemd/unit';

const INF = 2n ** 64n - 1n;
const asObject = (props: [string, Variant][]): Record<string, unknown> => Object.fromEntries(props.map(([k, v]) => [k, v.value]));

test("slices nest by their dashes, as systemd (and runc's ExpandSlice) says", (t) => {
  t.is(expandSlice('test-a-b.slice'), '/test.slice/test-a.slice/test-a-b.slice');
  t.is(expandSlice('system.slice'), '/system.slice');
  t.is(expandSlice('-.slice'), '/');
  for (const bad of ['test--a.slice', '-test.slice', 'a/b.slice', '.slice', 'system.scope'])
    t.throws(() => expandSlice(bad), { message: /invalid slice name/ }, bad);
});

test('cgroupsPath "slice:prefix:name" names the scope; no cgroupsPath is system.slice:tsrun:ID', (t) => {
  t.deepEqual(parseSystemdPath('abc', undefined, false), { unit: 'tsrun-abc.scope', slice: 'system.slice' });
  t.deepEqual(parseSystemdPath('abc', undefined, true), { unit: 'tsrun-abc.scope', slice: 'user.slice' });
  const kube = parseSystemdPath('c1', 'kubepods-besteffort-pod1234.slice:cri-containerd:c1', false);
  t.deepEqual(kube, { unit: 'cri-containerd-c1.scope', slice: 'kubepods-besteffort-pod1234.slice' });
  t.is(unitCgroupPath(kube), '/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1234.slice/cri-containerd-c1.scope');
  t.deepEqual(
    parseSystemdPath('x', 'machine.slice:tsrun:pod-a.slice', false),
    { unit: 'pod-a.slice', slice: 'machine.slice' },
    'a name that is a slice is the unit itself',
  );
  t.is(unitCgroupPath({ unit: 'tsrun-pod1.slice', slice: 'tsrun.slice' }), '/tsrun.slice/tsrun-pod1.slice');
  t.is(
    unitCgroupPath({ unit: 'x.scope', slice: 'user.slice' }, '/user.slice/user-1000.slice/user@1000.service'),
    '/user.slice/user-1000.slice/user@1000.service/user.slice/x.scope',
  );
  t.throws(() => parseSystemdPath('a', '/kubepods/a', false), {
    message: /expected cgroupsPath to be of format "slice:prefix:name" for systemd cgroups, got "\/kubepods\/a" instead/,
  });
  t.throws(() => parseSystemdPath('a', 'bad-.slice:p:a', false), { message: /invalid slice name/ });
});

test('v2 resources become MemoryMax, CPUWeight, CPUQuota*, TasksMax, AllowedCPUs, as runc converts them', (t) => {
  const r = {
    memory: { limit: 100663296, reservation: 1048576, swap: 200000000 },
    cpu: { shares: 1024, quota: 25000, period: 100000, cpus: '0-2,5' },
    pids: { limit: -1 },
  };
  const p = asObject(resourceProperties(r, true, 252));
  t.is(p['MemoryMax'], 100663296n);
  t.is(p['MemoryLow'], 1048576n);
  t.is(p['MemorySwapMax'], BigInt(200000000 - 100663296), "OCI swap is memory+swap; systemd's is swap alone");
  t.is(p['CPUWeight'], 39n, 'cpu.shares 1024 is cpu.weight 39');
  t.is(p['CPUQuotaPeriodUSec'], 100000n);
  t.is(p['CPUQuotaPerSecUSec'], 250000n);
  t.is(p['TasksMax'], INF, 'pids.limit -1 is infinity');
  t.deepEqual(p['AllowedCPUs'], Buffer.from([0b00100111]));
  t.is(p['AllowedCPUs'] !== undefined && resourceProperties(r, true, 243).some(([k]) => k === 'AllowedCPUs'), false, 'systemd before 244 has no AllowedCPUs');
});

test('a quota systemd keeps as a percentage is rounded up to 10 ms per second, in cgroupfs too', (t) => {
  const r = { cpu: { quota: 33333, period: 100000 } };
  const p = asObject(resourceProperties(r, true, 252));
  t.is(p['CPUQuotaPerSecUSec'], 340000n);
  t.is(r.cpu.quota, 34000, 'the same value goes to cpu.max');
  t.is(asObject(resourceProperties({ cpu: { quota: -1, period: 50000 } }, true, 252))['CPUQuotaPerSecUSec'], INF);
});

test('v1 resources use the v1 names: MemoryLimit, CPUShares, BlockIOWeight', (t) => {
  const p = asObject(resourceProperties({ memory: { limit: 1 << 26 }, cpu: { shares: 512 }, blockIO: { weight: 300 }, pids: { limit: 10 } }, false, 252));
  t.is(p['MemoryLimit'], 67108864n);
  t.is(p['CPUShares'], 512n);
  t.is(p['BlockIOWeight'], 300n);
  t.is(p['TasksMax'], 10n);
  t.false('MemoryMax' in p);
});

test('raw v2 keys systemd has properties for become them; others are left to cgroupfs', (t) => {
  const p = asObject(resourceProperties({ unified: { 'memory.high': '1000000', 'pids.max': '0', 'cpu.max': 'max 20000', 'io.weight': '50' } }, true, 252));
  t.is(p['MemoryHigh'], 1000000n);
  t.is(p['TasksMax'], 1n, 'systemd takes no 0');
  t.is(p['CPUQuotaPerSecUSec'], INF);
  t.is(p['CPUQuotaPeriodUSec'], 20000n);
  t.false(Object.keys(p).some((k) => k.startsWith('IO')));
  t.deepEqual(rangeToBits('9', 'x'), Buffer.from([0, 2]));
  t.throws(() => rangeToBits('1-a', 'linux.resources.cpu.cpus'), { message: /linux.resources.cpu.cpus: "1-a"/ });
});

test('device rules: strict with the allowed devices, allow-all as auto, a deny list as deny-all (as runc)', (t) => {
  const strict = deviceProperties([
    { allow: false, access: 'rwm' },
    { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' },
  ]);
  t.is(asObject(strict)['DevicePolicy'], 'strict');
  const allow = strict.filter(([k]) => k === 'DeviceAllow').pop()![1].value as [string, string][];
  t.deepEqual(allow.slice(0, 4), [
    ['/dev/char/10:229', 'rw'],
    ['char-*', 'm'],
    ['block-*', 'm'],
    ['/dev/char/1:3', 'rwm'],
  ]);
  t.true(
    allow.some(([p, a]) => p === 'char-136' && a === 'rwm'),
    'pts/* as char-136',
  );
  t.is(asObject(deviceProperties([{ allow: true, access: 'rwm' }]))['DevicePolicy'], 'auto');
  const denyList = deviceProperties([
    { allow: true, access: 'rwm' },
    { allow: false, type: 'c', major: 1, minor: 3, access: 'rwm' },
  ]);
  t.is(asObject(denyList)['DevicePolicy'], 'strict');
  t.deepEqual(denyList.filter(([k]) => k === 'DeviceAllow').pop()![1].value, []);
  t.deepEqual(deviceProperties(undefined), []);
});
