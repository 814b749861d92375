// The classic first lesson (docker run -d nginx, then curl it), done with tsrun: an nginx
// image built from Debian's packages is pushed to a local registry, pulled, bundled and run
// detached; it answers HTTP. (Publishing a port into a network namespace is the CRI's job,
// with CNI's portmap; here the container shares the host's network namespace.)
import test from 'ava';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { busyboxRootfs } from '../fixtures/busybox';
import { nginxConf, nginxLayerDir } from '../fixtures/nginx';
import { OciLayout, push, tarOf, tarOfDir } from '../fixtures/oci-builder';
import { freePort, startRegistry } from '../fixtures/registry';
import { newRoot, status, tsrun, uniqueId } from '../helpers/tsrun';

const root = newRoot();

function get(url: string): Promise<{ code: number; body: string }> {
  return new Promise((resolve) => {
    http
      .get(url, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
      })
      .on('error', () => resolve({ code: 0, body: '' }));
  });
}

test('nginx from Debian packages, pulled from a registry, serves HTTP from a tsrun container', async (t) => {
  const reg = await startRegistry('plain');
  try {
    const port = await freePort();
    const layout = new OciLayout(fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-oci-nginx-')));
    const conf = await tarOf([
      { name: 'etc/', type: 'directory', mode: 0o755 },
      { name: 'etc/nginx/', type: 'directory', mode: 0o755 },
      { name: 'etc/nginx/tsrun.conf', body: nginxConf(port) },
    ]);
    layout.tag(
      'nginx',
      layout.image([tarOfDir(busyboxRootfs()), tarOfDir(nginxLayerDir()), conf], {
        Cmd: ['nginx', '-c', '/etc/nginx/tsrun.conf'],
        Env: ['PATH=/usr/sbin:/usr/bin:/bin'],
        ExposedPorts: { [`${port}/tcp`]: {} },
      }),
    );
    push(layout.dir, 'nginx', `${reg.addr}/library/nginx:test`);
    const store = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-store-'));
    t.is(tsrun(root, ['--store', store, 'pull', `${reg.addr}/library/nginx:test`]).code, 0);
    const bundle = path.join(store, 'bundle');
    t.is(tsrun(root, ['--store', store, 'bundle', `${reg.addr}/library/nginx:test`, bundle]).code, 0);
    const cfgFile = path.join(bundle, 'config.json');
    const cfg = JSON.parse(fs.readFileSync(cfgFile, 'utf8'));
    t.is(cfg.annotations['org.opencontainers.image.exposedPorts'], `${port}/tcp`);
    cfg.linux.namespaces = cfg.linux.namespaces.filter((n: { type: string }) => n.type !== 'network');
    cfg.mounts.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs' });
    fs.writeFileSync(cfgFile, JSON.stringify(cfg));
    const id = uniqueId('nginx');
    const r = tsrun(root, ['run', '-d', '-b', bundle, id]);
    t.is(r.code, 0, r.stderr);
    let res = { code: 0, body: '' };
    for (let i = 0; i < 100 && res.code !== 200; i++) {
      res = await get(`http://127.0.0.1:${port}/`);
      if (res.code !== 200) await new Promise((x) => setTimeout(x, 100));
    }
    t.is(res.code, 200);
    t.is(res.body, 'hello from nginx in a tsrun container\n');
    t.is(status(root, id), 'running');
    t.is(tsrun(root, ['delete', '-f', id]).code, 0);
    t.is((await get(`http://127.0.0.1:${port}/`)).code, 0, 'gone with the container');
    t.is(tsrun(root, ['--store', store, 'bundle', '--remove', bundle]).code, 0);
  } finally {
    await reg.stop();
  }
});
