// ContainerStats, ListContainerStats, PodSandboxStats, ListPodSandboxStats, read from the
// cgroups. CPU usage in nano-cores needs two samples: the previous one is kept per id.
import { memoryStat, workingSetBytes, type CgroupStats } from '../../cgroups/stats';
import { containerCgroup, getContainer, refreshExit, writableLayer } from '../container/lifecycle';
import type { CriContext } from '../context';
import type { ContainerStats, CriReceived, PodSandboxStats } from '../proto';
import { getSandbox } from '../sandbox/lifecycle';
import { nowNs, type ContainerRecord, type SandboxRecord } from '../store/types';
import { diskUsage } from '../store/disk-usage';
import { matchLabels } from './convert';

function layerUsage(dir: string) {
  const u = diskUsage(dir);
  return { used_bytes: { value: String(u.bytes) }, inodes_used: { value: String(u.inodes) } };
}

const lastCpu = new Map<string, { ns: bigint; usage: bigint }>();

function cpuOf(id: string, s: CgroupStats, ts: string) {
  const usage = BigInt(Math.round(s.cpu.usage.total));
  const now = process.hrtime.bigint();
  const prev = lastCpu.get(id);
  lastCpu.set(id, { ns: now, usage });
  const nanoCores = prev && now > prev.ns ? ((usage - prev.usage) * 1_000_000_000n) / (now - prev.ns) : 0n;
  return { timestamp: ts, usage_core_nano_seconds: { value: String(usage) }, usage_nano_cores: { value: String(nanoCores < 0n ? 0n : nanoCores) } };
}

function memoryOf(s: CgroupStats, ts: string) {
  const usage = s.memory.usage.usage;
  const workingSet = workingSetBytes(s);
  const limit = s.memory.usage.limit;
  const available = limit > 0 && limit < 2 ** 62 ? Math.max(0, limit - workingSet) : 0;
  return {
    timestamp: ts,
    working_set_bytes: { value: String(workingSet) },
    available_bytes: { value: String(available) },
    usage_bytes: { value: String(usage) },
    rss_bytes: { value: String(memoryStat(s, 'total_rss', 'anon', 'rss')) },
    page_faults: { value: String(memoryStat(s, 'total_pgfault', 'pgfault')) },
    major_page_faults: { value: String(memoryStat(s, 'total_pgmajfault', 'pgmajfault')) },
  };
}

function statsOf(c: ContainerRecord): CgroupStats | undefined {
  try {
    return containerCgroup(c).stats();
  } catch {
    return undefined;
  }
}

/** `s`: the container's cgroup stats when the caller has read them already. */
function containerStats(ctx: CriContext, c: ContainerRecord, s = c.state === 'CONTAINER_RUNNING' ? statsOf(c) : undefined): ContainerStats {
  const ts = nowNs();
  return {
    attributes: { id: c.id, metadata: c.config.metadata, labels: c.config.labels, annotations: c.config.annotations },
    cpu: s ? cpuOf(c.id, s, ts) : { timestamp: ts, usage_core_nano_seconds: { value: '0' }, usage_nano_cores: { value: '0' } },
    memory: s ? memoryOf(s, ts) : { timestamp: ts, working_set_bytes: { value: '0' } },
    writable_layer: { timestamp: ts, fs_id: { mountpoint: ctx.opts.stateDir }, ...layerUsage(writableLayer(ctx, c.id)) },
  };
}

export async function ContainerStats(ctx: CriContext, req: CriReceived<'ContainerStatsRequest'>) {
  const c = getContainer(ctx, req.container_id);
  refreshExit(ctx, c);
  return { stats: containerStats(ctx, c) };
}

export async function ListContainerStats(ctx: CriContext, req: CriReceived<'ListContainerStatsRequest'>) {
  const f = req.filter;
  const items = ctx.containers
    .all()
    .filter((c) => (refreshExit(ctx, c), c.state === 'CONTAINER_RUNNING'))
    .filter((c) => !f?.id || c.id.startsWith(f.id))
    .filter((c) => !f?.pod_sandbox_id || c.sandboxId.startsWith(f.pod_sandbox_id))
    .filter((c) => matchLabels(c.config.labels, f?.label_selector));
  return { stats: items.map((c) => containerStats(ctx, c)) };
}

function podStats(ctx: CriContext, s: SandboxRecord): PodSandboxStats {
  const ts = nowNs();
  const containers = ctx.containers.all().filter((c) => c.sandboxId === s.id && c.state === 'CONTAINER_RUNNING');
  // One read of each container's cgroup serves its stats and the pod's process count.
  const raw = containers.map((c) => statsOf(c));
  const cs = containers.map((c, i) => containerStats(ctx, c, raw[i]));
  const sum = (get: (x: ContainerStats) => string | undefined): string => String(cs.reduce((a, x) => a + BigInt(get(x) ?? '0'), 0n));
  const procs = raw.reduce((n, r) => n + (r?.pids.current ?? 0), 0);
  return {
    attributes: { id: s.id, metadata: s.config.metadata, labels: s.config.labels, annotations: s.config.annotations },
    linux: {
      cpu: {
        timestamp: ts,
        usage_core_nano_seconds: { value: sum((x) => x.cpu?.usage_core_nano_seconds?.value as string) },
        usage_nano_cores: { value: sum((x) => x.cpu?.usage_nano_cores?.value as string) },
      },
      memory: {
        timestamp: ts,
        working_set_bytes: { value: sum((x) => x.memory?.working_set_bytes?.value as string) },
        usage_bytes: { value: sum((x) => x.memory?.usage_bytes?.value as string) },
      },
      process: { timestamp: ts, process_count: { value: String(procs) } },
      containers: cs,
    },
  };
}

export async function PodSandboxStats(ctx: CriContext, req: CriReceived<'PodSandboxStatsRequest'>) {
  return { stats: podStats(ctx, getSandbox(ctx, req.pod_sandbox_id)) };
}

export async function ListPodSandboxStats(ctx: CriContext, req: CriReceived<'ListPodSandboxStatsRequest'>) {
  const f = req.filter;
  const items = ctx.sandboxes
    .all()
    .filter((s) => s.state === 'SANDBOX_READY')
    .filter((s) => !f?.id || s.id.startsWith(f.id))
    .filter((s) => matchLabels(s.config.labels, f?.label_selector));
  return { stats: items.map((s) => podStats(ctx, s)) };
}
