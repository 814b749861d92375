// Certificates and kubeconfigs, made with openssl in kubeadm's layout: one CA signs the API
// server's serving certificate, the clients' certificates (the name in each is who Kubernetes'
// RBAC and Node authorizers take the client to be) and the kubelets' serving certificates.
//
// control-plane/etc/kubernetes/pki/  ca.{crt,key} apiserver.{crt,key} apiserver-kubelet-client.{crt,key} sa.{key,pub}
// control-plane/etc/kubernetes/      admin.conf controller-manager.conf scheduler.conf
// nodes/<n>/etc/kubernetes/          kubelet.conf kube-proxy.conf pki/ca.crt
// nodes/<n>/var/lib/kubelet/pki/     kubelet.{crt,key} (serving, for the API server's calls)
//
// Keys are ECDSA P-256 (kubeadm's option; quick to make), the service-account key RSA 2048.
// etcd has no certificates: it listens only on the control plane namespace's loopback.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ClusterPlan, NodePlan } from './layout';
import { run } from './sh';

export function pkiDir(plan: ClusterPlan): string {
  return path.join(plan.controlPlane.root, 'etc', 'kubernetes', 'pki');
}

export function kubeconfigPath(plan: ClusterPlan, who: 'admin' | 'controller-manager' | 'scheduler'): string {
  return path.join(plan.controlPlane.root, 'etc', 'kubernetes', `${who}.conf`);
}

export function nodeKubeconfig(n: NodePlan, who: 'kubelet' | 'kube-proxy'): string {
  return path.join(n.root, 'etc', 'kubernetes', `${who}.conf`);
}

export function nodeCaFile(n: NodePlan): string {
  return path.join(n.root, 'etc', 'kubernetes', 'pki', 'ca.crt');
}

export function kubeletServingCert(n: NodePlan): { cert: string; key: string } {
  const dir = path.join(n.root, 'var', 'lib', 'kubelet', 'pki');
  return { cert: path.join(dir, 'kubelet.crt'), key: path.join(dir, 'kubelet.key') };
}

function ecKey(file: string): void {
  run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file]);
  fs.chmodSync(file, 0o600);
}

interface LeafSpec {
  /** "/O=system:nodes/CN=system:node:x" */
  subject: string;
  usage: 'client' | 'server';
  dns?: string[];
  ips?: string[];
}

/** A key and a certificate signed by the CA in `pki`, written as <base>.key and <base>.crt. */
function leaf(pki: string, base: string, spec: LeafSpec): void {
  ecKey(`${base}.key`);
  const csr = `${base}.csr`;
  const ext = `${base}.ext`;
  run('openssl', ['req', '-new', '-key', `${base}.key`, '-subj', spec.subject, '-out', csr]);
  const san = [...(spec.dns ?? []).map((d) => `DNS:${d}`), ...(spec.ips ?? []).map((i) => `IP:${i}`)];
  fs.writeFileSync(
    ext,
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      `extendedKeyUsage=${spec.usage === 'server' ? 'serverAuth' : 'clientAuth'}`,
      ...(san.length ? [`subjectAltName=${san.join(',')}`] : []),
    ].join('\n') + '\n',
  );
  run('openssl', [
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    path.join(pki, 'ca.crt'),
    '-CAkey',
    path.join(pki, 'ca.key'),
    '-set_serial',
    `0x${randomBytes(16).toString('hex')}`,
    '-days',
    '365',
    '-extfile',
    ext,
    '-out',
    `${base}.crt`,
  ]);
  fs.rmSync(csr);
  fs.rmSync(ext);
}

const b64 = (file: string): string => fs.readFileSync(file).toString('base64');

/** A kubeconfig with the CA and a client certificate embedded, as kubeadm writes them. */
function kubeconfig(file: string, plan: ClusterPlan, user: string, certBase: string): void {
  const pki = pkiDir(plan);
  const ctx = `${user}@${plan.name}`;
  const text = `apiVersion: v1
kind: Config
clusters:
- name: ${plan.name}
  cluster:
    certificate-authority-data: ${b64(path.join(pki, 'ca.crt'))}
    server: https://${plan.controlPlane.ip}:6443
contexts:
- name: ${ctx}
  context:
    cluster: ${plan.name}
    user: ${user}
current-context: ${ctx}
users:
- name: ${user}
  user:
    client-certificate-data: ${b64(`${certBase}.crt`)}
    client-key-data: ${b64(`${certBase}.key`)}
`;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text, { mode: 0o600 });
}

export function makePki(plan: ClusterPlan): void {
  const pki = pkiDir(plan);
  fs.mkdirSync(pki, { recursive: true, mode: 0o700 });
  ecKey(path.join(pki, 'ca.key'));
  run('openssl', [
    'req',
    '-x509',
    '-new',
    '-key',
    path.join(pki, 'ca.key'),
    '-subj',
    '/CN=kubernetes',
    '-days',
    '3650',
    '-out',
    path.join(pki, 'ca.crt'),
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign',
  ]);

  leaf(pki, path.join(pki, 'apiserver'), {
    subject: '/CN=kube-apiserver',
    usage: 'server',
    dns: ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local', `${plan.name}-control-plane`],
    ips: [plan.apiServiceIp, plan.controlPlane.ip, ...plan.nodes.map((n) => n.ip)],
  });
  // What the API server shows the kubelets for logs, exec, port-forward and the node proxy.
  leaf(pki, path.join(pki, 'apiserver-kubelet-client'), { subject: '/O=system:masters/CN=kube-apiserver-kubelet-client', usage: 'client' });
  // Service account tokens: the API server signs with the private key and checks with the public one.
  run('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', path.join(pki, 'sa.key')]);
  fs.chmodSync(path.join(pki, 'sa.key'), 0o600);
  run('openssl', ['pkey', '-in', path.join(pki, 'sa.key'), '-pubout', '-out', path.join(pki, 'sa.pub')]);

  const users: [string, 'admin' | 'controller-manager' | 'scheduler', string][] = [
    ['/O=system:masters/CN=kubernetes-admin', 'admin', 'kubernetes-admin'],
    ['/CN=system:kube-controller-manager', 'controller-manager', 'system:kube-controller-manager'],
    ['/CN=system:kube-scheduler', 'scheduler', 'system:kube-scheduler'],
  ];
  const clients = path.join(plan.controlPlane.root, 'etc', 'kubernetes', 'clients');
  fs.mkdirSync(clients, { recursive: true, mode: 0o700 });
  for (const [subject, who, user] of users) {
    leaf(pki, path.join(clients, who), { subject, usage: 'client' });
    kubeconfig(kubeconfigPath(plan, who), plan, user, path.join(clients, who));
  }
  fs.rmSync(clients, { recursive: true });

  for (const n of plan.nodes) {
    const etc = path.join(n.root, 'etc', 'kubernetes');
    fs.mkdirSync(path.join(etc, 'pki'), { recursive: true, mode: 0o700 });
    fs.copyFileSync(path.join(pki, 'ca.crt'), nodeCaFile(n));
    const tmp = path.join(etc, 'pki', 'tmp');
    fs.mkdirSync(tmp, { mode: 0o700 });
    // The Node authorizer and NodeRestriction admission know a kubelet by this name and group.
    leaf(pki, path.join(tmp, 'kubelet'), { subject: `/O=system:nodes/CN=system:node:${n.name}`, usage: 'client' });
    kubeconfig(nodeKubeconfig(n, 'kubelet'), plan, `system:node:${n.name}`, path.join(tmp, 'kubelet'));
    // Bound to the system:node-proxier role by Kubernetes' default policy.
    leaf(pki, path.join(tmp, 'kube-proxy'), { subject: '/CN=system:kube-proxy', usage: 'client' });
    kubeconfig(nodeKubeconfig(n, 'kube-proxy'), plan, 'system:kube-proxy', path.join(tmp, 'kube-proxy'));
    fs.rmSync(tmp, { recursive: true });
    const serving = kubeletServingCert(n);
    fs.mkdirSync(path.dirname(serving.cert), { recursive: true, mode: 0o700 });
    leaf(pki, serving.cert.replace(/\.crt$/, ''), { subject: `/O=system:nodes/CN=system:node:${n.name}`, usage: 'server', dns: [n.name], ips: [n.ip] });
  }
}
