// ListMetricDescriptors and ListPodSandboxMetrics: cAdvisor's container_* metrics, read from the
// cgroups and the pod's network namespace. A kubelet with PodAndContainerStatsFromCRI serves
// them on /metrics/cadvisor instead of running cAdvisor. Every metric is labelled id, image,
// namespace, pod, container (cAdvisor's names), then its own labels; pod-wide ones (the network)
// have container "POD". The wire carries UInt64 values, so seconds are whole seconds.
import * as fs from 'node:fs';
import { memoryStat, workingSetBytes, type CgroupStats } from '../../cgroups/stats';
import { containerCgroup, refreshExit, writableLayer } from '../container/lifecycle';
import type { CriContext } from '../context';
import type { ContainerRecord, SandboxRecord } from '../store/types';
import { nowNs } from '../store/types';
import { diskUsage } from '../store/disk-usage';

type MetricType = 'COUNTER' | 'GAUGE';
const BASE_LABELS = ['id', 'image', 'namespace', 'pod', 'container'];

/** What one container's metrics are computed from: one cgroup read per container. */
interface ContainerSample {
  c: ContainerRecord;
  stats: CgroupStats;
  oomKills: number;
  /** bytes in the container's writable layer */
  writable: { bytes: bigint };
}

/** A metric's samples: value, then the values of the metric's own labels. */
type Samples<T> = (s: T) => [value: bigint | number, labels?: string[]][];

interface MetricDef<T> {
  name: string;
  help: string;
  type: MetricType;
  labels?: string[];
  samples: Samples<T>;
}

const NS_PER_S = 1_000_000_000;
const seconds = (ns: number | bigint | string): bigint => BigInt(ns) / BigInt(NS_PER_S);
/** v1 counts memory+swap (memsw), v2 swap alone; v1's stats carry total_* keys. */
const swapOnly = (s: ContainerSample): number => {
  const v1 = s.stats.memory.raw['total_cache'] !== undefined;
  return v1 ? Math.max(0, s.stats.memory.swap_usage.usage - s.stats.memory.usage.usage) : s.stats.memory.swap_usage.usage;
};
/** A CRI resource field: 0 when unset (the wire has no negative limits to show). */
const spec = (v: string | number | undefined): number => Math.max(0, Number(v ?? 0));

const CONTAINER_METRICS: MetricDef<ContainerSample>[] = [
  { name: 'container_last_seen', help: 'Last time a container was seen by the exporter', type: 'GAUGE', samples: () => [[seconds(nowNs())]] },
  {
    name: 'container_start_time_seconds',
    help: 'Start time of the container since unix epoch in seconds.',
    type: 'GAUGE',
    samples: (s) => [[seconds(s.c.startedAt || '0')]],
  },
  {
    name: 'container_cpu_usage_seconds_total',
    help: 'Cumulative cpu time consumed in seconds.',
    type: 'COUNTER',
    labels: ['cpu'],
    samples: (s) => [[seconds(Math.round(s.stats.cpu.usage.total)), ['total']]],
  },
  {
    name: 'container_cpu_user_seconds_total',
    help: 'Cumulative user cpu time consumed in seconds.',
    type: 'COUNTER',
    samples: (s) => [[seconds(Math.round(s.stats.cpu.usage.user))]],
  },
  {
    name: 'container_cpu_system_seconds_total',
    help: 'Cumulative system cpu time consumed in seconds.',
    type: 'COUNTER',
    samples: (s) => [[seconds(Math.round(s.stats.cpu.usage.kernel))]],
  },
  {
    name: 'container_cpu_cfs_periods_total',
    help: 'Number of elapsed enforcement period intervals.',
    type: 'COUNTER',
    samples: (s) => [[s.stats.cpu.throttling.periods]],
  },
  {
    name: 'container_cpu_cfs_throttled_periods_total',
    help: 'Number of throttled period intervals.',
    type: 'COUNTER',
    samples: (s) => [[s.stats.cpu.throttling.throttled_periods]],
  },
  {
    name: 'container_cpu_cfs_throttled_seconds_total',
    help: 'Total time duration the container has been throttled.',
    type: 'COUNTER',
    samples: (s) => [[seconds(Math.round(s.stats.cpu.throttling.throttled_time))]],
  },
  {
    name: 'container_memory_usage_bytes',
    help: 'Current memory usage in bytes, including all memory regardless of when it was accessed',
    type: 'GAUGE',
    samples: (s) => [[s.stats.memory.usage.usage]],
  },
  { name: 'container_memory_working_set_bytes', help: 'Current working set in bytes.', type: 'GAUGE', samples: (s) => [[workingSetBytes(s.stats)]] },
  { name: 'container_memory_rss', help: 'Size of RSS in bytes.', type: 'GAUGE', samples: (s) => [[memoryStat(s.stats, 'total_rss', 'anon')]] },
  {
    name: 'container_memory_cache',
    help: 'Number of bytes of page cache memory.',
    type: 'GAUGE',
    samples: (s) => [[memoryStat(s.stats, 'total_cache', 'file')]],
  },
  {
    name: 'container_memory_mapped_file',
    help: 'Size of memory mapped files in bytes.',
    type: 'GAUGE',
    samples: (s) => [[memoryStat(s.stats, 'total_mapped_file', 'file_mapped')]],
  },
  { name: 'container_memory_swap', help: 'Container swap usage in bytes.', type: 'GAUGE', samples: (s) => [[swapOnly(s)]] },
  { name: 'container_memory_max_usage_bytes', help: 'Maximum memory usage recorded in bytes', type: 'GAUGE', samples: (s) => [[s.stats.memory.usage.max]] },
  { name: 'container_memory_failcnt', help: 'Number of memory usage hits limits', type: 'COUNTER', samples: (s) => [[s.stats.memory.usage.failcnt]] },
  { name: 'container_oom_events_total', help: 'Count of out of memory events observed for the container', type: 'COUNTER', samples: (s) => [[s.oomKills]] },
  { name: 'container_processes', help: 'Number of processes running inside the container.', type: 'GAUGE', samples: (s) => [[s.stats.pids.current]] },
  {
    name: 'container_spec_memory_limit_bytes',
    help: 'Memory limit for the container.',
    type: 'GAUGE',
    samples: (s) => [[spec(s.c.config.linux?.resources?.memory_limit_in_bytes)]],
  },
  { name: 'container_spec_cpu_period', help: 'CPU period of the container.', type: 'GAUGE', samples: (s) => [[spec(s.c.config.linux?.resources?.cpu_period)]] },
  { name: 'container_spec_cpu_quota', help: 'CPU quota of the container.', type: 'GAUGE', samples: (s) => [[spec(s.c.config.linux?.resources?.cpu_quota)]] },
  { name: 'container_spec_cpu_shares', help: 'CPU share of the container.', type: 'GAUGE', samples: (s) => [[spec(s.c.config.linux?.resources?.cpu_shares)]] },
  {
    name: 'container_fs_usage_bytes',
    help: 'Number of bytes that are consumed by the container on this filesystem.',
    type: 'GAUGE',
    samples: (s) => [[s.writable.bytes]],
  },
];

/** One interface's counters from /proc/net/dev. */
interface NetDevSample {
  iface: string;
  rx: { bytes: number; packets: number; errors: number; dropped: number };
  tx: { bytes: number; packets: number; errors: number; dropped: number };
}

const NETWORK_METRICS: MetricDef<NetDevSample>[] = (['receive', 'transmit'] as const).flatMap((dir) => {
  const [done, doing] = dir === 'receive' ? ['received', 'receiving'] : ['transmitted', 'transmitting'];
  const counters: [suffix: string, counter: keyof NetDevSample['rx'], help: string][] = [
    ['bytes_total', 'bytes', `Cumulative count of bytes ${done}`],
    ['packets_total', 'packets', `Cumulative count of packets ${done}`],
    ['packets_dropped_total', 'dropped', `Cumulative count of packets dropped while ${doing}`],
    ['errors_total', 'errors', `Cumulative count of errors encountered while ${doing}`],
  ];
  return counters.map(([suffix, counter, help]): MetricDef<NetDevSample> => ({
    name: `container_network_${dir}_${suffix}`,
    help,
    type: 'COUNTER',
    labels: ['interface'],
    samples: (n) => [[(dir === 'receive' ? n.rx : n.tx)[counter], [n.iface]]],
  }));
});

/** /proc/PID/net/dev, loopback left out as cAdvisor does. */
export function parseNetDev(text: string): NetDevSample[] {
  const out: NetDevSample[] = [];
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const iface = line.slice(0, colon).trim();
    const f = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .map(Number);
    if (iface === 'lo' || f.length < 16) continue;
    out.push({
      iface,
      rx: { bytes: f[0]!, packets: f[1]!, errors: f[2]!, dropped: f[3]! },
      tx: { bytes: f[8]!, packets: f[9]!, errors: f[10]!, dropped: f[11]! },
    });
  }
  return out;
}

function labelKeys(d: MetricDef<unknown>): string[] {
  return [...BASE_LABELS, ...(d.labels ?? [])];
}

export async function ListMetricDescriptors() {
  return {
    descriptors: [...CONTAINER_METRICS, ...NETWORK_METRICS].map((d) => ({ name: d.name, help: d.help, label_keys: labelKeys(d as MetricDef<unknown>) })),
  };
}

function compute<T>(defs: MetricDef<T>[], source: T, base: string[], timestamp: string) {
  return defs.flatMap((d) =>
    d
      .samples(source)
      .map(([value, own]) => ({ name: d.name, timestamp, metric_type: d.type, label_values: [...base, ...(own ?? [])], value: { value: String(value) } })),
  );
}

function sampleOf(ctx: CriContext, c: ContainerRecord): ContainerSample | undefined {
  try {
    const cg = containerCgroup(c);
    return { c, stats: cg.stats(), oomKills: cg.oomKills(), writable: diskUsage(writableLayer(ctx, c.id)) };
  } catch {
    return undefined; // gone between the listing and the read
  }
}

/** The pod's interfaces, read through a process inside its network namespace (or the host's). */
function podNetDev(s: SandboxRecord, pids: number[]): NetDevSample[] {
  const candidates = s.hostNetwork ? ['self'] : [...(s.infra ? [s.infra.pid] : []), ...pids].map(String);
  for (const pid of candidates) {
    try {
      return parseNetDev(fs.readFileSync(`/proc/${pid}/net/dev`, 'utf8'));
    } catch {
      // that process has exited; try the next
    }
  }
  return [];
}

export async function ListPodSandboxMetrics(ctx: CriContext) {
  const pod_metrics = ctx.sandboxes
    .all()
    .filter((s) => s.state === 'SANDBOX_READY')
    .map((s) => {
      const ts = nowNs();
      const md = s.config.metadata;
      const running = ctx.containers.all().filter((c) => c.sandboxId === s.id && (refreshExit(ctx, c), c.state === 'CONTAINER_RUNNING'));
      const container_metrics = running.flatMap((c) => {
        const sample = sampleOf(ctx, c);
        if (!sample) return [];
        const base = [c.id, c.imageName, md?.namespace ?? '', md?.name ?? '', c.config.metadata?.name ?? ''];
        return [{ container_id: c.id, metrics: compute(CONTAINER_METRICS, sample, base, ts) }];
      });
      const podBase = [s.id, '', md?.namespace ?? '', md?.name ?? '', 'POD'];
      const metrics = podNetDev(
        s,
        running.map((c) => c.pid),
      ).flatMap((n) => compute(NETWORK_METRICS, n, podBase, ts));
      return { pod_sandbox_id: s.id, metrics, container_metrics };
    });
  return { pod_metrics };
}
