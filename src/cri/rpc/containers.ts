// CreateContainer, StartContainer, StopContainer, RemoveContainer, ListContainers,
// ContainerStatus, UpdateContainerResources, ReopenContainerLog.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CriContext } from '../context';
import { createContainer, getContainer, refreshExit, removeContainer, startContainer, stopContainer } from '../container/lifecycle';
import { badState, invalid } from '../errors';
import { reopenLog } from '../monitor';
import type { CriReceived } from '../proto';
import { ociResources } from '../specgen/resources';
import { containerMessage, containerStatus, matchLabels } from './convert';

export async function CreateContainer(ctx: CriContext, req: CriReceived<'CreateContainerRequest'>) {
  if (!req.config) throw invalid('config is required');
  const id = await ctx.withLock(req.pod_sandbox_id, () => createContainer(ctx, req.pod_sandbox_id, req.config!));
  return { container_id: id };
}

export async function StartContainer(ctx: CriContext, req: CriReceived<'StartContainerRequest'>) {
  const c = getContainer(ctx, req.container_id);
  await ctx.withLock(c.id, () => startContainer(ctx, c));
  return {};
}

export async function StopContainer(ctx: CriContext, req: CriReceived<'StopContainerRequest'>) {
  // Stopping what is gone succeeds, as the CRI asks of Stop (the kubelet retries it).
  const c = ctx.containers.find(req.container_id);
  if (!c) return {};
  await ctx.withLock(c.id, () => stopContainer(ctx, c, Number(req.timeout)));
  return {};
}

export async function RemoveContainer(ctx: CriContext, req: CriReceived<'RemoveContainerRequest'>) {
  const c = ctx.containers.find(req.container_id);
  if (!c) return {};
  await ctx.withLock(c.id, () => removeContainer(ctx, c));
  return {};
}

export async function ListContainers(ctx: CriContext, req: CriReceived<'ListContainersRequest'>) {
  const f = req.filter;
  const all = ctx.containers.all();
  for (const c of all) refreshExit(ctx, c);
  const items = all
    .filter((c) => !f?.id || c.id.startsWith(f.id))
    .filter((c) => !f?.pod_sandbox_id || c.sandboxId.startsWith(f.pod_sandbox_id))
    .filter((c) => !f?.state || c.state === f.state.state)
    .filter((c) => matchLabels(c.config.labels, f?.label_selector))
    .sort((a, b) => (BigInt(a.createdAt) < BigInt(b.createdAt) ? -1 : 1));
  return { containers: items.map(containerMessage) };
}

/** The OCI spec the container was created from, as containerd shows it (`crictl inspect`). */
function runtimeSpecOf(c: { bundle: string }): unknown {
  try {
    return JSON.parse(fs.readFileSync(path.join(c.bundle, 'config.json'), 'utf8'));
  } catch {
    return undefined; // removed with the container's bundle
  }
}

export async function ContainerStatus(ctx: CriContext, req: CriReceived<'ContainerStatusRequest'>) {
  const c = getContainer(ctx, req.container_id);
  refreshExit(ctx, c);
  const info: Record<string, string> = {};
  if (req.verbose)
    info['info'] = JSON.stringify({
      pid: c.pid,
      sandboxID: c.sandboxId,
      bundle: c.bundle,
      cgroupsPath: c.cgroupsPath,
      config: c.config,
      runtimeSpec: runtimeSpecOf(c),
    });
  return { status: containerStatus(c), info };
}

export async function UpdateContainerResources(ctx: CriContext, req: CriReceived<'UpdateContainerResourcesRequest'>) {
  const c = getContainer(ctx, req.container_id);
  await ctx.withLock(c.id, async () => {
    refreshExit(ctx, c);
    if (c.state !== 'CONTAINER_RUNNING' && c.state !== 'CONTAINER_CREATED') throw badState(`container ${c.id} is not running`);
    const r = ociResources(req.linux);
    // Not started yet: the runtime has no container; it will be made with these resources.
    if (c.monitor) await ctx.runtime.update(c.id, r);
    else ctx.runtime.updateBundle(c.bundle, r);
    if (req.linux) {
      c.config.linux = { ...(c.config.linux ?? { security_context: null }), resources: req.linux } as typeof c.config.linux;
      ctx.containers.save(c);
    }
  });
  return {};
}

export async function ReopenContainerLog(ctx: CriContext, req: CriReceived<'ReopenContainerLogRequest'>) {
  const c = getContainer(ctx, req.container_id);
  refreshExit(ctx, c);
  if (c.state !== 'CONTAINER_RUNNING') throw badState(`container ${c.id} is not running`);
  await reopenLog(ctx.paths.monitorDir(c.id));
  return {};
}
