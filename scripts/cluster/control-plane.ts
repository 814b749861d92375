// The control plane, in a network namespace of its own on the cluster's bridge (as kind's
// control-plane node): etcd on that namespace's loopback, the API server on its bridge address
// (no port of the host is taken), the controller manager and the scheduler, and the registry
// that serves the stand-in images to the nodes.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { clusterImagesStorage, writeClusterMirrors } from '../../test/fixtures/cluster-images';
import { logTail, startDaemon, daemonPid } from './daemons';
import type { ClusterPlan } from './layout';
import { K8S_BIN } from './layout';
import { tryKubectl } from './kube';
import { kubeconfigPath, pkiDir } from './pki';
import { tryRun, waitFor } from './sh';

export const CONTROL_PLANE = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const;

export function cpLog(plan: ClusterPlan, name: string): string {
  return path.join(plan.controlPlane.root, 'var', 'log', `${name}.log`);
}

export function mirrorsDir(plan: ClusterPlan): string {
  return path.join(plan.dir, 'registry', 'certs.d');
}

function args(plan: ClusterPlan, name: (typeof CONTROL_PLANE)[number]): string[] {
  const pki = pkiDir(plan);
  const p = (f: string): string => path.join(pki, f);
  const o = plan.options;
  switch (name) {
    case 'etcd':
      return [
        `--name=${plan.name}-control-plane`,
        `--data-dir=${path.join(plan.controlPlane.root, 'var', 'lib', 'etcd')}`,
        '--listen-client-urls=http://127.0.0.1:2379',
        '--advertise-client-urls=http://127.0.0.1:2379',
        '--listen-peer-urls=http://127.0.0.1:2380',
        '--initial-advertise-peer-urls=http://127.0.0.1:2380',
        `--initial-cluster=${plan.name}-control-plane=http://127.0.0.1:2380`,
        '--initial-cluster-state=new',
        '--log-level=warn',
      ];
    case 'kube-apiserver':
      return [
        `--advertise-address=${plan.controlPlane.ip}`,
        `--bind-address=${plan.controlPlane.ip}`,
        '--secure-port=6443',
        '--etcd-servers=http://127.0.0.1:2379',
        `--service-cluster-ip-range=${plan.serviceCidr}`,
        `--client-ca-file=${p('ca.crt')}`,
        `--tls-cert-file=${p('apiserver.crt')}`,
        `--tls-private-key-file=${p('apiserver.key')}`,
        `--kubelet-client-certificate=${p('apiserver-kubelet-client.crt')}`,
        `--kubelet-client-key=${p('apiserver-kubelet-client.key')}`,
        `--kubelet-certificate-authority=${p('ca.crt')}`,
        '--kubelet-preferred-address-types=InternalIP',
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-account-key-file=${p('sa.pub')}`,
        `--service-account-signing-key-file=${p('sa.key')}`,
        '--authorization-mode=Node,RBAC',
        '--enable-admission-plugins=NodeRestriction',
        '--allow-privileged=true',
        '--profiling=false',
        // How long a pod stays bound to a node that stopped answering (taint-based eviction).
        ...(o.tolerationSeconds !== undefined
          ? [`--default-not-ready-toleration-seconds=${o.tolerationSeconds}`, `--default-unreachable-toleration-seconds=${o.tolerationSeconds}`]
          : []),
      ];
    case 'kube-controller-manager': {
      const kc = kubeconfigPath(plan, 'controller-manager');
      return [
        `--kubeconfig=${kc}`,
        `--authentication-kubeconfig=${kc}`,
        `--authorization-kubeconfig=${kc}`,
        '--bind-address=127.0.0.1',
        `--cluster-name=${plan.name}`,
        '--allocate-node-cidrs=true',
        `--cluster-cidr=${plan.clusterCidr}`,
        '--node-cidr-mask-size=24',
        `--service-cluster-ip-range=${plan.serviceCidr}`,
        `--cluster-signing-cert-file=${p('ca.crt')}`,
        `--cluster-signing-key-file=${p('ca.key')}`,
        `--root-ca-file=${p('ca.crt')}`,
        `--service-account-private-key-file=${p('sa.key')}`,
        '--use-service-account-credentials=true',
        '--controllers=*,bootstrapsigner,tokencleaner',
        '--leader-elect=false',
        '--profiling=false',
        // How long a node may be silent before it is NotReady (and its pods' eviction starts).
        ...(o.nodeMonitorGracePeriodSeconds !== undefined
          ? [`--node-monitor-grace-period=${o.nodeMonitorGracePeriodSeconds}s`, '--node-monitor-period=2s']
          : []),
      ];
    }
    case 'kube-scheduler': {
      const kc = kubeconfigPath(plan, 'scheduler');
      return [
        `--kubeconfig=${kc}`,
        `--authentication-kubeconfig=${kc}`,
        `--authorization-kubeconfig=${kc}`,
        '--bind-address=127.0.0.1',
        '--leader-elect=false',
        '--profiling=false',
      ];
    }
  }
}

async function start(plan: ClusterPlan, name: (typeof CONTROL_PLANE)[number]): Promise<void> {
  await startDaemon(plan, { name, bin: path.join(K8S_BIN, name), args: args(plan, name), netns: plan.controlPlane.netns, log: cpLog(plan, name) });
}

/** A component that has exited is an error now, with its log, rather than a timeout later. */
export function checkAlive(plan: ClusterPlan, name: string, log: string): void {
  if (daemonPid(plan, name) !== undefined) return;
  throw new Error(`${name} exited; the end of ${log}:\n${logTail(log)}`);
}

/** A component's /healthz inside the control plane's namespace (it listens on that loopback). */
function healthz(plan: ClusterPlan, port: number): boolean {
  return (
    tryRun('nsenter', [`--net=/run/netns/${plan.controlPlane.netns}`, '--', 'curl', '-sk', '--max-time', '2', `https://127.0.0.1:${port}/healthz`]).stdout ===
    'ok'
  );
}

/** docker-registry on the control plane's address, serving a copy of the stand-ins' storage. */
export async function startRegistry(plan: ClusterPlan): Promise<void> {
  const dir = path.join(plan.dir, 'registry');
  const storage = path.join(dir, 'storage');
  if (!fs.existsSync(storage)) fs.cpSync(await clusterImagesStorage(), storage, { recursive: true });
  const config = path.join(dir, 'config.yml');
  fs.writeFileSync(
    config,
    [
      'version: 0.1',
      'log:',
      '  level: error',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${storage}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: ${plan.registry}`,
      '',
    ].join('\n'),
  );
  writeClusterMirrors(mirrorsDir(plan), plan.registry);
  const log = path.join(dir, 'registry.log');
  await startDaemon(plan, { name: 'registry', bin: 'docker-registry', args: ['serve', config], netns: plan.controlPlane.netns, log });
  await waitFor(`the registry on ${plan.registry}`, 30_000, () => {
    checkAlive(plan, 'registry', log);
    return tryRun('curl', ['-sf', '--max-time', '2', `http://${plan.registry}/v2/`]).code === 0 || 'no answer';
  });
}

export async function startControlPlane(plan: ClusterPlan): Promise<void> {
  await start(plan, 'etcd');
  await start(plan, 'kube-apiserver');
  await waitFor('the API server to be ready', 120_000, () => {
    checkAlive(plan, 'etcd', cpLog(plan, 'etcd'));
    checkAlive(plan, 'kube-apiserver', cpLog(plan, 'kube-apiserver'));
    const r = tryKubectl(plan, ['get', '--raw', '/readyz']);
    return r.stdout.trim() === 'ok' || (r.stderr || r.stdout).trim().split('\n').pop();
  });
  await start(plan, 'kube-controller-manager');
  await start(plan, 'kube-scheduler');
  await waitFor('the controller manager and the scheduler to be healthy', 60_000, () => {
    for (const [name, port] of [
      ['kube-controller-manager', 10257],
      ['kube-scheduler', 10259],
    ] as const) {
      checkAlive(plan, name, cpLog(plan, name));
      if (!healthz(plan, port)) return `${name} not healthy yet`;
    }
    return true;
  });
}
