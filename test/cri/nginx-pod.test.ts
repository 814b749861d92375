// The pod of a tutorial's nginx Deployment, as the kubelet would send it through the CRI:
// nginx answers on the pod IP and on a hostPort of this machine (CNI portmap).
import test from 'ava';
import * as http from 'node:http';
import * as path from 'node:path';
import { CRI_IMAGE, ensureCriImages } from '../fixtures/cri-images';
import { freePort } from '../fixtures/registry';
import { startCriServer, until, type CriServerHandle } from '../helpers/cri-server';

let cri: CriServerHandle | undefined;
test.after.always(async () => {
  await cri?.stop();
});

function get(host: string, port: number): Promise<{ status: number; body: string } | undefined> {
  return new Promise((resolve) => {
    http
      .get({ host, port, path: '/', timeout: 2000 }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', () => resolve(undefined))
      .on('timeout', function (this: http.ClientRequest) {
        this.destroy();
      });
  });
}

test('an nginx Deployment pod: HTTP on the pod IP and on a hostPort', async (t) => {
  t.timeout(3 * 60_000);
  const { mirrorDir } = await ensureCriImages();
  cri = await startCriServer({ registryConfig: mirrorDir });
  const image = CRI_IMAGE.nginx as string;
  await cri.img('PullImage', { image: { image } });
  const hostPort = await freePort();
  // What the kubelet sends for: Deployment nginx, containers: [{name: nginx, image, ports: [{containerPort: 80, hostPort}]}]
  const podConfig = {
    metadata: { name: 'nginx-deployment-5d59d67564-abcde', namespace: 'default', uid: `nginx-${process.pid}`, attempt: 0 },
    hostname: 'nginx-deployment-5d59d67564-abcde',
    log_directory: path.join(cri.dir, 'pods', 'default_nginx'),
    port_mappings: [{ protocol: 'TCP', container_port: 80, host_port: hostPort }],
    labels: { app: 'nginx', 'io.kubernetes.pod.name': 'nginx-deployment-5d59d67564-abcde', 'io.kubernetes.pod.namespace': 'default' },
    linux: {
      cgroup_parent: '',
      security_context: { namespace_options: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' }, seccomp: { profile_type: 'RuntimeDefault' } },
    },
  };
  const { pod_sandbox_id } = await cri.rt('RunPodSandbox', { config: podConfig });
  const { container_id } = await cri.rt('CreateContainer', {
    pod_sandbox_id,
    config: {
      metadata: { name: 'nginx', attempt: 0 },
      image: { image },
      log_path: 'nginx/0.log',
      labels: { 'io.kubernetes.container.name': 'nginx' },
      linux: {
        security_context: {
          namespace_options: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' },
          seccomp: { profile_type: 'RuntimeDefault' },
          masked_paths: ['/proc/kcore'],
          readonly_paths: ['/proc/sys'],
        },
      },
    },
    sandbox_config: podConfig,
  });
  await cri.rt('StartContainer', { container_id });
  const ip = (await cri.rt('PodSandboxStatus', { pod_sandbox_id })).status.network.ip as string;
  const onPod = await until(`nginx on ${ip}:80`, () => get(ip, 80), 20_000, 200);
  t.is(onPod?.status, 200, `nginx on ${ip}:80`);
  const onHost = await until(`nginx on 127.0.0.1:${hostPort}`, () => get('127.0.0.1', hostPort), 20_000, 200);
  t.is(onHost?.status, 200, `nginx on 127.0.0.1:${hostPort}`);
  t.is(onHost?.body, onPod?.body);
  await cri.rt('StopPodSandbox', { pod_sandbox_id });
  t.is(await get('127.0.0.1', hostPort), undefined, 'the hostPort is gone with the pod');
  await cri.rt('RemovePodSandbox', { pod_sandbox_id });
});
