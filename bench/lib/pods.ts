// The pod and container the CRI benches ask for, as kubelet would: pod network from CNI, a
// container PID namespace, the bench's cgroup parent, logs in a pod log directory; and the
// lifecycle calls, each timed.
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CriClient } from './cri-client';
import type { CriEnv } from './cri-env';

export interface PodSpec {
  name: string;
  sandbox: Record<string, unknown>;
  container: Record<string, unknown>;
}

/** A sleeping container that exits at once on SIGTERM (the trap interrupts `wait`). */
export const SLEEPER = ['sh', '-c', 'trap "exit 0" TERM; sleep 3600 & wait'];

export function podSpec(env: CriEnv, name: string, logRoot: string): PodSpec {
  const uid = randomUUID();
  const logDir = path.join(logRoot, name);
  fs.mkdirSync(logDir, { recursive: true });
  const namespace_options = { network: 'POD', pid: 'CONTAINER', ipc: 'POD' };
  const sandbox = {
    metadata: { name, uid, namespace: 'tsrun-bench', attempt: 0 },
    hostname: name,
    log_directory: logDir,
    labels: { 'tsrun-bench': '1' },
    linux: { cgroup_parent: env.cgroupParent, security_context: { namespace_options } },
  };
  const container = {
    metadata: { name: 'sleeper', attempt: 0 },
    image: { image: env.busybox },
    command: SLEEPER,
    log_path: 'sleeper.log',
    labels: { 'tsrun-bench': '1' },
    linux: { resources: {}, security_context: { namespace_options } },
  };
  return { name, sandbox, container };
}

const now = (): number => Number(process.hrtime.bigint()) / 1e6;

export async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t = now();
  const r = await f();
  return [r, now() - t];
}

export interface Started {
  podId: string;
  containerId: string;
  ms: { RunPodSandbox: number; CreateContainer: number; StartContainer: number; total: number };
}

export async function startPod(c: CriClient, p: PodSpec): Promise<Started> {
  const t0 = now();
  const [pod, run] = await timed(() => c.runtime('RunPodSandbox', { config: p.sandbox }));
  const podId = pod['pod_sandbox_id'] as string;
  const [ctr, create] = await timed(() => c.runtime('CreateContainer', { pod_sandbox_id: podId, config: p.container, sandbox_config: p.sandbox }));
  const containerId = ctr['container_id'] as string;
  const [, start] = await timed(() => c.runtime('StartContainer', { container_id: containerId }));
  return { podId, containerId, ms: { RunPodSandbox: run, CreateContainer: create, StartContainer: start, total: now() - t0 } };
}

/** Throws unless the container runs and the pod got an address from CNI: a bench must not time failures. */
export async function verifyPod(c: CriClient, s: Started): Promise<string> {
  const ps = await c.runtime('PodSandboxStatus', { pod_sandbox_id: s.podId });
  const cs = await c.runtime('ContainerStatus', { container_id: s.containerId });
  const ip = ps['status']?.network?.ip as string | undefined;
  const state = cs['status']?.state as string | undefined;
  if (!ip || state !== 'CONTAINER_RUNNING') throw new Error(`pod ${s.podId}: ip ${ip || 'none'}, container ${state}`);
  return ip;
}

export interface Stopped {
  StopContainer: number;
  RemoveContainer: number;
  StopPodSandbox: number;
  RemovePodSandbox: number;
  total: number;
}

/** Kubelet's order: stop the container (SIGTERM, 10 s grace), remove it, stop and remove the pod. */
export async function stopPod(c: CriClient, s: Started): Promise<Stopped> {
  const t0 = now();
  const [, stopC] = await timed(() => c.runtime('StopContainer', { container_id: s.containerId, timeout: 10 }));
  const [, rmC] = await timed(() => c.runtime('RemoveContainer', { container_id: s.containerId }));
  const [, stopP] = await timed(() => c.runtime('StopPodSandbox', { pod_sandbox_id: s.podId }));
  const [, rmP] = await timed(() => c.runtime('RemovePodSandbox', { pod_sandbox_id: s.podId }));
  return { StopContainer: stopC, RemoveContainer: rmC, StopPodSandbox: stopP, RemovePodSandbox: rmP, total: now() - t0 };
}

/** Pulls the bench images (and times the busybox pull, cold). */
export async function pullImages(c: CriClient, env: CriEnv): Promise<number> {
  const [, ms] = await timed(() => c.image('PullImage', { image: { image: env.busybox } }));
  await c.image('PullImage', { image: { image: env.pause } });
  return ms;
}
