// The files a pod's containers share, written once per pod as the kubelet asks (DNSConfig,
// hostname, hostAliases come through /etc/hosts entries the kubelet writes itself when it
// mounts them; without a kubelet, crictl users get these defaults).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DNSConfig__Output } from '../generated/runtime/v1/DNSConfig';

export function resolvConf(dns: DNSConfig__Output | null): string {
  if (!dns || (!dns.servers.length && !dns.searches.length && !dns.options.length)) return safeRead('/etc/resolv.conf');
  const lines: string[] = [];
  if (dns.searches.length) lines.push(`search ${dns.searches.join(' ')}`);
  for (const s of dns.servers) lines.push(`nameserver ${s}`);
  if (dns.options.length) lines.push(`options ${dns.options.join(' ')}`);
  return lines.join('\n') + '\n';
}

export function hostsFile(hostname: string, ip: string | undefined): string {
  const lines = [
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'fe00::0\tip6-mcastprefix',
    'fe00::1\tip6-allnodes',
    'fe00::2\tip6-allrouters',
  ];
  if (ip) lines.push(`${ip}\t${hostname}`);
  return lines.join('\n') + '\n';
}

export function writePodFiles(
  dir: string,
  hostname: string,
  dns: DNSConfig__Output | null,
  ip: string | undefined,
  hostNetwork: boolean,
): { resolv: string; hosts: string; hostname: string } {
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  const files = { resolv: path.join(dir, 'resolv.conf'), hosts: path.join(dir, 'hosts'), hostname: path.join(dir, 'hostname') };
  fs.writeFileSync(files.resolv, resolvConf(dns), { mode: 0o644 });
  // With the host's network, containers see the host's /etc/hosts, as with docker --net=host.
  fs.writeFileSync(files.hosts, hostNetwork ? safeRead('/etc/hosts') : hostsFile(hostname, ip), { mode: 0o644 });
  fs.writeFileSync(files.hostname, hostname + '\n', { mode: 0o644 });
  return files;
}

function safeRead(f: string): string {
  try {
    return fs.readFileSync(f, 'utf8');
  } catch {
    return '';
  }
}
