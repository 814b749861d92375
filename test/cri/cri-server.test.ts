// The CRI server driven over gRPC as the kubelet drives it: a pod on a real bridge network,
// containers with logs, exec, stop with a grace period, stats, errors with the right codes,
// and a kill -9 of the server that running containers, exits and logs survive.
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { status } from '@grpc/grpc-js';
import { busyboxRootfs } from '../fixtures/busybox';
import { OciLayout, push, tarOf, tarOfDir } from '../fixtures/oci-builder';
import { PASSWORD, startRegistry, USER, type Registry } from '../fixtures/registry';
import { startCriServer, until, type CriServerHandle } from '../helpers/cri-server';
import { TSRUN } from '../helpers/tsrun';
import { leaseDir } from '../../src/image/gc';
import { ImageStore } from '../../src/image/store/image-store';
import { LayerStore } from '../../src/image/store/layer-store';

let reg: Registry;
let cri: CriServerHandle;
let image: string;
let attempt = 0;

function podConfig(name: string, extra: object = {}) {
  return {
    metadata: { name, namespace: 'default', uid: `uid-${name}-${process.pid}`, attempt: attempt++ },
    hostname: name,
    log_directory: path.join(cri.dir, 'logs', name),
    linux: { security_context: { namespace_options: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } } },
    ...extra,
  };
}

function containerConfig(name: string, args: string[], extra: object = {}) {
  return { metadata: { name }, image: { image }, command: ['sh', '-c'], args, log_path: `${name}.log`, ...extra };
}

async function runPod(name: string, extra: object = {}) {
  const config = podConfig(name, extra);
  const { pod_sandbox_id } = await cri.rt('RunPodSandbox', { config });
  return { id: pod_sandbox_id as string, config };
}

async function runContainer(pod: { id: string; config: object }, name: string, script: string, extra: object = {}) {
  const { container_id } = await cri.rt('CreateContainer', {
    pod_sandbox_id: pod.id,
    config: containerConfig(name, [script], extra),
    sandbox_config: pod.config,
  });
  await cri.rt('StartContainer', { container_id });
  return container_id as string;
}

const statusOf = async (id: string) => (await cri.rt('ContainerStatus', { container_id: id })).status;

test.before(async () => {
  reg = await startRegistry('plain');
  const layout = new OciLayout(fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-cri-oci-')));
  const d = layout.image([tarOfDir(busyboxRootfs())], { Cmd: ['sh'], Env: ['PATH=/bin'] });
  layout.tag('1', d);
  push(layout.dir, '1', `${reg.addr}/cri/busybox:1`);
  image = `${reg.addr}/cri/busybox:1`;
  // Its own top layer: only the lease keeps that one once the image is removed.
  layout.tag(
    'leased',
    layout.image([tarOfDir(busyboxRootfs()), await tarOf([{ name: 'leased.txt', body: Buffer.from(`leased ${process.pid}\n`) }])], {
      Cmd: ['sh'],
      Env: ['PATH=/bin'],
    }),
  );
  push(layout.dir, 'leased', `${reg.addr}/cri/leased:1`);
  // An image whose User no /etc/passwd of it names.
  layout.tag('ghost', layout.image([tarOfDir(busyboxRootfs())], { Cmd: ['sh'], Env: ['PATH=/bin'], User: 'ghost' }));
  push(layout.dir, 'ghost', `${reg.addr}/cri/ghost:1`);
  cri = await startCriServer();
  await cri.img('PullImage', { image: { image } });
});

test.after.always(async () => {
  await cri?.stop();
  await reg?.stop();
});

test.serial('Version and Status answer; the network is ready with a CNI config', async (t) => {
  const v = await cri.rt('Version', {});
  t.is(v.runtime_name, 'tsrun');
  t.is(v.runtime_api_version, 'v1');
  const s = await cri.rt('Status', {});
  const cond = Object.fromEntries(s.status.conditions.map((c: { type: string; status: boolean }) => [c.type, c.status]));
  t.deepEqual(cond, { RuntimeReady: true, NetworkReady: true });
});

test.serial('images: status by tag and id, listed with repo tags and digests', async (t) => {
  const byTag = (await cri.img('ImageStatus', { image: { image } })).image;
  t.truthy(byTag?.id?.startsWith('sha256:'));
  t.deepEqual(byTag.repo_tags, [image]);
  t.regex(byTag.repo_digests[0], /@sha256:[0-9a-f]{64}$/);
  const byId = (await cri.img('ImageStatus', { image: { image: byTag.id } })).image;
  t.is(byId.id, byTag.id);
  const none = await cri.img('ImageStatus', { image: { image: 'nothing/here:1' } });
  t.is(none.image, null);
  const list = await cri.img('ListImages', {});
  t.true(list.images.some((i: { id: string }) => i.id === byTag.id));
});

test.serial('a container created from the image id (as the kubelet creates them) reports the image by name, as the pod status shows it', async (t) => {
  const id = (await cri.img('ImageStatus', { image: { image } })).image.id as string;
  const pod = await runPod('by-id');
  const imageOf = async (spec: object): Promise<{ status: string; listed: string }> => {
    const { container_id } = await cri.rt('CreateContainer', {
      pod_sandbox_id: pod.id,
      config: { metadata: { name: `c${attempt++}` }, image: spec, command: ['true'] },
      sandbox_config: pod.config,
    });
    const listed = (await cri.rt('ListContainers', { filter: { id: container_id } })).containers[0].image.image;
    return { status: (await statusOf(container_id)).image.image, listed };
  };
  // What a kubelet since 1.30 sends: the id to run, the reference the user wrote.
  t.deepEqual(await imageOf({ image: id, user_specified_image: image }), { status: image, listed: image });
  // An older kubelet: the id only; the image's tag, as containerd reports it.
  t.deepEqual(await imageOf({ image: id }), { status: image, listed: image });
  t.deepEqual(await imageOf({ image }), { status: image, listed: image });
  await cri.rt('RemovePodSandbox', { pod_sandbox_id: pod.id });
});

test.serial('PullImage takes the credentials of the request (basic auth); without them the registry refuses', async (t) => {
  const basic = await startRegistry('basic');
  try {
    const layout = new OciLayout(fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-cri-auth-')));
    layout.tag('1', layout.image([tarOfDir(busyboxRootfs())], { Cmd: ['sh'] }));
    push(layout.dir, '1', `${basic.addr}/private/busybox:1`, { creds: `${USER}:${PASSWORD}` });
    const ref = `${basic.addr}/private/busybox:1`;
    const e = (await t.throwsAsync(cri.img('PullImage', { image: { image: ref } }))) as unknown as { details: string };
    t.regex(e.details, /401|unauthorized|denied|credentials/i);
    const r = await cri.img('PullImage', { image: { image: ref }, auth: { username: USER, password: PASSWORD } });
    t.regex(r.image_ref, /^sha256:/);
    const viaAuthField = await cri.img('PullImage', { image: { image: ref }, auth: { auth: Buffer.from(`${USER}:${PASSWORD}`).toString('base64') } });
    t.is(viaAuthField.image_ref, r.image_ref);
    await cri.img('RemoveImage', { image: { image: ref } });
    t.is((await cri.img('ImageStatus', { image: { image: ref } })).image, null);
  } finally {
    await basic.stop();
  }
});

test.serial(
  'PullImage calls at the same time, of one image and of images sharing its layers (a kubelet with serializeImagePulls: false), all succeed',
  async (t) => {
    // A layer big enough that the pulls overlap while it streams, shared by three tags.
    const layout = new OciLayout(fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-cri-parallel-')));
    const big = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-cri-big-'));
    fs.writeFileSync(path.join(big, 'noise'), crypto.randomBytes(24 << 20));
    const shared = [tarOfDir(busyboxRootfs()), tarOfDir(big)];
    const refs: string[] = [];
    for (const tag of ['a', 'b', 'c']) {
      layout.tag(tag, layout.image([...shared, await tarOf([{ name: `tag-${tag}`, body: tag }])], { Cmd: ['sh'] }));
      push(layout.dir, tag, `${reg.addr}/cri/parallel:${tag}`);
      refs.push(`${reg.addr}/cri/parallel:${tag}`);
    }
    fs.rmSync(big, { recursive: true });
    const results = await Promise.allSettled([...refs, refs[0]!].map((ref) => cri.img('PullImage', { image: { image: ref } })));
    t.deepEqual(
      results.map((r) => (r.status === 'rejected' ? String((r.reason as { details?: string }).details ?? r.reason) : 'pulled')),
      ['pulled', 'pulled', 'pulled', 'pulled'],
    );
    for (const ref of refs) {
      t.truthy((await cri.img('ImageStatus', { image: { image: ref } })).image, ref);
      await cri.img('RemoveImage', { image: { image: ref } });
    }
  },
);

test.serial('a pod on the bridge: IP, hostname, DNS, logs in CRI format, exec, HTTP from the host', async (t) => {
  const pod = await runPod('web', { dns_config: { servers: ['192.0.2.53'], searches: ['example.test'], options: ['ndots:2'] } });
  const st = (await cri.rt('PodSandboxStatus', { pod_sandbox_id: pod.id })).status;
  t.is(st.state, 'SANDBOX_READY');
  const ip = st.network.ip as string;
  t.regex(ip, /^10\.\d+\.\d+\.\d+$/);
  const id = await runContainer(pod, 'web', 'echo out-line; echo err-line >&2; printf partial; echo hello > /www/index.html; exec httpd -f -p 8080 -h /www', {
    mounts: [{ container_path: '/www', host_path: path.join(cri.dir, 'www-web') }],
  });
  const cs = await statusOf(id);
  t.is(cs.state, 'CONTAINER_RUNNING');
  const body = await until(
    'httpd',
    () =>
      new Promise<string | undefined>((resolve) => {
        http
          .get({ host: ip, port: 8080, path: '/', timeout: 1000 }, (res) => {
            let b = '';
            res.on('data', (d) => (b += d));
            res.on('end', () => resolve(b));
          })
          .on('error', () => resolve(undefined));
      }),
  );
  t.is(body, 'hello\n');
  const ex = await cri.rt('ExecSync', { container_id: id, cmd: ['sh', '-c', 'hostname; cat /etc/resolv.conf; echo bad >&2; exit 4'], timeout: 10 });
  t.is(ex.exit_code, 4);
  t.is(Buffer.from(ex.stderr).toString(), 'bad\n');
  const out = Buffer.from(ex.stdout).toString();
  t.true(out.startsWith('web\n'));
  t.true(out.includes('nameserver 192.0.2.53') && out.includes('search example.test') && out.includes('options ndots:2'));
  // A timeout bounds the command: past it the command is killed and the call says so.
  const t0 = Date.now();
  const late = (await t.throwsAsync(cri.rt('ExecSync', { container_id: id, cmd: ['sleep', '30'], timeout: 1 }))) as unknown as {
    code: number;
    details: string;
  };
  t.is(late.code, status.DEADLINE_EXCEEDED);
  t.regex(late.details, /timed out after 1s/);
  t.true(Date.now() - t0 < 15_000, 'sleep 30 was killed, not waited for');
  t.is(Buffer.from((await cri.rt('ExecSync', { container_id: id, cmd: ['sh', '-c', 'sleep 0.3; echo in-time'], timeout: 1 })).stdout).toString(), 'in-time\n');
  const log = await until('log lines', async () => {
    const text = fs.existsSync(cs.log_path) ? fs.readFileSync(cs.log_path, 'utf8') : '';
    return text.split('\n').length >= 3 ? text : undefined;
  });
  const lines = log
    .trim()
    .split('\n')
    .map((l) => l.split(' '));
  for (const l of lines) t.regex(l[0]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
  const byStream = (s: string) => lines.filter((l) => l[1] === s).map((l) => `${l[2]} ${l.slice(3).join(' ')}`);
  t.deepEqual(byStream('stdout').slice(0, 1), ['F out-line']);
  t.deepEqual(byStream('stderr'), ['F err-line']);
  const stats = (await cri.rt('ContainerStats', { container_id: id })).stats;
  t.true(Number(stats.memory.working_set_bytes.value) > 0);
  t.true(Number(stats.cpu.usage_core_nano_seconds.value) > 0);
  await cri.rt('RemovePodSandbox', { pod_sandbox_id: pod.id });
  t.false(fs.existsSync(path.join(cri.runDir, 'pods', pod.id)));
  await t.throwsAsync(cri.rt('ContainerStatus', { container_id: id }), { message: /NOT_FOUND|not found/ });
});

test.serial('StopContainer: the stop signal, then its exit code; SIGKILL after the grace period', async (t) => {
  const pod = await runPod('stopper');
  const polite = await runContainer(pod, 'polite', 'trap "exit 3" TERM; while true; do sleep 0.1; done');
  const stubborn = await runContainer(pod, 'stubborn', 'trap "" TERM; while true; do sleep 0.1; done');
  await cri.rt('StopContainer', { container_id: polite, timeout: 10 });
  const p = await statusOf(polite);
  t.is(p.state, 'CONTAINER_EXITED');
  t.is(p.exit_code, 3);
  t.is(p.reason, 'Error');
  await cri.rt('StopContainer', { container_id: stubborn, timeout: 1 });
  const s = await statusOf(stubborn);
  t.is(s.exit_code, 137);
  t.true(BigInt(s.finished_at) > BigInt(s.started_at));
  const done = await runContainer(pod, 'done', 'exit 0');
  const d = await until('exit', async () => {
    const st = await statusOf(done);
    return st.state === 'CONTAINER_EXITED' ? st : undefined;
  });
  t.is(d.reason, 'Completed');
  await cri.rt('StopPodSandbox', { pod_sandbox_id: pod.id });
  t.is((await cri.rt('PodSandboxStatus', { pod_sandbox_id: pod.id })).status.state, 'SANDBOX_NOTREADY');
  await cri.rt('RemovePodSandbox', { pod_sandbox_id: pod.id });
});

test.serial('a container that exits at once was started no later than it finished (startedAt <= finishedAt)', async (t) => {
  const pod = await runPod('quick');
  for (let i = 0; i < 5; i++) {
    const { container_id } = await cri.rt('CreateContainer', {
      pod_sandbox_id: pod.id,
      config: { metadata: { name: `true-${i}` }, image: { image }, command: ['true'], log_path: `true-${i}.log` },
      sandbox_config: pod.config,
    });
    await cri.rt('StartContainer', { container_id });
    const st = await until('exit', async () => {
      const x = await statusOf(container_id);
      return x.state === 'CONTAINER_EXITED' ? x : undefined;
    });
    t.true(BigInt(st.started_at) > 0n);
    t.true(BigInt(st.started_at) <= BigInt(st.finished_at), `try ${i}: started ${st.started_at}, finished ${st.finished_at}`);
  }
  await cri.rt('StopPodSandbox', { pod_sandbox_id: pod.id });
  await cri.rt('RemovePodSandbox', { pod_sandbox_id: pod.id });
});

test.serial('GetContainerEvents streams each change with the pod status; pod stats sum the containers', async (t) => {
  const seen: { type: string; id: string; podState?: string }[] = [];
  const stream = (cri.runtimeClient as unknown as { GetContainerEvents(req: object): NodeJS.EventEmitter & { cancel(): void } }).GetContainerEvents({});
  stream.on('data', (e: { container_id: string; container_event_type: string; pod_sandbox_status: { state: string } | null }) =>
    seen.push({ type: e.container_event_type, id: e.container_id, podState: e.pod_sandbox_status?.state }),
  );
  stream.on('error', () => {});
  await new Promise((r) => setTimeout(r, 200));
  const pod = await runPod('evented');
  const id = await runContainer(pod, 'short', 'sleep 0.5');
  await until('stopped event', async () => (seen.some((e) => e.id === id && e.type === 'CONTAINER_STOPPED_EVENT') ? true : undefined));
  const stats = (await cri.rt('ListPodSandboxStats', {})).stats.find((s: { attributes: { id: string } }) => s.attributes.id === pod.id);
  t.truthy(stats?.linux?.cpu);
  await cri.rt('RemovePodSandbox', { pod_sandbox_id: pod.id });
  await until('deleted event', async () => (seen.some((e) => e.id === id && e.type === 'CONTAINER_DELETED_EVENT') ? true : undefined));
  stream.cancel();
  t.deepEqual(
    seen.filter((e) => e.id === id).map((e) => e.type),
    ['CONTAINER_CREATED_EVENT', 'CONTAINER_STARTED_EVENT', 'CONTAINER_STOPPED_EVENT', 'CONTAINER_DELETED_EVENT'],
  );
  t.is(seen.find((e) => e.id === id)!.podState, 'SANDBOX_READY');
});

interface WireMetric {
  name: string;
  metric_type: string;
  label_values: string[];
  value: { value: string };
}

test.serial('ListPodSandboxMetrics: cAdvisor metrics of each container and of the pod network, labelled as ListMetricDescriptors says', async (t) => {
  const descriptors = (await cri.rt('ListMetricDescriptors', {})).descriptors as { name: string; label_keys: string[] }[];
  const keysOf = new Map(descriptors.map((d) => [d.name, d.label_keys]));
  for (const name of [
    'container_cpu_usage_seconds_total',
    'container_memory_working_set_bytes',
    'container_network_receive_bytes_total',
    'container_oom_events_total',
  ])
    t.true(keysOf.has(name), name);
  t.deepEqual(keysOf.get('container_cpu_usage_seconds_total'), ['id', 'image', 'namespace', 'pod', 'container', 'cpu']);

  const pod = await runPod('metered');
  const ip = (await cri.rt('PodSandboxStatus', { pod_sandbox_id: pod.id })).status.network.ip as string;
  // 24 MiB in the pod's /dev/shm (charged to the container's memory cgroup), and a busy loop.
  const id = await runContainer(pod, 'burner', 'dd if=/dev/zero of=/dev/shm/fill bs=1M count=24 2>/dev/null; while :; do :; done', {
    linux: { resources: { memory_limit_in_bytes: String(256 << 20), cpu_shares: '512' } },
  });
  const metricsOf = async () => {
    const pm = (await cri.rt('ListPodSandboxMetrics', {})).pod_metrics.find((p: { pod_sandbox_id: string }) => p.pod_sandbox_id === pod.id);
    const mine = pm?.container_metrics.find((c: { container_id: string }) => c.container_id === id);
    return { pod: (pm?.metrics ?? []) as WireMetric[], container: (mine?.metrics ?? []) as WireMetric[] };
  };
  const value = (ms: WireMetric[], name: string, ...own: string[]) => {
    const m = ms.find((x) => x.name === name && own.every((v, i) => x.label_values[5 + i] === v));
    return m ? Number(m.value.value) : undefined;
  };
  const m = await until(
    'a second of CPU time',
    async () => {
      const got = await metricsOf();
      return (value(got.container, 'container_cpu_usage_seconds_total', 'total') ?? 0) >= 1 ? got : undefined;
    },
    60_000,
  );
  for (const x of [...m.container, ...m.pod]) t.is(x.label_values.length, keysOf.get(x.name)?.length ?? -1, `${x.name} has a value for each label key`);
  const labels = m.container.find((x) => x.name === 'container_memory_usage_bytes')!.label_values;
  t.deepEqual(labels, [id, image, 'default', 'metered', 'burner']);
  t.true(value(m.container, 'container_memory_usage_bytes')! >= 24 << 20);
  t.true(value(m.container, 'container_memory_working_set_bytes')! >= 24 << 20);
  t.is(value(m.container, 'container_spec_memory_limit_bytes'), 256 << 20);
  t.is(value(m.container, 'container_spec_cpu_shares'), 512);
  t.true(value(m.container, 'container_processes')! >= 1);
  t.is(value(m.container, 'container_oom_events_total'), 0);
  t.is(m.container.find((x) => x.name === 'container_cpu_usage_seconds_total')!.metric_type, 'COUNTER');

  // The pod's eth0 counts what the host sends it: 20 datagrams of 1000 bytes (nothing listens).
  const rxBefore = value(m.pod, 'container_network_receive_bytes_total', 'eth0');
  t.is(
    m.pod
      .find((x) => x.name === 'container_network_receive_bytes_total')!
      .label_values.slice(0, 5)
      .join(' '),
    `${pod.id}  default metered POD`,
  );
  const sock = dgram.createSocket('udp4');
  for (let i = 0; i < 20; i++) await new Promise((r) => sock.send(Buffer.alloc(1000), 9999, ip, r));
  sock.close();
  const rxAfter = await until('the datagrams counted', async () => {
    const v = value((await metricsOf()).pod, 'container_network_receive_bytes_total', 'eth0')!;
    return v >= rxBefore! + 20_000 ? v : undefined;
  });
  t.true(rxAfter >= rxBefore! + 20_000);
  await cri.rt('RemovePodSandbox', { pod_sandbox_id: pod.id });
  t.falsy((await cri.rt('ListPodSandboxMetrics', {})).pod_metrics.find((p: { pod_sandbox_id: string }) => p.pod_sandbox_id === pod.id));
});

test.serial('UpdatePodSandboxResources: a pod cgroup the server made takes the limits plus overhead; the config keeps them', async (t) => {
  const mib = (n: number) => String(n << 20);
  const pod = await runPod('resized', {
    linux: { security_context: { namespace_options: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } }, resources: { memory_limit_in_bytes: mib(128) } },
  });
  const info = async () => JSON.parse((await cri.rt('PodSandboxStatus', { pod_sandbox_id: pod.id, verbose: true })).info.info);
  const parent = (await info()).cgroupParent as string;
  const v1 = fs.existsSync('/sys/fs/cgroup/memory/memory.limit_in_bytes');
  const limitFile = v1 ? `/sys/fs/cgroup/memory${parent}/memory.limit_in_bytes` : `/sys/fs/cgroup${parent}/memory.max`;
  t.is(fs.readFileSync(limitFile, 'utf8').trim(), mib(128), 'RunPodSandbox applies the pod resources');
  await cri.rt('UpdatePodSandboxResources', {
    pod_sandbox_id: pod.id,
    overhead: { memory_limit_in_bytes: mib(16) },
    resources: { memory_limit_in_bytes: mib(256) },
  });
  t.is(fs.readFileSync(limitFile, 'utf8').trim(), mib(256 + 16));
  const kept = (await info()).config.linux;
  t.is(kept.resources.memory_limit_in_bytes, mib(256));
  t.is(kept.overhead.memory_limit_in_bytes, mib(16));
  const err = (await t.throwsAsync(cri.rt('UpdatePodSandboxResources', { pod_sandbox_id: 'no-such-pod', resources: {} }))) as unknown as { code: number };
  t.is(err.code, status.NOT_FOUND);
  await cri.rt('RemovePodSandbox', { pod_sandbox_id: pod.id });
  t.false(fs.existsSync(path.dirname(limitFile)), 'the pod cgroup goes with the pod');
});

test.serial(
  "--restrict-oom-score-adj: a Guaranteed container asking oom_score_adj -997 runs with the server's own instead, on a host that refuses lowering it",
  async (t) => {
    // Lowering oom_score_adj needs CAP_SYS_RESOURCE (bit 24 of the bounding set).
    const canLower = (BigInt(`0x${/^CapBnd:\s+([0-9a-f]+)/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1]}`) >> 24n) & 1n;
    const guaranteed = { linux: { resources: { oom_score_adj: '-997' } } };
    if (!canLower) {
      const pod = await runPod('oom-plain');
      const e = (await t.throwsAsync(runContainer(pod, 'c', 'sleep 60', guaranteed))) as unknown as { details: string };
      t.regex(e.details, /oom_score_adj to -997 .*CAP_SYS_RESOURCE/);
      await cri.rt('StopPodSandbox', { pod_sandbox_id: pod.id });
      await cri.rt('RemovePodSandbox', { pod_sandbox_id: pod.id });
    }
    const restricted = await startCriServer({ extraArgs: ['--restrict-oom-score-adj'] });
    try {
      await restricted.img('PullImage', { image: { image } });
      const config = podConfig('oom-restricted');
      const { pod_sandbox_id } = await restricted.rt('RunPodSandbox', { config });
      const { container_id } = await restricted.rt('CreateContainer', {
        pod_sandbox_id,
        config: containerConfig('c', ['sleep 60'], guaranteed),
        sandbox_config: config,
      });
      await restricted.rt('StartContainer', { container_id });
      const pid = JSON.parse((await restricted.rt('ContainerStatus', { container_id, verbose: true })).info.info).pid;
      const own = fs.readFileSync(`/proc/${restricted.proc.pid}/oom_score_adj`, 'utf8').trim();
      t.is(fs.readFileSync(`/proc/${pid}/oom_score_adj`, 'utf8').trim(), own);
      // Above the server's own, it is set as asked.
      const { container_id: burstable } = await restricted.rt('CreateContainer', {
        pod_sandbox_id,
        config: containerConfig('b', ['sleep 60'], { linux: { resources: { oom_score_adj: '937' } } }),
        sandbox_config: config,
      });
      await restricted.rt('StartContainer', { container_id: burstable });
      const bpid = JSON.parse((await restricted.rt('ContainerStatus', { container_id: burstable, verbose: true })).info.info).pid;
      t.is(fs.readFileSync(`/proc/${bpid}/oom_score_adj`, 'utf8').trim(), '937');
    } finally {
      await restricted.stop();
    }
  },
);

test.serial('bad requests get the status codes the kubelet acts on', async (t) => {
  const code = async (p: Promise<unknown>) => ((await t.throwsAsync(p)) as unknown as { code: number }).code;
  t.is(await code(cri.rt('ContainerStatus', { container_id: 'nope' })), status.NOT_FOUND);
  t.is(await code(cri.rt('PodSandboxStatus', { pod_sandbox_id: 'nope' })), status.NOT_FOUND);
  t.is(await code(cri.rt('RunPodSandbox', { config: { metadata: { name: 'x' } } })), status.INVALID_ARGUMENT);
  const pod = await runPod('conflicts');
  t.is(await code(cri.rt('RunPodSandbox', { config: pod.config })), status.ALREADY_EXISTS);
  await cri.rt('CreateContainer', { pod_sandbox_id: pod.id, config: containerConfig('c', ['sleep 100']), sandbox_config: pod.config });
  t.is(
    await code(cri.rt('CreateContainer', { pod_sandbox_id: pod.id, config: containerConfig('c', ['sleep 100']), sandbox_config: pod.config })),
    status.ALREADY_EXISTS,
  );
  const badCaps = containerConfig('caps', ['true'], { linux: { security_context: { capabilities: { add_capabilities: ['NOT_A_CAP'] } } } });
  const e = (await t.throwsAsync(cri.rt('CreateContainer', { pod_sandbox_id: pod.id, config: badCaps, sandbox_config: pod.config }))) as unknown as {
    code: number;
    details: string;
  };
  t.is(e.code, status.INVALID_ARGUMENT);
  t.regex(e.details, /NOT_A_CAP/);
  t.is(
    await code(
      cri.rt('CreateContainer', {
        pod_sandbox_id: pod.id,
        config: { ...containerConfig('img', ['true']), image: { image: 'missing/image:1' } },
        sandbox_config: pod.config,
      }),
    ),
    status.NOT_FOUND,
  );
  // Stopping and removing what does not exist succeeds, as the kubelet expects of retries.
  await cri.rt('StopContainer', { container_id: 'nope', timeout: 1 });
  await cri.rt('StopPodSandbox', { pod_sandbox_id: 'nope' });
  await cri.rt('RemoveContainer', { container_id: 'nope' });
  await cri.rt('RemovePodSandbox', { pod_sandbox_id: 'nope' });
  await cri.rt('RemovePodSandbox', { pod_sandbox_id: pod.id });
  // Nothing left of the failed creations, nor (once its background removal is done) of the
  // created one that went with the pod.
  await until("the removed container's files gone", async () => (fs.readdirSync(path.join(cri.stateDir, 'containers')).length === 0 ? true : undefined));
});

test.serial('hostile names and paths are refused up front with InvalidArgument naming the field, and leave nothing', async (t) => {
  const refused = async (p: Promise<unknown>, field: RegExp) => {
    const e = (await t.throwsAsync(p)) as unknown as { code: number; details: string };
    t.is(e.code, status.INVALID_ARGUMENT, e.details);
    t.regex(e.details, field);
  };
  const huge = 'x'.repeat(1 << 20);
  await refused(cri.rt('RunPodSandbox', { config: podConfig(huge) }), /config\.metadata\.name: 1048576 bytes, more than 253/);
  await refused(cri.rt('RunPodSandbox', { config: podConfig('nul\0name') }), /config\.metadata\.name .* control character/);
  await refused(cri.rt('RunPodSandbox', { config: podConfig('lone-\uD800') }), /config\.metadata\.name: not valid UTF-8/);
  const pod = await runPod('hostile');
  const outside = path.join(path.dirname(cri.dir), `escaped-${process.pid}.log`);
  await refused(
    cri.rt('CreateContainer', {
      pod_sandbox_id: pod.id,
      config: { ...containerConfig('esc', ['true']), log_path: `../../${path.basename(outside)}` },
      sandbox_config: pod.config,
    }),
    /log_path .* leaves the pod's log_directory/,
  );
  await refused(
    cri.rt('CreateContainer', {
      pod_sandbox_id: pod.id,
      config: { ...containerConfig('abs', ['true']), log_path: '/etc/evil.log' },
      sandbox_config: pod.config,
    }),
    /log_path .* must be relative/,
  );
  await refused(
    cri.rt('CreateContainer', { pod_sandbox_id: pod.id, config: containerConfig(huge, ['true']), sandbox_config: pod.config }),
    /config\.metadata\.name: 1048576 bytes/,
  );
  // Found by fuzzing (fuzz/targets/cri-specgen): a relative host path was made relative to the
  // server's cwd, a NUL in one escaped as a TypeError, a relative masked path failed only at start.
  const relative = `relative-${process.pid}`;
  await refused(
    cri.rt('CreateContainer', {
      pod_sandbox_id: pod.id,
      config: containerConfig('rel', ['true'], { mounts: [{ container_path: '/data', host_path: relative }] }),
      sandbox_config: pod.config,
    }),
    /mounts\[0\]\.host_path "relative-\d+": must be an absolute path/,
  );
  await refused(
    cri.rt('CreateContainer', {
      pod_sandbox_id: pod.id,
      config: containerConfig('nul', ['true'], { mounts: [{ container_path: '/data', host_path: '/tmp/a\0b' }] }),
      sandbox_config: pod.config,
    }),
    /mounts\[0\]\.host_path: holds a NUL byte/,
  );
  await refused(
    cri.rt('CreateContainer', {
      pod_sandbox_id: pod.id,
      config: containerConfig('mask', ['true'], { linux: { security_context: { masked_paths: ['proc/kcore'] } } }),
      sandbox_config: pod.config,
    }),
    /linux\.maskedPaths\[0\]: must be an absolute path/,
  );
  t.false(fs.existsSync(path.join(process.cwd(), relative)), 'no directory made relative to the server');
  t.false(fs.existsSync(outside), 'no log outside the log directory');
  t.deepEqual(fs.readdirSync(path.join(cri.stateDir, 'containers')), [], 'no container was made');
  await cri.rt('RemovePodSandbox', { pod_sandbox_id: pod.id });
});

test.serial('kill -9 of the server: containers keep running, exits while down are kept, logs have no gap', async (t) => {
  const pod = await runPod('survivor');
  const ticker = await runContainer(pod, 'ticker', 'i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done');
  const quitter = await runContainer(pod, 'quitter', 'sleep 1; echo bye; exit 7');
  const logPath = (await statusOf(ticker)).log_path as string;
  await cri.crash();
  // The quitter's monitor records its exit while no server runs.
  await until(
    'the quitter to exit while the server is down',
    async () => (fs.existsSync(path.join(cri.runDir, 'm', quitter, 'exit.json')) ? true : undefined),
    30_000,
  );
  await cri.restart();
  const q = await statusOf(quitter);
  t.is(q.state, 'CONTAINER_EXITED');
  t.is(q.exit_code, 7);
  t.is((await statusOf(ticker)).state, 'CONTAINER_RUNNING');
  t.is((await cri.rt('PodSandboxStatus', { pod_sandbox_id: pod.id })).status.state, 'SANDBOX_READY');
  const ticks = await until('ticks logged across the restart', async () => {
    const n = fs
      .readFileSync(logPath, 'utf8')
      .trim()
      .split('\n')
      .map((l) => Number(l.split(' ').pop()));
    return n.length > 10 ? n : undefined;
  });
  t.true(ticks.length > 10);
  t.deepEqual(
    ticks,
    ticks.map((_, i) => i),
    'every tick is in the log, in order',
  );
  const ex = await cri.rt('ExecSync', { container_id: ticker, cmd: ['echo', 'still here'], timeout: 10 });
  t.is(Buffer.from(ex.stdout).toString(), 'still here\n');
  await cri.rt('RemovePodSandbox', { pod_sandbox_id: pod.id });
  const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  t.false(mounts.includes(pod.id), 'no mount of the pod is left');
  t.false(spawnSync('ip', ['netns', 'list']).stdout.toString().includes(pod.id));
  void execFileSync;
});

const recordOf = (kind: 'containers' | 'sandboxes', id: string) => JSON.parse(fs.readFileSync(path.join(cri.stateDir, kind, id, 'record.json'), 'utf8'));
const alive = (pid: number) => fs.existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));

test.serial('a container whose monitor is killed is EXITED 255 (Unknown), its process stopped, never RUNNING for ever', async (t) => {
  const pod = await runPod('orphan');
  const id = await runContainer(pod, 'orphan', 'exec sleep 300');
  const rec = recordOf('containers', id);
  t.is(rec.version, 1, 'records carry their version');
  process.kill(rec.monitor.pid, 'SIGKILL');
  const st = await until('the lost monitor seen', async () => {
    const s = await statusOf(id);
    return s.state === 'CONTAINER_EXITED' ? s : undefined;
  });
  t.is(st.exit_code, 255);
  t.is(st.reason, 'Unknown');
  t.regex(st.message, /monitor is gone/);
  await until('the orphaned process killed', async () => (alive(rec.pid) ? undefined : true));
  await cri.rt('RemoveContainer', { container_id: id });
  await cri.rt('StopPodSandbox', { pod_sandbox_id: pod.id });
  await cri.rt('RemovePodSandbox', { pod_sandbox_id: pod.id });
});

test.serial(
  'a simulated reboot (server, monitors and inits killed, run dir emptied): pods NOTREADY, containers EXITED, and Stop/Remove clean up everything',
  async (t) => {
    const pod = await runPod('rebooted', { linux: { security_context: { namespace_options: { network: 'POD', pid: 'POD', ipc: 'POD' } } } });
    const id = await runContainer(pod, 'app', 'exec sleep 300');
    const c = recordOf('containers', id);
    const s = recordOf('sandboxes', pod.id);
    t.truthy(s.infra, 'the pod has a pause (shared PID namespace)');
    await cri.crash();
    // What a power cut does: every process gone, every mount gone, /run empty.
    for (const pid of [c.monitor.pid, s.infra.monitor.pid, c.pid, s.infra.pid]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await until('every process of the pod gone', async () => ([c.pid, s.infra.pid].some(alive) ? undefined : true));
    const ours = () =>
      fs
        .readFileSync('/proc/self/mountinfo', 'utf8')
        .split('\n')
        .map((l) => l.split(' ')[4] ?? '')
        .filter((m) => m.startsWith(cri.runDir) || m.startsWith(cri.stateDir));
    for (const m of ours().sort((a, b) => b.length - a.length)) spawnSync('umount', ['-l', m]);
    fs.rmSync(cri.runDir, { recursive: true, force: true });
    await cri.restart();
    t.is((await cri.rt('PodSandboxStatus', { pod_sandbox_id: pod.id })).status.state, 'SANDBOX_NOTREADY');
    const st = await statusOf(id);
    t.is(st.state, 'CONTAINER_EXITED');
    t.is(st.exit_code, 255);
    t.is(st.reason, 'Unknown');
    await cri.rt('StopPodSandbox', { pod_sandbox_id: pod.id });
    await cri.rt('RemovePodSandbox', { pod_sandbox_id: pod.id });
    t.deepEqual(
      (await cri.rt('ListContainers', {})).containers.filter((x: { pod_sandbox_id: string }) => x.pod_sandbox_id === pod.id),
      [],
    );
    t.false(fs.existsSync(path.join(cri.stateDir, 'containers', id)), 'the container record is gone');
    t.false(fs.existsSync(path.join(cri.stateDir, 'sandboxes', pod.id)), 'the pod record is gone');
    t.deepEqual(
      ours().filter((m) => m.includes(pod.id) || m.includes(id)),
      [],
      'no mount left',
    );
    for (const hier of fs.readdirSync('/sys/fs/cgroup')) {
      const base = path.join('/sys/fs/cgroup', hier, c.cgroupsPath);
      t.false(fs.existsSync(base), `the container cgroup ${base} is gone`);
    }
  },
);

test.serial("the runtime state of CRI containers is the runtime's: tsrun --root <run dir>/runtime list, state, ps and kill work on them", async (t) => {
  const pod = await runPod('cli-view');
  const id = await runContainer(pod, 'viewed', 'exec sleep 300');
  const root = path.join(cri.runDir, 'runtime');
  const cli = (args: string[]) => spawnSync(TSRUN, ['--root', root, ...args], { encoding: 'utf8' });
  t.regex(cli(['list']).stdout, new RegExp(`^${id} +\\d+ +running `, 'm'));
  t.is(JSON.parse(cli(['state', id]).stdout).status, 'running');
  t.regex(cli(['ps', id]).stdout, /sleep 300/);
  t.is(cli(['kill', id, 'KILL']).status, 0);
  const st = await until('the kill seen through the CRI', async () => {
    const s = await statusOf(id);
    return s.state === 'CONTAINER_EXITED' ? s : undefined;
  });
  t.is(st.exit_code, 137);
  await cri.rt('StopPodSandbox', { pod_sandbox_id: pod.id });
  await cri.rt('RemovePodSandbox', { pod_sandbox_id: pod.id });
});

const mounted = (p: string) =>
  fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[4] === p);

test.serial(
  "CreateContainer prepares and StartContainer makes the runtime's container, as containerd splits them: a runtime failure is a StartError; resources updated before the start apply; Stop leaves a created container created",
  async (t) => {
    const pod = await runPod('split');
    const root = path.join(cri.runDir, 'runtime');
    const listed = () => spawnSync(TSRUN, ['--root', root, 'list', '-q'], { encoding: 'utf8' }).stdout.split('\n');
    // A file bind-mounted over a directory: nothing before the kernel refuses it.
    const bad = containerConfig('bad-mount', ['true'], { mounts: [{ container_path: '/bin', host_path: '/etc/hostname' }] });
    const { container_id: badId } = await cri.rt('CreateContainer', { pod_sandbox_id: pod.id, config: bad, sandbox_config: pod.config });
    t.is((await statusOf(badId)).state, 'CONTAINER_CREATED');
    t.false(listed().includes(badId), 'no runtime container before the start');
    const e = (await t.throwsAsync(cri.rt('StartContainer', { container_id: badId }))) as unknown as { details: string };
    t.regex(e.details, /mounts\[\d+\]/, 'the error names the mount');
    const st = await statusOf(badId);
    t.like(st, { state: 'CONTAINER_EXITED', exit_code: 128, reason: 'StartError' });
    t.false(listed().includes(badId), 'nothing of the failed start is left in the runtime');

    const { container_id: id } = await cri.rt('CreateContainer', {
      pod_sandbox_id: pod.id,
      config: containerConfig('sized', ['exec sleep 300']),
      sandbox_config: pod.config,
    });
    await cri.rt('UpdateContainerResources', { container_id: id, linux: { memory_limit_in_bytes: String(64 << 20) } });
    await cri.rt('StopContainer', { container_id: id, timeout: 5 });
    t.is((await statusOf(id)).state, 'CONTAINER_CREATED', 'stopping a container that never started leaves it created');
    await cri.rt('StartContainer', { container_id: id });
    t.true(listed().includes(id));
    const cgroupsPath = JSON.parse((await cri.rt('ContainerStatus', { container_id: id, verbose: true })).info.info).cgroupsPath as string;
    t.is(fs.readFileSync(path.join('/sys/fs/cgroup/memory', cgroupsPath, 'memory.limit_in_bytes'), 'utf8').trim(), String(64 << 20));
    await cri.rt('StopPodSandbox', { pod_sandbox_id: pod.id });
    await cri.rt('RemovePodSandbox', { pod_sandbox_id: pod.id });
  },
);

test.serial(
  "at its exit a container's runtime resources are released (cgroup, runtime state, rootfs mount) while its status and log stay; Remove forgets it at once, its files go in the background, and what a crash left of such removals is swept at start-up",
  async (t) => {
    const pod = await runPod('released');
    const id = await runContainer(pod, 'brief', 'echo done; exit 3');
    const info = JSON.parse((await cri.rt('ContainerStatus', { container_id: id, verbose: true })).info.info) as { cgroupsPath: string; bundle: string };
    const root = path.join(cri.runDir, 'runtime');
    await until('the exit and the release', async () => {
      const s = await statusOf(id);
      if (s.state !== 'CONTAINER_EXITED') return undefined;
      const cgroupLeft = fs.readdirSync('/sys/fs/cgroup').some((h) => fs.existsSync(path.join('/sys/fs/cgroup', h, info.cgroupsPath)));
      return !cgroupLeft && !fs.existsSync(path.join(root, id)) && !mounted(path.join(info.bundle, 'rootfs')) ? true : undefined;
    });
    t.like(await statusOf(id), { state: 'CONTAINER_EXITED', exit_code: 3, reason: 'Error' });
    const logs = fs.readFileSync(path.join(pod.config.log_directory, 'brief.log'), 'utf8');
    t.regex(logs, / stdout F done\n/);
    await cri.rt('RemoveContainer', { container_id: id });
    t.is(((await t.throwsAsync(statusOf(id))) as unknown as { code: number }).code, status.NOT_FOUND, 'forgotten at once');
    await until('its files removed', async () =>
      fs.existsSync(path.dirname(info.bundle)) || fs.readdirSync(path.join(cri.stateDir, 'containers')).some((n) => n.includes(id)) ? undefined : true,
    );

    // A server killed while removing leaves its trash behind; the next start removes it.
    const leftovers = [path.join(cri.stateDir, 'containers', '.trash-leftover'), path.join(cri.runDir, 'm', '.trash-leftover')];
    for (const d of leftovers) {
      fs.mkdirSync(path.join(d, 'deep'), { recursive: true });
      fs.writeFileSync(path.join(d, 'deep', 'file'), 'x');
    }
    await cri.crash();
    await cri.restart();
    await until('the leftovers swept', async () => (leftovers.some((d) => fs.existsSync(d)) ? undefined : true));
    t.pass();
    await cri.rt('StopPodSandbox', { pod_sandbox_id: pod.id });
    await cri.rt('RemovePodSandbox', { pod_sandbox_id: pod.id });
  },
);

test.serial("a container's image lease lost to a power cut is taken again at start-up: removing the image keeps the layers under the container", async (t) => {
  const leased = `${reg.addr}/cri/leased:1`;
  await cri.img('PullImage', { image: { image: leased } });
  const own = new ImageStore(cri.store).find(leased)!.diffIds.at(-1)!;
  const pod = await runPod('leased');
  const id = await runContainer(pod, 'app', 'exec sleep 300', { image: { image: leased } });
  await cri.crash();
  // What a power cut may do to a lease written without fsync: it is gone.
  fs.rmSync(leaseDir(cri.store), { recursive: true, force: true });
  await cri.restart();
  await cri.img('RemoveImage', { image: { image: leased } });
  const layers = new LayerStore(cri.store);
  t.true(layers.has(own), 'the layer only the running container uses stays');
  t.is((await statusOf(id)).state, 'CONTAINER_RUNNING');
  await cri.rt('StopPodSandbox', { pod_sandbox_id: pod.id });
  await cri.rt('RemovePodSandbox', { pod_sandbox_id: pod.id });
});

test.serial(
  'an image user the request overrides with run_as_user is never looked up (an image naming a user it lacks still runs as the uid asked)',
  async (t) => {
    const ghost = `${reg.addr}/cri/ghost:1`;
    await cri.img('PullImage', { image: { image: ghost } });
    const pod = await runPod('ghost');
    const id = await runContainer(pod, 'asked', 'id -u; id -g', {
      image: { image: ghost },
      linux: { security_context: { run_as_user: { value: 1000 }, run_as_group: { value: 1000 } } },
    });
    await until('the output', async () => ((await statusOf(id)).state === 'CONTAINER_EXITED' ? true : undefined));
    t.regex(fs.readFileSync(path.join(pod.config.log_directory, 'asked.log'), 'utf8'), /stdout F 1000\n.*stdout F 1000\n/s);
    // Without the override the image's own user is still resolved, and its absence is an error.
    const e = (await t.throwsAsync(
      cri.rt('CreateContainer', { pod_sandbox_id: pod.id, config: containerConfig('own', ['true'], { image: { image: ghost } }), sandbox_config: pod.config }),
    )) as unknown as { details: string };
    t.regex(e.details, /ghost/);
    await cri.rt('StopPodSandbox', { pod_sandbox_id: pod.id });
    await cri.rt('RemovePodSandbox', { pod_sandbox_id: pod.id });
  },
);
