// The real kubelet (k8s.io/kubernetes v1.34, scripts/install-kubernetes.sh), standalone with no API
// server, drives tsrun's CRI server from a static Pod manifest shaped like an nginx Deployment's
// pod template: it pulls the image, runs the pod on the bridge network with a hostPort, restarts
// the container when it dies, and tears the pod down when the manifest goes away.
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CRI_IMAGE, ensureCriImages } from '../fixtures/cri-images';
import { startCriServer, type CriServerHandle } from '../helpers/cri-server';
import { freePort, httpGet, kubeletBin, startKubelet, type KubeletHandle } from '../helpers/kubelet';
import { tsrun } from '../helpers/tsrun';

const KUBELET = kubeletBin();
// The lane runs this file once more in a guest whose PID 1 is systemd, with both the CRI server
// (tsrun --systemd-cgroup cri) and the kubelet on the systemd cgroup driver.
const SYSTEMD = process.env['TSRUN_TEST_CGROUP_DRIVER'] === 'systemd';
const NODE = `tsrun-node-${process.pid}`;
const POD = 'web'; // the kubelet names a static pod <name>-<node>
const POD_NAME = `${POD}-${NODE}`;
let cri: CriServerHandle | undefined;
let kubelet: KubeletHandle | undefined;
let hostPort = 0;

interface Sandbox {
  id: string;
  state: string;
  labels: Record<string, string>;
}
interface Container {
  id: string;
  state: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms: number): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end)
      throw new Error(
        `timed out after ${ms} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}\n--- kubelet log (tail) ---\n${kubelet?.log().slice(-4000) ?? ''}`,
      );
    await new Promise((r) => setTimeout(r, 500));
  }
}

const sandboxes = async (): Promise<Sandbox[]> =>
  (await cri!.rt('ListPodSandbox', { filter: { label_selector: { 'io.kubernetes.pod.name': POD_NAME } } })).items;
const containers = async (sandboxId: string): Promise<Container[]> => (await cri!.rt('ListContainers', { filter: { pod_sandbox_id: sandboxId } })).containers;

async function runningNginx(): Promise<{ sandbox: Sandbox; container: Container } | undefined> {
  const sandbox = (await sandboxes()).find((s) => s.state === 'SANDBOX_READY');
  if (!sandbox) return undefined;
  const container = (await containers(sandbox.id)).find((c) => c.labels['io.kubernetes.container.name'] === 'nginx' && c.state === 'CONTAINER_RUNNING');
  return container ? { sandbox, container } : undefined;
}

async function podIp(sandboxId: string): Promise<string> {
  return (await cri!.rt('PodSandboxStatus', { pod_sandbox_id: sandboxId })).status.network.ip;
}

const answers = (url: string) => async (): Promise<string | undefined> => {
  const r = await httpGet(url);
  return r.status === 200 && r.body.includes('Welcome to nginx!') ? r.body : undefined;
};

test.before(async (t) => {
  t.timeout(10 * 60_000, 'images, CRI server and kubelet start');
  if (!KUBELET) return;
  const { mirrorDir } = await ensureCriImages();
  cri = await startCriServer({ registryConfig: mirrorDir, systemd: SYSTEMD });
  kubelet = await startKubelet({ criSocket: cri.socket, name: NODE, cgroupDriver: SYSTEMD ? 'systemd' : 'cgroupfs' });
  hostPort = await freePort();
});

test.after.always(async () => {
  // The kubelet first (or it would recreate what is removed below), then every pod through
  // the CRI, then the kubelet's cgroup tree, once nothing is left in it.
  try {
    await kubelet?.stop();
    await cri?.stop();
    kubelet?.removeCgroups();
    if (cri) fs.rmSync(cri.runDir, { recursive: true, force: true });
  } finally {
    if (kubelet) fs.rmSync(kubelet.dir, { recursive: true, force: true });
    if (cri) fs.rmSync(cri.dir, { recursive: true, force: true });
  }
});

test.serial('the kubelet runs a static nginx pod through tsrun: pod IP, hostPort, logs, cgroups, stats and metrics', async (t) => {
  if (!KUBELET) return t.fail('the kubelet is not built: run scripts/install-kubernetes.sh');
  t.timeout(240_000);
  const k = kubelet!;
  // Written next to the directory and renamed in: the kubelet watches it and would read a half-written file.
  const staged = path.join(k.dir, 'web.yaml');
  fs.writeFileSync(
    staged,
    `apiVersion: v1
kind: Pod
metadata:
  name: ${POD}
  namespace: default
  labels:
    app: web
spec:
  restartPolicy: Always
  terminationGracePeriodSeconds: 5
  containers:
  - name: nginx
    image: ${CRI_IMAGE.nginx}
    ports:
    - containerPort: 80
      hostPort: ${hostPort}
      protocol: TCP
    readinessProbe:
      httpGet:
        path: /
        port: 80
      periodSeconds: 2
    livenessProbe:
      exec:
        command: [sh, -c, 'date >> /tmp/liveness-probed && test -f /usr/share/nginx/html/index.html']
      periodSeconds: 2
      # A probe is an ExecSync, a \`tsrun exec\` process: the default 1 s can pass on a busy machine.
      timeoutSeconds: 10
      failureThreshold: 10
`,
  );
  fs.renameSync(staged, path.join(k.manifestDir, 'web.yaml'));
  const { sandbox, container } = await until('the kubelet to run the nginx pod', runningNginx, 180_000);
  t.is(sandbox.labels['io.kubernetes.pod.namespace'], 'default');
  t.is(container.annotations['io.kubernetes.container.restartCount'], '0');

  const ip = await podIp(sandbox.id);
  t.true(ip.startsWith(cri!.subnet.split('.').slice(0, 3).join('.') + '.'), `pod IP ${ip} in ${cri!.subnet}`);
  t.regex(await until(`nginx on ${ip}:80`, answers(`http://${ip}/`), 30_000), /Welcome to nginx!/);
  t.regex(await until(`nginx on 127.0.0.1:${hostPort}`, answers(`http://127.0.0.1:${hostPort}/`), 30_000), /Welcome to nginx!/);

  // Our request's access log line reaches the file the kubelet named (what `kubectl logs`
  // reads), in CRI format.
  const uid = sandbox.labels['io.kubernetes.pod.uid'];
  const logFile = path.join(k.podLogsDir, `default_${POD_NAME}_${uid}`, 'nginx', '0.log');
  const line = await until(
    `the access log in ${logFile}`,
    async () =>
      fs.existsSync(logFile)
        ? fs
            .readFileSync(logFile, 'utf8')
            .split('\n')
            .find((l) => l.includes('"GET / HTTP/1.1" 200') && !l.includes('kube-probe'))
        : undefined,
    10_000,
  );
  t.regex(line, /^\S+ stdout F /);

  // The kubelet's probes reach the container: its HTTP readiness probe shows in the access log,
  // its exec liveness probe (ExecSync) leaves its mark inside the container.
  t.truthy(
    await until(
      'an HTTP probe from the kubelet in the access log',
      async () =>
        fs
          .readFileSync(logFile, 'utf8')
          .split('\n')
          .find((l) => l.includes('kube-probe/1.34')),
      30_000,
    ),
  );
  const probed = await until(
    'the liveness probe to run',
    async () => {
      const r = await cri!.rt('ExecSync', { container_id: container.id, cmd: ['cat', '/tmp/liveness-probed'], timeout: 10 });
      return r.exit_code === 0 && r.stdout.length ? r.stdout.toString() : undefined;
    },
    30_000,
  );
  t.regex(probed, /\d\d:\d\d:\d\d/);

  // nginx runs in the pod cgroup the kubelet made for a BestEffort pod, under its own root:
  // with systemd, a scope of tsrun's in the kubelet's pod slice (the uid's dashes are underscores there).
  const pid = JSON.parse((await cri!.rt('ContainerStatus', { container_id: container.id, verbose: true })).info.info).pid as number;
  const memCgroup = fs
    .readFileSync(`/proc/${pid}/cgroup`, 'utf8')
    .split('\n')
    .find((l) => (SYSTEMD ? /^0::/ : /:memory:/).test(l))!
    .split(':')[2]!;
  if (SYSTEMD) {
    const slice = `kubepods-besteffort-pod${uid!.replace(/-/g, '_')}.slice`;
    t.is(memCgroup, `/kubepods.slice/kubepods-besteffort.slice/${slice}/tsrun-${container.id}.scope`);
    t.is((await cri!.rt('RuntimeConfig', {})).linux.cgroup_driver, 'SYSTEMD', 'what the kubelet took its driver from');
  } else t.true(memCgroup.startsWith(`${k.cgroupRoot}/kubepods/besteffort/pod${uid}/`), `nginx's memory cgroup ${memCgroup}`);

  // With PodAndContainerStatsFromCRI, /metrics/cadvisor is what ListPodSandboxMetrics returns,
  // rendered by the kubelet: nginx's working set, and the bytes our requests brought the pod.
  const scrape = async () => (await httpGet(`https://127.0.0.1:${k.port}/metrics/cadvisor`, 10_000)).body;
  const sample = (text: string, name: string, labels: string) => text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  const metrics = await until(
    'nginx in /metrics/cadvisor',
    async () => {
      const text = await scrape();
      return sample(text, 'container_memory_working_set_bytes', 'container="nginx"') ? text : undefined;
    },
    30_000,
  );
  const ws = sample(metrics, 'container_memory_working_set_bytes', 'container="nginx"')!;
  t.regex(ws, new RegExp(`id="${container.id}"`));
  t.regex(ws, new RegExp(`namespace="default",pod="${POD_NAME}"`));
  t.true(Number(ws.split(' ')[1]) > 0, ws);
  const rx = sample(metrics, 'container_network_receive_bytes_total', 'interface="eth0"');
  t.truthy(rx && rx.includes('container="POD"') && Number(rx.split(' ')[1]) > 0, rx);
  // The summary API (what `kubectl top` reads) takes the same cgroup figures through ListPodSandboxStats.
  const summary = JSON.parse((await httpGet(`https://127.0.0.1:${k.port}/stats/summary`, 10_000)).body) as {
    pods: { podRef: { name: string }; containers: { name: string; memory?: { workingSetBytes?: number } }[] }[];
  };
  const podStats = summary.pods.find((p) => p.podRef.name === POD_NAME);
  t.true((podStats?.containers.find((c) => c.name === 'nginx')?.memory?.workingSetBytes ?? 0) > 0, JSON.stringify(podStats?.containers));
});

test.serial('the kubelet restarts the nginx container when its processes are killed', async (t) => {
  if (!KUBELET) return t.fail('the kubelet is not built: run scripts/install-kubernetes.sh');
  t.timeout(240_000);
  const before = await until('the running nginx pod', runningNginx, 30_000);
  const r = tsrun(path.join(cri!.runDir, 'runtime'), ['kill', before.container.id, 'KILL']);
  t.is(r.code, 0, r.stderr);

  const after = await until(
    'the kubelet to start a new nginx container',
    async () => {
      const now = await runningNginx();
      return now && now.container.id !== before.container.id ? now : undefined;
    },
    180_000,
  );
  t.is(after.sandbox.id, before.sandbox.id, 'the same sandbox');
  t.is(after.container.annotations['io.kubernetes.container.restartCount'], '1');
  const old = (await cri!.rt('ContainerStatus', { container_id: before.container.id })).status;
  t.is(old.state, 'CONTAINER_EXITED');
  t.is(old.exit_code, 137);
  const ip = await podIp(after.sandbox.id);
  t.regex(await until(`nginx on ${ip}:80 again`, answers(`http://${ip}/`), 30_000), /Welcome to nginx!/);
  t.regex(await until(`nginx on 127.0.0.1:${hostPort} again`, answers(`http://127.0.0.1:${hostPort}/`), 30_000), /Welcome to nginx!/);
});

test.serial('removing the manifest makes the kubelet tear the pod down', async (t) => {
  if (!KUBELET) return t.fail('the kubelet is not built: run scripts/install-kubernetes.sh');
  t.timeout(300_000);
  const { sandbox } = await until('the running nginx pod', runningNginx, 30_000);
  const uid = sandbox.labels['io.kubernetes.pod.uid'];
  fs.rmSync(path.join(kubelet!.manifestDir, 'web.yaml'));
  // Stopping is prompt; the kubelet's garbage collector removes the stopped sandbox within a minute.
  await until('no sandbox of the pod left', async () => ((await sandboxes()).length === 0 ? true : undefined), 240_000);
  t.deepEqual(await cri!.rt('ListContainers', {}).then((r) => r.containers), []);
  await t.throwsAsync(httpGet(`http://127.0.0.1:${hostPort}/`, 2000));
  const podCgroup = SYSTEMD
    ? path.join('/sys/fs/cgroup/kubepods.slice/kubepods-besteffort.slice', `kubepods-besteffort-pod${uid!.replace(/-/g, '_')}.slice`)
    : path.join('/sys/fs/cgroup/memory', kubelet!.cgroupRoot, 'kubepods', 'besteffort', `pod${uid}`);
  await until(`the kubelet to remove ${podCgroup}`, async () => (fs.existsSync(podCgroup) ? undefined : true), 60_000);
  t.pass();
});
