import test from 'ava';
import { capabilityMask, capabilityNames } from '../../src/oci/capabilities';
import { formatJsonPath } from '../../src/oci/json-path';
import { MS, parseMountOptions } from '../../src/oci/mount-options';
import { parseConfig } from '../../src/oci/load-bundle';
import { defaultSpec } from '../../src/oci/default-spec';
import { rlimitValue, RLIM_INFINITY } from '../../src/oci/rlimits';
import { parseSignal } from '../../src/runtime/kill';
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

test('capability names and masks', (t) => {
  t.is(capabilityMask(['CAP_CHOWN', 'CAP_KILL', 'net_raw']), (1n << 0n) | (1n << 5n) | (1n << 13n));
  t.deepEqual(capabilityNames(1n << 21n), ['CAP_SYS_ADMIN']);
});

test('JSON paths read like the config', (t) => {
  t.is(formatJsonPath(['mounts', 2, 'destination']), 'mounts[2].destination');
  t.is(formatJsonPath([]), '(root)');
});

test('rlimit values: JSON rounds 2^64-1 up; it means unlimited', (t) => {
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

test('plan encoding: header, then tagged records in the documented layout', (t) => {
  const { plan } = compileCreatePlan(defaultSpec(), {
    rootfs: '/r',
    execFifo: '/f',
    noPivot: false,
    cgroup: { driver: 'v2', dirs: { unified: '/sys/fs/cgroup/x' } },
    foreground: false,
    preserveFds: 0,
    events: false,
    hostBounding: (1n << 41n) - 1n,
  });
  const buf = encodePlan(plan);
  t.is(buf.subarray(0, 4).toString(), 'TSPL');
  t.is(buf.readUInt32LE(4), 1);
  // Walk the records: every length must land exactly on the next header.
  const tags: number[] = [];
  for (let off = 8; off < buf.length; ) {
    tags.push(buf.readUInt16LE(off));
    off += 6 + buf.readUInt32LE(off + 2);
    t.true(off <= buf.length);
  }
  t.is(tags[0], 1, 'MODE first');
  t.true(tags.includes(11), 'mounts present');
  t.is(tags.filter((x) => x === 27).length, 1, 'one ARG: sh');
  // The v2 cgroup mount in a cgroup namespace becomes a cgroup2 mount.
  t.true(plan.mounts.some((m) => m.type === 'cgroup2' && m.dest === '/sys/fs/cgroup'));
});
