// A pod in its own user namespace (userns_options POD): its containers' rootfs is an overlay of
// idmapped image layers, so the image's files keep their owners inside the pod, the pod's root
// can write its rootfs, and what it writes belongs on the host to the id its root maps to.
import test from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { busyboxRootfs } from '../fixtures/busybox';
import { OciLayout, push, tarOfDir } from '../fixtures/oci-builder';
import { startRegistry, type Registry } from '../fixtures/registry';
import { startCriServer, type CriServerHandle } from '../helpers/cri-server';

let reg: Registry;
let cri: CriServerHandle;
let image: string;
const HOST_ID = 200000;

test.before(async () => {
  reg = await startRegistry('plain');
  const rootfs = busyboxRootfs();
  // A file of another owner than root, to see the whole range shifted, not just id 0.
  fs.mkdirSync(path.join(rootfs, 'home/user'), { recursive: true });
  fs.writeFileSync(path.join(rootfs, 'home/user/notes'), 'mine\n');
  fs.chownSync(path.join(rootfs, 'home/user/notes'), 1000, 1001);
  const layout = new OciLayout(fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-cri-userns-oci-')));
  const d = layout.image([tarOfDir(rootfs)], { Cmd: ['sh'], Env: ['PATH=/bin'] });
  layout.tag('1', d);
  push(layout.dir, '1', `${reg.addr}/cri/busybox-userns:1`);
  image = `${reg.addr}/cri/busybox-userns:1`;
  cri = await startCriServer();
  await cri.img('PullImage', { image: { image } });
});

test.after.always(async () => {
  await cri?.stop();
  await reg?.stop();
});

const run = async (id: string, script: string) => {
  const r = await cri.rt('ExecSync', { container_id: id, cmd: ['sh', '-c', script], timeout: 10 });
  return { code: r.exit_code as number, out: Buffer.from(r.stdout).toString(), err: Buffer.from(r.stderr).toString() };
};

const mountsOf = (id: string) =>
  fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l.includes(id));

test.serial('a container of a POD user namespace sees the image files owned as in the image, and its root writes its rootfs', async (t) => {
  const mapping = [{ container_id: 0, host_id: HOST_ID, length: 65536 }];
  const config = {
    metadata: { name: 'userns', namespace: 'default', uid: `uid-userns-${process.pid}`, attempt: 0 },
    hostname: 'userns',
    log_directory: path.join(cri.dir, 'logs', 'userns'),
    linux: {
      security_context: { namespace_options: { network: 'POD', pid: 'CONTAINER', ipc: 'POD', userns_options: { mode: 'POD', uids: mapping, gids: mapping } } },
    },
  };
  const { pod_sandbox_id: podId } = await cri.rt('RunPodSandbox', { config });
  let id = '';
  try {
    ({ container_id: id } = await cri.rt('CreateContainer', {
      pod_sandbox_id: podId,
      config: { metadata: { name: 'c' }, image: { image }, command: ['sleep', '3600'], log_path: 'c.log' },
      sandbox_config: config,
    }));
    await cri.rt('StartContainer', { container_id: id });

    const ids = await run(id, 'id -u; id -g; stat -c %u:%g /bin/busybox /etc/passwd /home/user/notes /; cat /proc/self/uid_map /proc/self/gid_map');
    t.is(ids.code, 0, ids.err);
    const lines = ids.out.trim().split('\n');
    t.deepEqual(lines.slice(0, 6), ['0', '0', '0:0', '0:0', '1000:1001', '0:0']);
    t.deepEqual(
      lines.slice(6).map((l) => l.trim().split(/\s+/)),
      [
        ['0', String(HOST_ID), '65536'],
        ['0', String(HOST_ID), '65536'],
      ],
    );

    const w = await run(
      id,
      'echo made > /made-here && echo more >> /etc/passwd && mkdir -p /var/new && cat /made-here && stat -c %u:%g /made-here /etc/passwd',
    );
    t.is(w.code, 0, w.err);
    t.is(w.out, 'made\n0:0\n0:0\n');

    const upper = path.join(cri.stateDir, 'containers', id, 'fs', 'upper');
    const owner = (f: string) => {
      const st = fs.statSync(path.join(upper, f));
      return `${st.uid}:${st.gid}`;
    };
    t.is(owner('made-here'), `${HOST_ID}:${HOST_ID}`);
    t.is(owner('etc/passwd'), `${HOST_ID}:${HOST_ID}`, 'a copied-up file keeps its image owner, shifted');
    t.is(owner('var/new'), `${HOST_ID}:${HOST_ID}`);
    const merged = fs.statSync(path.join(cri.stateDir, 'containers', id, 'bundle', 'rootfs', 'bin'));
    t.is(`${merged.uid}:${merged.gid}`, `${HOST_ID}:${HOST_ID}`, 'on the host the merged rootfs shows the shifted ids');

    const rootfsMounts = mountsOf(id);
    t.is(rootfsMounts.length, 1, `only the overlay stays mounted, no idmapped layer: ${rootfsMounts.join('\n')}`);
    t.regex(rootfsMounts[0]!, / - overlay /);
  } finally {
    if (id) await cri.rt('RemoveContainer', { container_id: id }).catch(() => undefined);
    await cri.rt('RemovePodSandbox', { pod_sandbox_id: podId }).catch(() => undefined);
  }
  t.deepEqual(mountsOf(id), [], 'RemoveContainer leaves no mount of the container');
  t.false(fs.existsSync(path.join(cri.stateDir, 'containers', id)));
});
