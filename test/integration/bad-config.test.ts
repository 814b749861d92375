// Malformed or unsupported configs: each is refused with a message naming the JSON path of
// what is wrong, and nothing is left behind (no state dir, cgroup or mount).
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RuntimeConfig } from '../../specs/oci/runtime-config';
import { makeBundle } from '../fixtures/busybox';
import { leftovers, newRoot, tsrun, uniqueId } from '../helpers/tsrun';

const root = newRoot();

type Edit = (c: RuntimeConfig & Record<string, unknown>) => void;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const any = (v: unknown): any => v;

const CASES: [string, Edit | string, RegExp][] = [
  ['not JSON', '{"ociVersion": ', /config\.json: not valid JSON/],
  ['a JSON array', '[]', /config\.json: must be a JSON object/],
  ['no ociVersion', (c) => delete any(c).ociVersion, /config\.json: ociVersion: .*expected string/],
  ['ociVersion 2.0.0', (c) => (c.ociVersion = '2.0.0'), /ociVersion: version 2\.0\.0 is not supported/],
  ['ociVersion not semver', (c) => (c.ociVersion = 'banana'), /ociVersion: "banana" is not a semantic version/],
  ['no process', (c) => delete c.process, /process: is required to create a container/],
  ['args is a string', (c) => (c.process!.args = any('sh')), /process\.args: .*expected array/],
  ['empty args', (c) => (c.process!.args = []), /process\.args: must name at least the program/],
  ['relative cwd', (c) => (c.process!.cwd = 'tmp'), /process\.cwd: must be an absolute path/],
  ['negative uid', (c) => (c.process!.user.uid = -1), /process\.user\.uid: expected number >= ?0/],
  ['uid not a number', (c) => (c.process!.user.uid = any('root')), /process\.user\.uid: .*expected number/],
  ['env without =', (c) => (c.process!.env = ['PATH']), /process\.env\[0\]: must be KEY=value/],
  [
    'unknown capability (a runtime-spec 1.0 config)',
    (c) => {
      c.ociVersion = '1.0.2';
      c.process!.capabilities!.bounding = ['CAP_FLY'];
    },
    /process\.capabilities\.bounding\[0\]: unknown capability "CAP_FLY"/,
  ],
  ['unknown rlimit', (c) => (c.process!.rlimits = [{ type: 'RLIMIT_FOO', soft: 1, hard: 1 }]), /process\.rlimits\[0\]\.type: unknown rlimit "RLIMIT_FOO"/],
  [
    'soft above hard',
    (c) => (c.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 10, hard: 5 }]),
    /process\.rlimits\[0\]: soft limit 10 is above hard limit 5/,
  ],
  ['oomScoreAdj out of range', (c) => (c.process!.oomScoreAdj = 5000), /process\.oomScoreAdj: must be between -1000 and 1000/],
  ['no root', (c) => delete c.root, /root: is required on Linux/],
  ['root.path missing on disk', (c) => (c.root = { path: '/nonexistent/rootfs' }), /root\.path: \/nonexistent\/rootfs does not exist/],
  [
    'relative mount destination',
    (c) => c.mounts!.push({ destination: 'data', type: 'tmpfs', source: 'tmpfs' }),
    /mounts\[7\]\.destination: must be an absolute path/,
  ],
  [
    'mount destination with ..',
    (c) => c.mounts!.push({ destination: '/a/../../etc', type: 'tmpfs', source: 'tmpfs' }),
    /mounts\[7\]\.destination: must not contain "\.\."/,
  ],
  ['mount without type', (c) => c.mounts!.push({ destination: '/x', source: 'tmpfs' }), /mounts\[7\]\.type: is required unless the mount is a bind mount/],
  [
    'bind mount without source',
    (c) => c.mounts!.push({ destination: '/x', type: 'bind', options: ['rbind'] }),
    /mounts\[7\]\.source: a bind mount needs a source/,
  ],
  ['mounts is an object', (c) => (c.mounts = any({})), /mounts: .*expected array/],
  ['unknown namespace type', (c) => c.linux!.namespaces!.push(any({ type: 'bogus' })), /linux\.namespaces\[6\]\.type: /],
  ['duplicate namespace', (c) => c.linux!.namespaces!.push({ type: 'pid' }), /linux\.namespaces\[6\]\.type: namespace pid is listed twice/],
  [
    'hostname without uts',
    (c) => (c.linux!.namespaces = c.linux!.namespaces!.filter((n) => n.type !== 'uts')),
    /hostname: setting a hostname needs a uts namespace/,
  ],
  ['user namespace without maps', (c) => c.linux!.namespaces!.push({ type: 'user' }), /linux\.uidMappings: a new user namespace needs both/],
  [
    'maps without user namespace',
    (c) => (c.linux!.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }]),
    /linux\.uidMappings: id mappings need a user namespace/,
  ],
  ['relative hook path', (c) => (c.hooks = { prestart: [{ path: 'hook.sh' }] }), /hooks\.prestart\[0\]\.path: must be an absolute path/],
  ['zero hook timeout', (c) => (c.hooks = { poststop: [{ path: '/bin/true', timeout: 0 }] }), /hooks\.poststop\[0\]\.timeout: must be greater than zero/],
  ['host-wide sysctl', (c) => (c.linux!.sysctl = { 'vm.swappiness': '10' }), /linux\.sysctl\.vm\.swappiness: is not namespaced/],
  [
    'net sysctl without netns',
    (c) => {
      c.linux!.namespaces = c.linux!.namespaces!.filter((n) => n.type !== 'network');
      c.linux!.sysctl = { 'net.ipv4.ip_forward': '1' };
    },
    /linux\.sysctl\.net\.ipv4\.ip_forward: needs a network namespace/,
  ],
  [
    'device outside /dev',
    (c) => (c.linux!.devices = [{ type: 'c', path: '/etc/evil', major: 1, minor: 3 }]),
    /linux\.devices\[0\]\.path: must be an absolute path under \/dev/,
  ],
  ['device without major', (c) => (c.linux!.devices = [{ type: 'c', path: '/dev/x' }]), /linux\.devices\[0\]: a c device needs major and minor numbers/],
  ['device of unknown type', (c) => (c.linux!.devices = [any({ type: 'z', path: '/dev/x', major: 1, minor: 1 })]), /linux\.devices\[0\]\.type: /],
  ['unknown rootfsPropagation', (c) => (c.linux!.rootfsPropagation = 'sideways'), /linux\.rootfsPropagation: unknown propagation "sideways"/],
  ['systemd cgroupsPath', (c) => (c.linux!.cgroupsPath = 'system.slice:tsrun:x'), /linux\.cgroupsPath: .*systemd slice path/],
  [
    '20000 mounts',
    (c) => (c.mounts = Array.from({ length: 20000 }, () => ({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs' }))),
    /mounts: more than 1024 entries/,
  ],
  ['100000 env entries', (c) => (c.process!.env = Array.from({ length: 100000 }, (_, i) => `V${i}=1`)), /process\.env: more than 65536 entries/],
  ['a 9 MiB config.json', (c) => (c.annotations = { big: 'x'.repeat(9 << 20) }), /config\.json: larger than 8 MiB/],
  [
    'time offsets without time namespace',
    (c) => (c.linux!.timeOffsets = { monotonic: { secs: 1 } }),
    /linux\.timeOffsets: time offsets need a new time namespace/,
  ],
];

for (const [name, edit, expected] of CASES) {
  test(`refused before anything is made: ${name}`, (t) => {
    const id = uniqueId('bad');
    const bundle = makeBundle(['true'], typeof edit === 'function' ? (edit as (c: RuntimeConfig) => void) : undefined);
    if (typeof edit === 'string') fs.writeFileSync(path.join(bundle, 'config.json'), edit);
    const r = tsrun(root, ['create', '-b', bundle, id]);
    t.is(r.code, 1);
    t.regex(r.stderr, expected);
    t.regex(r.stderr, /config\.json/, 'the message names the file');
    t.deepEqual(leftovers(root, id), []);
  });
}

// These pass validation and fail while the container is being built: every finished step
// (state dir, cgroups, mounts, the init) must be undone.
const LATE: [string, (c: RuntimeConfig) => void, RegExp][] = [
  ['program not in the rootfs', (c) => (c.process!.args = ['no-such-program']), /exec: "no-such-program": executable file not found in \$PATH/],
  ['cwd missing in the rootfs', (c) => (c.process!.cwd = '/no/such/dir'), /cwd \/no\/such\/dir: No such file or directory/],
  [
    'bind source missing on the host',
    (c) => c.mounts!.push({ destination: '/data', type: 'bind', source: '/no/such/source', options: ['rbind'] }),
    /mounts\[7\]: bind mount source \/no\/such\/source: No such file or directory/,
  ],
  [
    'unknown filesystem type',
    (c) => c.mounts!.push({ destination: '/data', type: 'nosuchfs', source: 'x' }),
    /mounts\[7\]: mount x \(nosuchfs\) on \/data: No such device/,
  ],
  [
    'unknown mount option',
    (c) => c.mounts!.push({ destination: '/data', type: 'tmpfs', source: 'tmpfs', options: ['frobnicate'] }),
    /mounts\[7\]: mount tmpfs \(tmpfs\) on \/data: Invalid argument/,
  ],
  [
    'namespace path that does not exist',
    (c) => (c.linux!.namespaces = c.linux!.namespaces!.map((n) => (n.type === 'network' ? { type: 'network', path: '/run/netns/nope' } : n))),
    /open network namespace \/run\/netns\/nope: No such file or directory/,
  ],
];

for (const [name, edit, expected] of LATE) {
  test(`fails during create and undoes every step: ${name}`, (t) => {
    const id = uniqueId('late');
    const r = tsrun(root, ['create', '-b', makeBundle(['true'], edit), id]);
    t.is(r.code, 1);
    t.regex(r.stderr, expected);
    t.deepEqual(leftovers(root, id), []);
    t.false(tsrun(root, ['list', '-q']).stdout.includes(id));
  });
}

test('a bundle without config.json', (t) => {
  const id = uniqueId('nocfg');
  const r = tsrun(root, ['create', '-b', '/tmp', id]);
  t.is(r.code, 1);
  t.regex(r.stderr, /no config\.json in \/tmp; a bundle is a directory with config\.json and a root filesystem/);
  t.deepEqual(leftovers(root, id), []);
});
