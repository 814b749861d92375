import test from 'ava';
import { capabilityMask, capabilityNames } from '../../src/oci/capabilities';
import { formatJsonPath } from '../../src/common/json-path';
import { MOUNT_ATTR, MS, parseMountOptions } from '../../src/oci/mount-options';
import { parseConfig } from '../../src/oci/load-bundle';
import { defaultSpec } from '../../src/oci/default-spec';
import { rlimitValue, RLIM_INFINITY } from '../../src/oci/rlimits';
import { parseSignal } from '../../src/oci/signals';
import { encodePlan } from '../../src/oci/plan-encode';
import { compileCreatePlan } from '../../src/oci/compile-plan';

test('mount options become flags, propagation and data, as runc parses them', (t) => {
  t.deepEqual(parseMountOptions(['nosuid', 'rbind', 'ro', 'rslave', 'mode=755', 'size=1m']), {
    flags: MS.NOSUID | MS.BIND | MS.REC | MS.RDONLY,
    propagation: MS.SLAVE | MS.REC,
    data: 'mode=755,size=1m',
  });
  t.is(parseMountOptions(['ro', 'rw']).flags, 0, 'a later word clears an earlier one');
});

test('recursive mount options become mount_setattr attributes, not mount(2) flags or data', (t) => {
  t.deepEqual(parseMountOptions(['rbind', 'rro', 'rnosuid']), {
    flags: MS.BIND | MS.REC,
    propagation: 0,
    data: '',
    recursive: { set: MOUNT_ATTR.RDONLY | MOUNT_ATTR.NOSUID, clear: 0 },
  });
  t.deepEqual(parseMountOptions(['rro', 'rrw']).recursive, { set: 0, clear: MOUNT_ATTR.RDONLY }, 'a later word clears an earlier one');
  t.is(parseMountOptions(['rbind', 'ro']).recursive, undefined, 'no recursive word, no attributes');
  // Access time is one field: setting it needs the whole field in attr_clr.
  t.deepEqual(parseMountOptions(['rnoatime']).recursive, { set: MOUNT_ATTR.NOATIME, clear: MOUNT_ATTR._ATIME });
  t.deepEqual(
    parseMountOptions(['rnoatime', 'rstrictatime']).recursive,
    { set: MOUNT_ATTR.STRICTATIME, clear: MOUNT_ATTR._ATIME },
    'strictatime wins, as in mount(2)',
  );
  t.deepEqual(parseMountOptions(['rnoatime', 'ratime']).recursive, { set: MOUNT_ATTR.RELATIME, clear: MOUNT_ATTR._ATIME });
});

test('capability names and masks', (t) => {
  t.is(capabilityMask(['CAP_CHOWN', 'CAP_KILL', 'net_raw']), (1n << 0n) | (1n << 5n) | (1n << 13n));
  t.deepEqual(capabilityNames(1n << 21n), ['CAP_SYS_ADMIN']);
});

test('JSON paths read like the config', (t) => {
  t.is(formatJsonPath(['mounts', 2, 'destination']), 'mounts[2].destination');
  t.is(formatJsonPath([]), '(root)');
});

test('a config the schema refuses: the first problem, at its path, with the types spelt out', (t) => {
  const missing = JSON.parse(JSON.stringify(defaultSpec()));
  delete missing.ociVersion;
  t.throws(() => parseConfig(JSON.stringify(missing)), { message: 'config.json: ociVersion: expected string, received undefined' });
  const wrong = JSON.parse(JSON.stringify(defaultSpec()));
  wrong.process.user.uid = 'root';
  t.throws(() => parseConfig(JSON.stringify(wrong)), { message: 'config.json: process.user.uid: expected number, received string' });
  wrong.process.user.uid = -1;
  t.throws(() => parseConfig(JSON.stringify(wrong)), { message: 'config.json: process.user.uid: expected number >= 0' });
});

test('rlimit values: JSON rounds 2^64-1 up; it means unlimited', (t) => {
  // eslint-disable-next-line no-loss-of-precision -- the point: 2^64-1 in JSON parses as this double
  t.is(rlimitValue(18446744073709551615), RLIM_INFINITY);
  t.is(rlimitValue(1024), 1024n);
});

test('signals by name, with or without SIG, or by number', (t) => {
  t.is(parseSignal('TERM'), 15);
  t.is(parseSignal('SIGKILL'), 9);
  t.is(parseSignal('10'), 10);
  t.is(parseSignal(undefined), 15);
  t.throws(() => parseSignal('SIGNOPE'));
  t.throws(() => parseSignal('99'));
});

test('the default spec passes validation', (t) => {
  t.notThrows(() => parseConfig(JSON.stringify(defaultSpec())));
  t.notThrows(() => parseConfig(JSON.stringify(defaultSpec({ rootless: true, uid: 1000, gid: 1000 }))));
});

/** The plan of a spec with fixed paths and a v2 cgroup, for tests of the encoding. */
function compileForTest(spec: ReturnType<typeof defaultSpec>) {
  return compileCreatePlan(spec, {
    rootfs: '/r',
    execFifo: '/f',
    noPivot: false,
    cgroup: { driver: 'v2', dirs: { unified: '/sys/fs/cgroup/x' } },
    foreground: false,
    preserveFds: 0,
    events: false,
    hostBounding: (1n << 41n) - 1n,
  });
}

test('plan encoding: header, then tagged records in the documented layout', (t) => {
  const { plan } = compileForTest(defaultSpec());
  const buf = encodePlan(plan);
  t.is(buf.subarray(0, 4).toString(), 'TSPL');
  t.is(buf.readUInt32LE(4), 1);
  // Walk the records: every length must land exactly on the next header.
  const tags: number[] = [];
  for (let off = 8; off < buf.length;) {
    tags.push(buf.readUInt16LE(off));
    off += 6 + buf.readUInt32LE(off + 2);
    t.true(off <= buf.length);
  }
  t.is(tags[0], 1, 'MODE first');
  t.true(tags.includes(11), 'mounts present');
  t.is(tags.filter((x) => x === 27).length, 1, 'one ARG: sh');
  t.false(tags.includes(42), 'no MOUNT_ATTR without recursive options');
  // The v2 cgroup mount in a cgroup namespace becomes a cgroup2 mount.
  t.true(plan.mounts.some((m) => m.type === 'cgroup2' && m.dest === '/sys/fs/cgroup'));
});

test('plan encoding: a MOUNT_ATTR record (tag 42) names its mount by index and carries attr_set, attr_clr', (t) => {
  const spec = defaultSpec();
  spec.mounts!.push({ destination: '/data', type: 'bind', source: '/srv/data', options: ['rbind', 'rro', 'rnoexec'] });
  const { plan } = compileForTest(spec);
  const buf = encodePlan(plan);
  const attrs: { index: number; set: bigint; clear: bigint }[] = [];
  for (let off = 8; off < buf.length; off += 6 + buf.readUInt32LE(off + 2)) {
    if (buf.readUInt16LE(off) !== 42) continue;
    t.is(buf.readUInt32LE(off + 2), 20, 'u32 + u64 + u64');
    attrs.push({ index: buf.readUInt32LE(off + 6), set: buf.readBigUInt64LE(off + 10), clear: buf.readBigUInt64LE(off + 18) });
  }
  t.is(attrs.length, 1);
  t.is(plan.mounts[attrs[0]!.index]!.dest, '/data');
  t.is(attrs[0]!.set, BigInt(MOUNT_ATTR.RDONLY | MOUNT_ATTR.NOEXEC));
  t.is(attrs[0]!.clear, 0n);
});
