// `tsrun cri --explain`: the server narrates what it does for each pod and container, from the
// same events as --explain=json, in English and Japanese.
import test from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CATALOGS } from '../../src/events/narrate';
import type { StepEvent } from '../../src/events/types';
import { busyboxRootfs } from '../fixtures/busybox';
import { OciLayout, push, tarOfDir } from '../fixtures/oci-builder';
import { startRegistry, type Registry } from '../fixtures/registry';
import { Browser } from '../helpers/browser';
import { startCriServer, until, type CriServerHandle } from '../helpers/cri-server';

let reg: Registry;
let image: string;
const servers: CriServerHandle[] = [];

test.before(async () => {
  reg = await startRegistry('plain');
  const layout = new OciLayout(fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-cri-explain-')));
  layout.tag('1', layout.image([tarOfDir(busyboxRootfs())], { Cmd: ['sh'], Env: ['PATH=/bin'] }));
  push(layout.dir, '1', `${reg.addr}/explain/busybox:1`);
  image = `${reg.addr}/explain/busybox:1`;
});

test.after.always(async () => {
  for (const s of servers) await s.stop();
  await reg?.stop();
});

/** A pod with one short-lived container, start to removal, on a server run with `flags`. */
async function podLife(flags: string[], onServer?: (cri: CriServerHandle) => void): Promise<string> {
  const cri = await startCriServer({ extraArgs: flags });
  onServer?.(cri);
  servers.push(cri);
  await cri.img('PullImage', { image: { image } });
  const config = {
    metadata: { name: 'explained', namespace: 'default', uid: `explain-${servers.length}`, attempt: 0 },
    log_directory: path.join(cri.dir, 'logs'),
    linux: { security_context: { namespace_options: { pid: 'POD' } } },
  };
  const { pod_sandbox_id } = await cri.rt('RunPodSandbox', { config });
  const { container_id } = await cri.rt('CreateContainer', {
    pod_sandbox_id,
    config: { metadata: { name: 'hello' }, image: { image }, command: ['echo', 'hi'], log_path: 'hello.log' },
    sandbox_config: config,
  });
  await cri.rt('StartContainer', { container_id });
  await until(
    'hello to exit',
    async () => ((await cri.rt('ContainerStatus', { container_id })).status.state === 'CONTAINER_EXITED' ? true : undefined),
    30_000,
  );
  await cri.rt('RemovePodSandbox', { pod_sandbox_id });
  return cri.stderr();
}

// The runtime's own steps (in the server) come in between: the pause's start before pod_infra.
const POD_STEPS = [
  'pod_namespaces',
  'pod_shm',
  'pod_network',
  'pod_files',
  'started',
  'pod_infra',
  'container_spec',
  'monitor_started',
  'started',
  'container_exited',
  'pod_stopped',
  'pod_removed',
];

test('cri --explain=json traces a pod from its namespaces to its removal; --explain narrates the same steps in en and ja', async (t) => {
  const events = (await podLife(['--explain=json']))
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as StepEvent)
    .filter((e) => e.kind);
  // PullImage narrates the pull (manifest, blobs, layers) first, as `tsrun pull` does.
  t.true(events.some((e) => e.kind === 'image_resolved'));
  t.deepEqual(
    events.map((e) => e.kind).filter((k) => POD_STEPS.includes(k)),
    POD_STEPS,
  );
  t.regex(events.find((e) => e.kind === 'pod_network')!.detail, /10\.\d+\.\d+\.\d+/);
  t.regex(events.find((e) => e.kind === 'container_exited')!.detail, /exit 0 \(Completed\)/);
  for (const lang of ['en', 'ja'] as const) {
    const text = await podLife(['--explain', '--lang', lang]);
    // Each step's catalog title, in the same order as the JSON events.
    let from = 0;
    const at = POD_STEPS.map((kind) => {
      const i = text.indexOf(`] ${CATALOGS[lang][kind as keyof (typeof CATALOGS)['en']].title}: `, from);
      from = i + 1;
      return i;
    });
    t.false(at.includes(-1), `${lang}: every step is narrated, in order: ${JSON.stringify(at)}`);
  }
});

test('cri --explain=html DIR: one page per pod, its steps as emitted, with the namespaces held by bind mounts, the veth to the bridge, the pod IP and the container joining', async (t) => {
  const json = (await podLife(['--explain=json']))
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as StepEvent)
    .filter((e) => e.kind && e.containerId);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-cri-pictures-'));
  let cri: CriServerHandle | undefined;
  await podLife(['--explain=html', dir, '--lang', 'ja'], (c) => (cri = c));
  const pages = fs.readdirSync(dir);
  t.is(pages.length, 1, 'one page for the one pod');
  t.is(pages[0], 'default_explained.html');
  const browser = await Browser.launch();
  try {
    const page = await browser.open(path.join(dir, pages[0]!));
    t.deepEqual(page.errors, []);
    t.true(page.png.length > 1000);
    const kinds = [...page.dom.matchAll(/<li class="step" data-index="\d+" data-kind="([a-z_A-Z]+)"/g)].map((m) => m[1]);
    // The pod's steps and its container's (not the image pull, which is no pod's), in order.
    t.deepEqual(
      kinds,
      json.map((e) => e.kind),
    );
    for (const kind of ['pod_namespaces', 'pod_network', 'container_exited'] as const)
      for (const lang of ['en', 'ja'] as const) t.true(page.dom.includes(CATALOGS[lang][kind].explain.replace(/&/g, '&amp;')), `${kind} in ${lang}`);
    t.deepEqual(
      [...page.dom.matchAll(/<g class="ns pinned" data-type="([a-z]+)">/g)].map((m) => m[1]),
      ['net', 'ipc', 'uts', 'pid'],
    );
    t.regex(page.dom, new RegExp(`class="bridge">.*?</tspan> ${cri!.bridge}</text>`));
    t.regex(page.dom, /veth pair<\/tspan>.*? veth[0-9a-f]+ ↔ eth0/);
    const ip = /Pod の IP<\/tspan> (10\.\d+\.\d+\.\d+)/.exec(page.dom)?.[1];
    t.truthy(ip, 'the pod IP is drawn');
    t.true(ip!.startsWith(cri!.subnet.split('.').slice(0, 3).join('.') + '.'), `${ip} is in ${cri!.subnet}`);
    t.regex(page.dom, /<g class="member" data-container="[0-9a-f]+">.*?hello.*?: net, ipc, uts, pid<\/text>/);
  } finally {
    await browser.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
