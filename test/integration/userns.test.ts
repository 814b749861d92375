// User namespaces beyond the id maps: a rootfs owned by the mapped ids, and idmapped bind
// mounts (mount_setattr) that show host-owned files as the container's own.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RuntimeConfig } from '../../specs/oci/runtime-config';
import { copyRootfs } from '../fixtures/busybox';
import { runScript } from '../helpers/run-in';
import { newRoot } from '../helpers/tsrun';

const root = newRoot();
const MAP = [{ containerID: 0, hostID: 200000, size: 65536 }];

function userns(c: RuntimeConfig, rootfs: string): void {
  c.root = { path: rootfs, readonly: false };
  c.linux!.namespaces!.push({ type: 'user' });
  c.linux!.uidMappings = MAP;
  c.linux!.gidMappings = MAP;
}

test('a rootfs owned by the mapped ids belongs to root inside', (t) => {
  const rootfs = copyRootfs();
  execFileSync('chown', ['-R', '-h', '200000:200000', rootfs]);
  const r = runScript(root, 'stat -c "%u:%g" /bin/busybox /etc; touch /etc/made && stat -c "%u:%g" /etc/made', (c) => userns(c, rootfs));
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, '0:0\n0:0\n0:0\n');
  t.is(fs.statSync(path.join(rootfs, 'etc', 'made')).uid, 200000, 'on disk, the file belongs to the mapped id');
});

test("an idmapped bind mount shows host-root files as the container root's, and writes land as host root", (t) => {
  const rootfs = copyRootfs();
  execFileSync('chown', ['-R', '-h', '200000:200000', rootfs]);
  const host = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-idmap-'));
  fs.chmodSync(host, 0o755);
  fs.writeFileSync(path.join(host, 'owned-by-root'), 'x\n', { mode: 0o644 });
  const r = runScript(
    root,
    'stat -c "%u:%g" /shared/owned-by-root; echo more >> /shared/owned-by-root && touch /shared/new && stat -c "%u:%g" /shared/new',
    (c) => {
      userns(c, rootfs);
      c.mounts!.push({ destination: '/shared', type: 'bind', source: host, options: ['rbind'], uidMappings: MAP, gidMappings: MAP });
    },
  );
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, '0:0\n0:0\n');
  t.is(fs.readFileSync(path.join(host, 'owned-by-root'), 'utf8'), 'x\nmore\n');
  t.is(fs.statSync(path.join(host, 'new')).uid, 0, 'the new file belongs to host root on disk');
});
