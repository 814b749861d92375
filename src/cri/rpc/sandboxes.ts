// RunPodSandbox, StopPodSandbox, RemovePodSandbox, PodSandboxStatus, ListPodSandbox,
// UpdatePodSandboxResources.
import type { CriContext } from '../context';
import { invalid } from '../errors';
import { removeContainer, stopContainer } from '../container/lifecycle';
import type { CriReceived } from '../proto';
import { applyPodResources, getSandbox, removeSandbox, requireReady, runSandbox, stopSandbox } from '../sandbox/lifecycle';
import { nowNs } from '../store/types';
import { matchLabels, sandboxMessage, sandboxStatus } from './convert';

/** The container-level steps a pod's stop and removal need, with the containers' locks held. */
export function podSteps(ctx: CriContext): { stop: (id: string) => Promise<void>; remove: (id: string) => Promise<void> } {
  return {
    stop: (id) =>
      ctx.withLock(id, async () => {
        const c = ctx.containers.get(id);
        if (c) await stopContainer(ctx, c, 0);
      }),
    remove: (id) =>
      ctx.withLock(id, async () => {
        const c = ctx.containers.get(id);
        if (c) await removeContainer(ctx, c);
      }),
  };
}

export async function RunPodSandbox(ctx: CriContext, req: CriReceived<'RunPodSandboxRequest'>) {
  if (!req.config) throw invalid('config is required');
  return { pod_sandbox_id: await runSandbox(ctx, req.config, req.runtime_handler) };
}

export async function StopPodSandbox(ctx: CriContext, req: CriReceived<'StopPodSandboxRequest'>) {
  // Stopping what is gone succeeds, as the CRI asks of Stop (the kubelet retries it).
  const s = ctx.sandboxes.find(req.pod_sandbox_id);
  if (!s) return {};
  await ctx.withLock(s.id, () => stopSandbox(ctx, s, podSteps(ctx).stop));
  return {};
}

export async function RemovePodSandbox(ctx: CriContext, req: CriReceived<'RemovePodSandboxRequest'>) {
  // Removing what is already gone succeeds: the kubelet retries removals.
  const s = ctx.sandboxes.find(req.pod_sandbox_id);
  if (!s) return {};
  const steps = podSteps(ctx);
  await ctx.withLock(s.id, () => removeSandbox(ctx, s, steps.remove, steps.stop));
  return {};
}

export async function PodSandboxStatus(ctx: CriContext, req: CriReceived<'PodSandboxStatusRequest'>) {
  const s = getSandbox(ctx, req.pod_sandbox_id);
  const info: Record<string, string> = {};
  if (req.verbose)
    info['info'] = JSON.stringify({ pid: s.infra?.pid ?? 0, netns: s.netns ?? '', cgroupParent: s.cgroupParent, hostname: s.hostname, config: s.config });
  return { status: sandboxStatus(s), info, containers_statuses: [], timestamp: nowNs() };
}

export async function ListPodSandbox(ctx: CriContext, req: CriReceived<'ListPodSandboxRequest'>) {
  const f = req.filter;
  const items = ctx.sandboxes
    .all()
    .filter((s) => !f?.id || s.id.startsWith(f.id))
    .filter((s) => !f?.state || s.state === f.state.state)
    .filter((s) => matchLabels(s.config.labels, f?.label_selector))
    .sort((a, b) => (BigInt(a.createdAt) < BigInt(b.createdAt) ? -1 : 1));
  return { items: items.map(sandboxMessage) };
}

/**
 * An in-place pod resize. The kubelet has already resized its own pod cgroup; a pod cgroup that
 * tsrun made gets the new limits here. The pod's config keeps them either way (verbose status).
 */
export async function UpdatePodSandboxResources(ctx: CriContext, req: CriReceived<'UpdatePodSandboxResourcesRequest'>) {
  const s = getSandbox(ctx, req.pod_sandbox_id);
  await ctx.withLock(s.id, async () => {
    requireReady(s);
    const linux = { ...(s.config.linux ?? { cgroup_parent: '', security_context: null, sysctls: {}, overhead: null, resources: null }) };
    if (req.overhead) linux.overhead = req.overhead;
    if (req.resources) linux.resources = req.resources;
    s.config.linux = linux as typeof s.config.linux;
    await applyPodResources(s);
    ctx.sandboxes.save(s);
  });
  return {};
}
