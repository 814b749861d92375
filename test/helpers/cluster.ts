// A cluster made by scripts/cluster.sh, driven as a user drives it: the script's verbs and its
// kubectl, from this (the host's) side. Calls are asynchronous so a test can poll a Service
// while kubectl waits on a rollout.
import { spawn } from 'node:child_process';
import * as http from 'node:http';
import * as path from 'node:path';
import { ROOT_DIR } from './tsrun';

export const CLUSTER_SH = path.join(ROOT_DIR, 'scripts', 'cluster.sh');

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

export function runAsync(cmd: string, args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    p.on('error', reject);
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
    p.stdin.end(opts.input ?? '');
  });
}

export class Cluster {
  constructor(readonly name: string) {}

  sh(args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<Ran> {
    return runAsync(CLUSTER_SH, ['--name', this.name, ...args], opts);
  }

  /** kubectl ARGS through the script; throws with kubectl's stderr when it fails. */
  async kubectl(args: string[], input?: string): Promise<string> {
    const r = await this.sh(['kubectl', ...args], { input });
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} (exit ${r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
    return r.stdout;
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async json<T = any>(args: string[]): Promise<T> {
    return JSON.parse(await this.kubectl([...args, '-o', 'json'])) as T;
  }

  /** Node name -> InternalIP, as `kubectl get nodes -o wide` shows them. */
  async nodeIps(): Promise<Map<string, string>> {
    const nodes = await this.json<{ items: { metadata: { name: string }; status: { addresses: { type: string; address: string }[] } }[] }>(['get', 'nodes']);
    return new Map(nodes.items.map((n) => [n.metadata.name, n.status.addresses.find((a) => a.type === 'InternalIP')!.address]));
  }

  async pods(selector: string, namespace = 'default'): Promise<Pod[]> {
    return (await this.json<{ items: Pod[] }>(['get', 'pods', '-n', namespace, '-l', selector])).items;
  }
}

export interface Pod {
  metadata: { name: string; deletionTimestamp?: string; labels?: Record<string, string> };
  spec: { nodeName?: string; containers: { name: string; image: string }[] };
  status: { phase: string; podIP?: string; conditions?: { type: string; status: string }[] };
}

export const isReady = (p: Pod): boolean =>
  !p.metadata.deletionTimestamp && p.status.phase === 'Running' && !!p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

/** One GET on a new connection (no keep-alive: each request is routed afresh). */
export function get(url: string, timeoutMs = 3000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}
