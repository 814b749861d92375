// scripts/cluster.sh brings up Kubernetes v1.34 on this machine: a control plane and two nodes,
// each node a network namespace with its own kubelet, `tsrun cri` and kube-proxy. These tests
// are the flows of a newcomer's Kubernetes notes, checked from the user's side (kubectl, and
// HTTP from the host), in order, on one cluster: the first brings it up, the last takes it down.
import test from 'ava';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { K8S_BIN } from '../../scripts/cluster/layout';
import { isSameProcessAlive } from '../../src/runtime/proc';
import { CLUSTER_SH, Cluster, get, isReady, runAsync, type Pod } from '../helpers/cluster';
import { until } from '../helpers/until';

const NAME = `t${randomBytes(3).toString('hex')}`;
const cluster = new Cluster(NAME);
const BUILT = fs.existsSync(`${K8S_BIN}/kube-apiserver`) && fs.existsSync(`${K8S_BIN}/kubelet`);
// A node that stops answering is NotReady after 20 s; its pods are evicted 5 s later.
const GRACE_S = 20;
const TOLERATION_S = 5;

let upOk = false;
let nodes: string[] = [];
let ips = new Map<string, string>();

function need(t: { fail(m: string): void }): boolean {
  if (!BUILT) t.fail('Kubernetes is not built: run scripts/install-kubernetes.sh');
  else if (!upOk) t.fail('the cluster did not come up (see the first test)');
  return BUILT && upOk;
}

const podsOn = (pods: Pod[]): Set<string> => new Set(pods.map((p) => p.spec.nodeName!));

test.after.always(async () => {
  // The last test takes the cluster down and checks what is left; this is for a run that stopped early.
  if (fs.existsSync(`/var/lib/tsrun-cluster/${NAME}`)) await cluster.sh(['down'], { timeoutMs: 120_000 });
});

test.serial('bad input: a clear error naming what is wrong, and nothing made', async (t) => {
  for (const [args, says] of [
    [['up', '--nodes', '0'], '--nodes wants a whole number from 1 to 20'],
    [['up', '--toleration-seconds'], '--toleration-seconds wants a whole number'],
    [['up', '--frobnicate'], 'unknown option --frobnicate'],
  ] as const) {
    const r = await cluster.sh([...args]);
    t.is(r.code, 2, args.join(' '));
    t.true(r.stderr.includes(says), r.stderr);
  }
  const bad = await runAsync(CLUSTER_SH, ['--name', 'Bad_Name', 'up']);
  t.is(bad.code, 1);
  t.regex(bad.stderr, /cluster name "Bad_Name": use 1 to 8 lowercase letters and digits/);
  const none = await cluster.sh(['kubectl', 'get', 'nodes']);
  t.is(none.code, 1);
  t.regex(none.stderr, new RegExp(`no cluster ${NAME} on this machine`));
  t.false(fs.existsSync(`/var/lib/tsrun-cluster/${NAME}`));
});

test.serial('up after a crashed up removes what the crash left, then brings up two Ready nodes running on tsrun', async (t) => {
  if (!BUILT) return t.fail('Kubernetes is not built: run scripts/install-kubernetes.sh');
  t.timeout(15 * 60_000, 'the stand-in images are built the first time on a machine');
  // A first `up`, killed (as by a crash or Ctrl-C at the wrong moment) once its control plane runs.
  const first: ChildProcess = spawn(CLUSTER_SH, ['--name', NAME, 'up'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  first.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  first.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<void>((r) => first.once('exit', () => r()));
  await until(
    'the first up to start its nodes',
    async () => (out.includes('nodes (kubelet, tsrun cri, kube-proxy each)') ? true : undefined),
    10 * 60_000,
    50,
  ).catch((e: Error) => {
    throw new Error(`${e.message}: ${out}`);
  });
  first.kill('SIGKILL');
  await exited;
  const leftover = JSON.parse(fs.readFileSync(`/var/lib/tsrun-cluster/${NAME}/cluster.json`, 'utf8')) as { complete?: boolean };
  t.falsy(leftover.complete, 'the crashed up left an unfinished cluster');
  const apiserverPid = Number(fs.readFileSync(`/var/lib/tsrun-cluster/${NAME}/pids/kube-apiserver.pid`, 'utf8'));
  t.true(fs.existsSync(`/proc/${apiserverPid}`), 'its API server outlived it');
  const status = await cluster.sh(['status']);
  t.is(status.code, 1);
  t.regex(status.stdout, /bring-up did not finish/);

  const started = Date.now();
  const r = await cluster.sh(['up', '--node-monitor-grace-period', String(GRACE_S), '--toleration-seconds', String(TOLERATION_S)], { timeoutMs: 10 * 60_000 });
  t.log(`bring-up after the crash: ${Math.round((Date.now() - started) / 1000)} s`);
  t.is(r.code, 0, r.stderr + r.stdout);
  t.regex(r.stdout, new RegExp(`cluster ${NAME}: removing what a previous run left`));
  t.regex(r.stdout, /is up in \d+ s/);
  t.false(
    fs.existsSync(`/proc/${apiserverPid}`) && fs.readFileSync(`/proc/${apiserverPid}/cmdline`, 'utf8').includes('kube-apiserver'),
    "the crashed run's API server is gone",
  );
  const again = await cluster.sh(['up']);
  t.is(again.code, 1);
  t.regex(again.stderr, /is already up/);

  const got = await cluster.json<{
    items: {
      metadata: { name: string };
      status: { nodeInfo: { containerRuntimeVersion: string; kubeletVersion: string }; conditions: { type: string; status: string }[] };
    }[];
  }>(['get', 'nodes']);
  nodes = got.items.map((n) => n.metadata.name).sort();
  t.deepEqual(nodes, [`${NAME}-node1`, `${NAME}-node2`]);
  for (const n of got.items) {
    t.is(n.status.nodeInfo.containerRuntimeVersion, 'tsrun://0.1.0');
    t.is(n.status.nodeInfo.kubeletVersion, 'v1.34.4');
    t.is(n.status.conditions.find((c) => c.type === 'Ready')?.status, 'True');
  }
  ips = await cluster.nodeIps();
  upOk = true;
});

// kubernetes.io's nginx Deployment, plus what a rollout without a failed request needs: a
// readiness probe (no traffic before nginx listens), a preStop pause (no new traffic is sent to
// a pod once it is deleted, but kube-proxies learn that a moment later) and one new pod at a time.
const NGINX_DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: nginx-deployment
  labels:
    app: nginx
spec:
  replicas: 2
  strategy:
    rollingUpdate:
      maxSurge: 1
      maxUnavailable: 0
  selector:
    matchLabels:
      app: nginx
  template:
    metadata:
      labels:
        app: nginx
    spec:
      containers:
      - name: nginx
        image: nginx:1.14.2
        ports:
        - containerPort: 80
        readinessProbe:
          httpGet:
            path: /
            port: 80
          periodSeconds: 1
        lifecycle:
          preStop:
            exec:
              command: ["sleep", "4"]
`;

async function readyPods(selector: string, count: number, ms = 120_000): Promise<Pod[]> {
  return until(
    `${count} ready pods of ${selector}`,
    async () => {
      const pods = (await cluster.pods(selector)).filter((p) => !p.metadata.deletionTimestamp);
      return pods.length === count && pods.every(isReady) ? pods : undefined;
    },
    ms,
    500,
  );
}

test.serial(
  'kubectl apply -f: an nginx Deployment of 2 replicas spreads over both nodes; each pod answers on its IP from the host and from a pod',
  async (t) => {
    if (!need(t)) return;
    t.timeout(4 * 60_000);
    t.regex(await cluster.kubectl(['apply', '-f', '-'], NGINX_DEPLOYMENT), /deployment.apps\/nginx-deployment created/);
    await cluster.kubectl(['rollout', 'status', 'deployment/nginx-deployment', '--timeout=180s']);
    const pods = await readyPods('app=nginx', 2);
    t.deepEqual([...podsOn(pods)].sort(), nodes, 'one pod on each node');
    for (const p of pods) {
      const r = await get(`http://${p.status.podIP}/`);
      t.is(r.status, 200);
      t.regex(r.body, /Welcome to nginx!/);
    }
    // From a pod on one node to the nginx pod on the other: pod CIDRs are routed, not NATed.
    await cluster.kubectl([
      'run',
      'client',
      '--image=busybox:1.36',
      '--restart=Never',
      `--overrides={"spec":{"nodeName":"${nodes[0]}"}}`,
      '--',
      'sleep',
      '3600',
    ]);
    await cluster.kubectl(['wait', '--for=condition=Ready', 'pod/client', '--timeout=120s']);
    const remote = pods.find((p) => p.spec.nodeName === nodes[1])!;
    t.regex(await cluster.kubectl(['exec', 'client', '--', 'wget', '-qO-', `http://${remote.status.podIP}/`]), /Welcome to nginx!/);
    const clientIp = (await cluster.json<Pod>(['get', 'pod', 'client'])).status.podIP!;
    const log = await cluster.kubectl(['logs', remote.metadata.name]);
    t.true(log.includes(`${clientIp} - - [`), `nginx saw the client pod's own address ${clientIp}:\n${log}`);
  },
);

test.serial('kubectl scale to 6: six Running pods over both nodes; a ClusterIP Service answers from a pod, a NodePort Service on every node IP', async (t) => {
  if (!need(t)) return;
  t.timeout(4 * 60_000);
  t.regex(await cluster.kubectl(['scale', 'deployment/nginx-deployment', '--replicas=6']), /scaled/);
  const pods = await readyPods('app=nginx', 6);
  t.deepEqual([...podsOn(pods)].sort(), nodes);
  await cluster.kubectl(['expose', 'deployment/nginx-deployment', '--name=nginx-cluster', '--port=80']);
  await cluster.kubectl(['expose', 'deployment/nginx-deployment', '--name=nginx', '--type=NodePort', '--port=80']);
  const cip = (await cluster.json<{ spec: { clusterIP: string } }>(['get', 'service', 'nginx-cluster'])).spec.clusterIP;
  const served = new Set<string>();
  // Each request from the client pod goes through its node's kube-proxy rules to one of six pods.
  await until(
    'the ClusterIP to answer from the client pod',
    async () => (await cluster.sh(['kubectl', 'exec', 'client', '--', 'wget', '-qO-', `http://${cip}/`])).stdout.includes('Welcome to nginx!') || undefined,
    60_000,
    500,
  );
  const nodePort = (await cluster.json<{ spec: { ports: { nodePort: number }[] } }>(['get', 'service', 'nginx'])).spec.ports[0]!.nodePort;
  for (const [node, ip] of ips) {
    const r = await until(
      `NodePort ${nodePort} on ${node}`,
      async () =>
        get(`http://${ip}:${nodePort}/`).then(
          (x) => (x.status === 200 ? x : undefined),
          () => undefined,
        ),
      60_000,
      500,
    );
    t.regex(r.body, /Welcome to nginx!/, node);
  }
  const urls = (await cluster.sh(['url', 'nginx', '--all'])).stdout.trim().split('\n');
  t.deepEqual(
    urls,
    [...ips.values()].map((ip) => `http://${ip}:${nodePort}`),
  );
  // The logs show which pods served: many of the six, not one.
  for (let i = 0; i < 30; i++) await get(`http://${[...ips.values()][i % 2]}:${nodePort}/`);
  for (const p of pods) if ((await cluster.kubectl(['logs', p.metadata.name])).includes('GET / HTTP/1.1" 200')) served.add(p.metadata.name);
  t.true(served.size >= 3, `requests spread over the pods: ${[...served].join(', ')}`);
});

test.serial('kubectl create deployment hello --image=...echoserver, expose --type=NodePort --port=8080, then curl', async (t) => {
  if (!need(t)) return;
  t.timeout(4 * 60_000);
  t.regex(await cluster.kubectl(['create', 'deployment', 'hello', '--image=registry.k8s.io/echoserver:1.4']), /deployment.apps\/hello created/);
  t.regex(await cluster.kubectl(['expose', 'deployment', 'hello', '--type=NodePort', '--port=8080']), /service\/hello exposed/);
  const [pod] = await readyPods('app=hello', 1);
  const url = (await cluster.sh(['url', 'hello'])).stdout.trim();
  t.regex(url, /^http:\/\/10\.\d+\.0\.11:\d+$/);
  // `curl $(scripts/cluster.sh url hello)`, as the notes do it.
  const r = await until(
    'the hello Service to answer',
    async () => {
      const c = await runAsync('curl', ['-s', '--max-time', '3', url]);
      return c.code === 0 && c.stdout ? c : undefined;
    },
    60_000,
    500,
  );
  t.is(r.stdout, pod!.metadata.name, 'the echo server answers with the name of the pod that served');
});

test.serial('a rolling update to nginx:1.16.1 replaces the pods one at a time, and the Service answers every request throughout', async (t) => {
  if (!need(t)) return;
  t.timeout(6 * 60_000);
  const nodePort = (await cluster.json<{ spec: { ports: { nodePort: number }[] } }>(['get', 'service', 'nginx'])).spec.ports[0]!.nodePort;
  const urls = [...ips.values()].map((ip) => `http://${ip}:${nodePort}/`);
  let polling = true;
  let ok = 0;
  const failures: string[] = [];
  const versions = new Set<string>();
  const poller = (async () => {
    for (let i = 0; polling; i++) {
      try {
        const r = await get(urls[i % urls.length]!, 5000);
        if (r.status !== 200) failures.push(`${urls[i % urls.length]}: HTTP ${r.status}`);
        else {
          ok++;
          versions.add(/stand-in for nginx:([\d.]+)/.exec(r.body)?.[1] ?? '?');
        }
      } catch (e) {
        failures.push((e as Error).message);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  // The pods as the rollout goes: never more than 6 + maxSurge 1 at once, and the new image's
  // ready pods climbing through the values between 0 and 6.
  const newReady = new Set<number>();
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      const pods = (await cluster.pods('app=nginx').catch(() => [] as Pod[])).filter((p) => !p.metadata.deletionTimestamp);
      if (pods.length > 7) failures.push(`${pods.length} pods at once: ${pods.map((p) => p.metadata.name).join(' ')}`);
      newReady.add(pods.filter((p) => isReady(p) && p.spec.containers[0]!.image === 'nginx:1.16.1').length);
    }
  })();
  await cluster.kubectl(['set', 'image', 'deployment/nginx-deployment', 'nginx=nginx:1.16.1']);
  await cluster.kubectl(['rollout', 'status', 'deployment/nginx-deployment', '--timeout=300s']);
  watching = false;
  await watcher;
  // Until the old pods' preStop pause is over, they still answer: wait for the last one to go.
  await until(
    'the old pods to be gone',
    async () => ((await cluster.pods('app=nginx')).every((p) => p.spec.containers[0]!.image === 'nginx:1.16.1') ? true : undefined),
    120_000,
    500,
  );
  polling = false;
  await poller;
  t.deepEqual(failures, [], `every request answered (${ok} did)`);
  t.true(ok > 20, `${ok} requests during the rollout`);
  t.deepEqual([...versions].sort(), ['1.14.2', '1.16.1'], 'answers came from old pods, then new ones');
  const between = [...newReady].filter((n) => n > 0 && n < 6).sort();
  t.true(between.length >= 2, `new pods became ready a few at a time, not all at once: ${between.join(', ')}`);
  const after = await get(urls[0]!);
  t.regex(after.body, /stand-in for nginx:1\.16\.1/);
  t.regex(await cluster.kubectl(['rollout', 'history', 'deployment/nginx-deployment']), /^2\s/m);
});

test.serial('kubectl logs, exec (with stdin, with a terminal), run -it, port-forward, and pod stats through the kubelet', async (t) => {
  if (!need(t)) return;
  t.timeout(3 * 60_000);
  const [pod] = (await readyPods('app=nginx', 6)).filter((p) => p.spec.nodeName === nodes[1]);
  const name = pod!.metadata.name;
  // logs: the request the host just made, as nginx logged it on its stdout.
  await get(`http://${pod!.status.podIP}/from-the-host`).catch(() => undefined);
  await until(
    'the request in kubectl logs',
    async () => ((await cluster.kubectl(['logs', name])).includes('GET /from-the-host HTTP/1.1" 404') ? true : undefined),
    30_000,
    500,
  );
  // exec: a command, and one that reads stdin.
  t.regex(await cluster.kubectl(['exec', name, '--', 'cat', '/usr/share/nginx/html/index.html']), /stand-in for nginx:1\.16\.1/);
  t.is(await cluster.kubectl(['exec', '-i', name, '--', 'tr', 'a-z', 'A-Z'], 'through the kubelet\n'), 'THROUGH THE KUBELET\n');
  const failed = await cluster.sh(['kubectl', 'exec', name, '--', 'sh', '-c', 'exit 3']);
  t.is(failed.code, 3, 'the exit code comes back');
  // exec -it: a terminal of the client's size (script(1) gives kubectl a terminal). The size
  // comes just after the process starts: the shell waits for it (busybox's stty prints nothing while it is 0 0).
  const kubectl = `${CLUSTER_SH} --name ${NAME} kubectl`;
  const waitSize = `'for i in $(seq 100); do s=$(stty size 2>/dev/null); [ -n "$s" ] && [ "$s" != "0 0" ] && break; sleep 0.1; done; echo "size $s"'`;
  const it = await runAsync('script', ['-qec', `stty rows 31 cols 101; ${kubectl} exec -it ${name} -- sh -c ${waitSize}`, '/dev/null']);
  t.regex(it.stdout, /size 31 101\r?$/m, it.stdout + it.stderr);
  // run -it --rm: a Pod with a terminal, attached; what is typed reaches it; it is removed after.
  const run = await runAsync(
    'script',
    ['-qec', `${kubectl} run -it --rm --restart=Never typed --image=busybox:1.36 -- sh -c 'read line; echo got:$line'`, '/dev/null'],
    { input: 'hello\n', timeoutMs: 120_000 },
  );
  t.regex(run.stdout, /got:hello/, run.stdout + run.stderr);
  t.regex(run.stdout, /pod "typed" deleted/);
  // port-forward: a local port on the host to the pod's port 80.
  const pf = spawn(CLUSTER_SH, ['--name', NAME, 'kubectl', 'port-forward', `pod/${name}`, ':80'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    let out = '';
    pf.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    const port = await until('port-forward to listen', async () => /Forwarding from 127\.0\.0\.1:(\d+) -> 80/.exec(out)?.[1], 30_000, 100);
    const r = await get(`http://127.0.0.1:${port}/`);
    t.regex(r.body, /Welcome to nginx!/);
  } finally {
    pf.kill('SIGTERM');
  }
  // Stats: the kubelet's summary API, which reads pod and container stats from tsrun (CRI).
  const summary = JSON.parse(await cluster.kubectl(['get', '--raw', `/api/v1/nodes/${nodes[1]}/proxy/stats/summary`])) as {
    node: { nodeName: string };
    pods: { podRef: { name: string }; containers: { name: string; cpu: { usageCoreNanoSeconds: number }; memory: { workingSetBytes: number } }[] }[];
  };
  t.is(summary.node.nodeName, nodes[1]);
  const mine = summary.pods.find((p) => p.podRef.name === name);
  t.truthy(mine, `stats for ${name}`);
  const c = mine!.containers.find((x) => x.name === 'nginx')!;
  t.true(c.cpu.usageCoreNanoSeconds > 0, 'cpu time');
  t.true(c.memory.workingSetBytes > 0, 'memory');
  const cadvisor = await cluster.kubectl(['get', '--raw', `/api/v1/nodes/${nodes[1]}/proxy/metrics/cadvisor`]);
  t.regex(cadvisor, new RegExp(`container_memory_working_set_bytes\\{[^}]*pod="${name}"`));
});

test.serial('a Pod of two containers shares localhost and an emptyDir', async (t) => {
  if (!need(t)) return;
  t.timeout(3 * 60_000);
  await cluster.kubectl(
    ['apply', '-f', '-'],
    `apiVersion: v1
kind: Pod
metadata:
  name: two-containers
spec:
  volumes:
  - name: html
    emptyDir: {}
  containers:
  - name: web
    image: nginx:1.16.1
    volumeMounts:
    - name: html
      mountPath: /usr/share/nginx/html
  - name: writer
    image: busybox:1.36
    volumeMounts:
    - name: html
      mountPath: /html
    command: ["sh", "-c", "echo written by the other container > /html/index.html; sleep 3600"]
`,
  );
  await cluster.kubectl(['wait', '--for=condition=Ready', 'pod/two-containers', '--timeout=120s']);
  // The writer reaches the web container on localhost: one network namespace for the pod.
  const body = await until(
    'the page through localhost',
    async () => {
      const r = await cluster.sh(['kubectl', 'exec', 'two-containers', '-c', 'writer', '--', 'wget', '-qO-', 'http://localhost/']);
      return r.code === 0 ? r.stdout : undefined;
    },
    30_000,
    500,
  );
  t.is(body, 'written by the other container\n');
  t.is(await cluster.kubectl(['exec', 'two-containers', '-c', 'web', '--', 'cat', '/usr/share/nginx/html/index.html']), 'written by the other container\n');
});

test.serial('ConfigMap and Secret volumes (in a Guaranteed pod: requests equal to limits)', async (t) => {
  if (!need(t)) return;
  t.timeout(3 * 60_000);
  await cluster.kubectl(['create', 'configmap', 'greeting', '--from-literal=message=hello from a ConfigMap']);
  await cluster.kubectl(['create', 'secret', 'generic', 'password', '--from-literal=password=s3cr3t']);
  await cluster.kubectl(
    ['apply', '-f', '-'],
    `apiVersion: v1
kind: Pod
metadata:
  name: volumes
spec:
  containers:
  - name: c
    image: busybox:1.36
    command: ["sleep", "3600"]
    resources:
      requests: { cpu: 50m, memory: 32Mi }
      limits: { cpu: 50m, memory: 32Mi }
    volumeMounts:
    - { name: config, mountPath: /etc/config }
    - { name: secret, mountPath: /etc/secret, readOnly: true }
  volumes:
  - name: config
    configMap: { name: greeting }
  - name: secret
    secret: { secretName: password }
`,
  );
  await cluster.kubectl(['wait', '--for=condition=Ready', 'pod/volumes', '--timeout=120s']);
  t.is((await cluster.json<{ status: { qosClass: string } }>(['get', 'pod', 'volumes'])).status.qosClass, 'Guaranteed');
  // The memory limit is the container's cgroup's.
  t.is((await cluster.kubectl(['exec', 'volumes', '--', 'cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes'])).trim(), String(32 << 20));
  t.is(await cluster.kubectl(['exec', 'volumes', '--', 'cat', '/etc/config/message']), 'hello from a ConfigMap');
  t.is(await cluster.kubectl(['exec', 'volumes', '--', 'cat', '/etc/secret/password']), 's3cr3t');
  // A Secret lives in memory on the node (tmpfs), never on its disk.
  t.regex(await cluster.kubectl(['exec', 'volumes', '--', 'sh', '-c', 'grep " /etc/secret " /proc/mounts']), /^tmpfs \/etc\/secret tmpfs ro/);
  const denied = await cluster.sh(['kubectl', 'exec', 'volumes', '--', 'sh', '-c', 'echo x > /etc/secret/password']);
  t.not(denied.code, 0, 'the secret volume is read-only');
});

test.serial('a Job runs to completion; a DaemonSet runs one pod on each node', async (t) => {
  if (!need(t)) return;
  t.timeout(3 * 60_000);
  await cluster.kubectl(['create', 'job', 'count', '--image=busybox:1.36', '--', 'sh', '-c', 'for i in 1 2 3; do echo $i; done']);
  await cluster.kubectl(
    ['apply', '-f', '-'],
    `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: every-node
spec:
  selector:
    matchLabels: { app: every-node }
  template:
    metadata:
      labels: { app: every-node }
    spec:
      containers:
      - name: c
        image: busybox:1.36
        command: ["sleep", "3600"]
`,
  );
  await cluster.kubectl(['wait', '--for=condition=Complete', 'job/count', '--timeout=120s']);
  t.is(await cluster.kubectl(['logs', 'job/count']), '1\n2\n3\n');
  const job = await cluster.json<{ status: { succeeded: number } }>(['get', 'job', 'count']);
  t.is(job.status.succeeded, 1);
  await cluster.kubectl(['rollout', 'status', 'daemonset/every-node', '--timeout=120s']);
  const ds = await readyPods('app=every-node', 2);
  t.deepEqual(ds.map((p) => p.spec.nodeName).sort(), nodes);
});

test.serial(
  "stopping a node's kubelet and tsrun cri: it goes NotReady and its Deployment pods are replaced on the other node; started again, it is Ready",
  async (t) => {
    if (!need(t)) return;
    t.timeout(6 * 60_000);
    const [alive, dead] = nodes as [string, string];
    const before = await readyPods('app=nginx', 6);
    const lost = before.filter((p) => p.spec.nodeName === dead).map((p) => p.metadata.name);
    t.true(lost.length > 0, 'some nginx pods ran on the node that stops');
    const stopped = Date.now();
    const r = await cluster.sh(['stop-node', dead]);
    t.is(r.code, 0, r.stderr);
    await until(
      `${dead} to be NotReady`,
      async () => {
        const n = await cluster.json<{ status: { conditions: { type: string; status: string }[] } }>(['get', 'node', dead]);
        return n.status.conditions.find((c) => c.type === 'Ready')?.status === 'Unknown' ? true : undefined;
      },
      120_000,
      1000,
    );
    const replaced = await until(
      '6 ready nginx pods, all on the live node',
      async () => {
        const pods = (await cluster.pods('app=nginx')).filter(isReady);
        return pods.length === 6 && pods.every((p) => p.spec.nodeName === alive) ? pods : undefined;
      },
      180_000,
      1000,
    );
    t.log(`pods replaced ${Math.round((Date.now() - stopped) / 1000)} s after the node stopped (grace ${GRACE_S} s + toleration ${TOLERATION_S} s)`);
    t.false(replaced.some((p) => lost.includes(p.metadata.name)));
    // The Service kept answering through the live node.
    const nodePort = (await cluster.json<{ spec: { ports: { nodePort: number }[] } }>(['get', 'service', 'nginx'])).spec.ports[0]!.nodePort;
    t.is((await get(`http://${ips.get(alive)}:${nodePort}/`)).status, 200);

    // Back again: Ready, and the pods evicted while it was away are stopped and gone.
    const s = await cluster.sh(['start-node', dead]);
    t.is(s.code, 0, s.stderr);
    await until(
      `${dead} to be Ready again`,
      async () => {
        const n = await cluster.json<{ status: { conditions: { type: string; status: string }[] } }>(['get', 'node', dead]);
        return n.status.conditions.find((c) => c.type === 'Ready')?.status === 'True' ? true : undefined;
      },
      120_000,
      1000,
    );
    await until(
      'the evicted pods to be gone',
      async () => ((await cluster.pods('app=nginx')).some((p) => lost.includes(p.metadata.name)) ? undefined : true),
      120_000,
      1000,
    );
  },
);

test.serial('down removes every process, namespace, interface, mount, cgroup and file the cluster made', async (t) => {
  if (!BUILT) return t.fail('Kubernetes is not built: run scripts/install-kubernetes.sh');
  t.timeout(3 * 60_000);
  const plan = JSON.parse(fs.readFileSync(`/var/lib/tsrun-cluster/${NAME}/cluster.json`, 'utf8')) as {
    cgroup: string;
    bridge: string;
    made: { kind: string; name?: string; path?: string }[];
  };
  const pidsDir = `/var/lib/tsrun-cluster/${NAME}/pids`;
  const pids = fs.readdirSync(pidsDir).map((f) => Number(fs.readFileSync(`${pidsDir}/${f}`, 'utf8')));
  const r = await cluster.sh(['down'], { timeoutMs: 120_000 });
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, new RegExp(`cluster ${NAME}: removed`));
  // A killed daemon may stay a zombie until whatever adopted it (PID 1, a CI runner) reaps it:
  // that is no process left running.
  const running = (pid: number): boolean => {
    if (!isSameProcessAlive(pid, undefined)) return false;
    try {
      return fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').includes(plan.cgroup);
    } catch {
      return false;
    }
  };
  for (const pid of pids) t.false(running(pid), `pid ${pid} is gone`);
  for (const m of plan.made) {
    if (m.kind === 'netns') t.false(fs.existsSync(`/run/netns/${m.name}`), `netns ${m.name}`);
    if (m.kind === 'link') t.false(fs.existsSync(`/sys/class/net/${m.name}`), `interface ${m.name}`);
    if (m.kind === 'cgroup') t.false(fs.existsSync(m.path!), `cgroup ${m.path}`);
  }
  t.false(fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(`/tsrun-cluster/${NAME}`), 'no mount left');
  t.false(fs.existsSync(`/var/lib/tsrun-cluster/${NAME}`));
  const again = await cluster.sh(['down']);
  t.is(again.code, 0);
  t.regex(again.stdout, /nothing to remove/);
});
