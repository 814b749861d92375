// The rootless decisions that need no user: how an unprivileged caller's id maps are written,
// what is refused, where state and cgroups go (the integration tests run them as a real user).
import test from 'ava';
import type { RuntimeConfig } from '../../specs/oci/runtime-config';
import { rootlessParents } from '../../src/cgroups/manager';
import { parseProcCgroup } from '../../src/cgroups/own';
import { defaultSpec } from '../../src/oci/default-spec';
import { rootlessIdMaps, runningInUserNamespace, subordinateRanges } from '../../src/runtime/rootless';

const HOST = {
  uid: 1001,
  gid: 1002,
  user: 'alice',
  subuid: 'bob:100000:65536\nalice:200000:65536\n',
  subgid: '1001:300000:10\nalice:200000:65536\n',
  env: { PATH: '/usr/bin:/bin' },
};

function spec(edit?: (c: RuntimeConfig) => void): RuntimeConfig {
  const c = defaultSpec({ rootless: true, uid: HOST.uid, gid: HOST.gid });
  edit?.(c);
  return c;
}

test("the host's own user namespace is the full identity map; anything else is a user namespace", (t) => {
  t.false(runningInUserNamespace('         0          0 4294967295\n'));
  t.true(runningInUserNamespace('         0       1000          1\n'));
  t.true(runningInUserNamespace('0 0 1000\n1000 100000 65536\n'));
});

test('subordinate ranges are found by name or by uid', (t) => {
  t.deepEqual(subordinateRanges(HOST.subuid, { name: 'alice', id: 1001 }), [{ start: 200000, count: 65536 }]);
  t.deepEqual(subordinateRanges(HOST.subgid, { name: 'alice', id: 1001 }), [
    { start: 300000, count: 10 },
    { start: 200000, count: 65536 },
  ]);
});

test('your own id alone is written directly, with setgroups denied; more goes through newuidmap/newgidmap', (t) => {
  t.deepEqual(rootlessIdMaps(spec(), HOST), { setgroupsDeny: true });
  const sub = rootlessIdMaps(
    spec((c) => {
      c.linux!.uidMappings!.push({ containerID: 1, hostID: 200000, size: 65536 });
      c.linux!.gidMappings!.push({ containerID: 1, hostID: 300000, size: 10 });
    }),
    HOST,
  );
  t.deepEqual(sub, { idMapHelpers: { newuidmap: '/usr/bin/newuidmap', newgidmap: '/usr/bin/newgidmap' } });
  t.deepEqual(rootlessIdMaps(spec(), { ...HOST, uid: 0 }), {}, 'real root writes any map itself');
});

test('ranges that are not yours, missing maps and idmapped mounts are refused, naming the field', (t) => {
  const other = spec((c) => c.linux!.uidMappings!.push({ containerID: 1, hostID: 100000, size: 10 }));
  t.throws(() => rootlessIdMaps(other, HOST), {
    message:
      /^linux.uidMappings\[1\]: host uids 100000-100009 are not yours: alice \(uid 1001\) may map only its own uid and the ranges \/etc\/subuid gives it \(200000-265535\)/,
  });
  t.throws(
    () =>
      rootlessIdMaps(
        spec((c) => (c.linux!.gidMappings = [])),
        HOST,
      ),
    { message: /linux.gidMappings: rootless containers requires at least one GID mapping/ },
  );
  const idmapped = spec((c) =>
    c.mounts!.push({ destination: '/d', type: 'bind', source: '/tmp', options: ['rbind'], uidMappings: [{ containerID: 0, hostID: 1001, size: 1 }] }),
  );
  t.throws(() => rootlessIdMaps(idmapped, HOST), { message: /^mounts\[\d+\]: id-mapped mounts are not supported for rootless containers/ });
  const uidOpt = spec((c) => c.mounts!.push({ destination: '/t', type: 'tmpfs', source: 'tmpfs', options: ['uid=5'] }));
  t.throws(() => rootlessIdMaps(uidOpt, HOST), { message: /mounts\[\d+\].options: cannot specify uid=5 mount option for rootless container/ });
});

test("a rootless container's cgroup goes beside the caller's own on v2 (its parent), below it on v1", (t) => {
  const own = parseProcCgroup('0::/user.slice/user-1001.slice/user@1001.service/app.slice/term.scope\n4:memory:/user.slice/user-1001.slice\n');
  t.deepEqual(rootlessParents(own, true), { '': '/user.slice/user-1001.slice/user@1001.service/app.slice', memory: '/user.slice/user-1001.slice' });
  t.deepEqual(rootlessParents(own, false)[''], '/user.slice/user-1001.slice/user@1001.service/app.slice/term.scope');
});
