// tsrun cri --explain=html DIR: one page per pod, rewritten at each of its steps, drawn from the
// events the server emits and what it knows of the pod: the namespaces held by bind mounts,
// the veth from the CNI bridge to the pod's eth0, the pod's IP, and each container joining.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Sink } from '../events/bus';
import type { Lang } from '../events/narrate';
import { renderPicture, type PodView } from '../events/picture';
import type { StepEvent } from '../events/types';
import { PodCache } from './cni/cache';
import { toPodNetworkResult } from './cni/result';
import type { CriContext } from './context';

const NS_TYPES: Record<string, string> = { network: 'net', ipc: 'ipc', uts: 'uts', pid: 'pid', user: 'user' };

function podView(ctx: CriContext, podId: string): PodView | undefined {
  const s = ctx.sandboxes.get(podId);
  if (!s) return undefined;
  const namespaces: PodView['namespaces'] = (
    [
      ['user', s.userns],
      ['net', s.netns],
      ['ipc', s.ipcns],
      ['uts', s.utsns],
    ] as const
  ).flatMap(([type, p]) => (p ? [{ type, path: p }] : []));
  if (s.infra) namespaces.push({ type: 'pid', path: `/proc/${s.infra.pid}/ns/pid (tsrun-pause)` });
  let bridge: string | undefined;
  let hostVeth: string | undefined;
  let podInterface: string | undefined;
  let network: string | undefined;
  try {
    const net = new PodCache(ctx.paths.cniCache).read(podId)?.attachments.find((a) => a.list.name !== 'cni-loopback' && a.result);
    if (net) {
      const r = toPodNetworkResult(net.list.name, net.result);
      network = r.network;
      const host = r.interfaces.filter((i) => !i.sandbox);
      // The bridge plugin lists the bridge, then the veth's host end, then the pod's end.
      hostVeth = host.find((i) => i.name.startsWith('veth'))?.name;
      bridge = host.find((i) => i.name !== hostVeth)?.name;
      podInterface = r.interfaces.find((i) => i.sandbox)?.name;
    }
  } catch {
    /* no network record (host network, or already torn down) */
  }
  const containers = ctx.containers
    .all()
    .filter((c) => c.sandboxId === podId)
    .map((c) => {
      let joins: { type: string; path: string }[] = [];
      try {
        const spec = JSON.parse(fs.readFileSync(path.join(c.bundle, 'config.json'), 'utf8')) as { linux?: { namespaces?: { type: string; path?: string }[] } };
        joins = (spec.linux?.namespaces ?? []).filter((n) => n.path).map((n) => ({ type: NS_TYPES[n.type] ?? n.type, path: n.path! }));
      } catch {
        /* the bundle is gone (removed) */
      }
      return { id: c.id, name: c.name, state: c.state, pid: c.pid || undefined, joins };
    });
  return {
    id: s.id,
    name: s.config.metadata?.name ?? s.id,
    namespace: s.config.metadata?.namespace ?? '',
    namespaces,
    ip: s.ip,
    network,
    bridge,
    hostVeth,
    podInterface,
    ports: s.config.port_mappings.map((p) => `${p.host_port || '-'}->${p.container_port}/${(p.protocol ?? 'TCP').toLowerCase()}`),
    containers,
  };
}

/**
 * The pod as last seen, with what has gone since kept: once it stops, CNI DEL took its network
 * record and removal takes its containers' records, but the page still shows what they were.
 */
function merge(before: PodView | undefined, now: PodView | undefined): PodView | undefined {
  if (!before || !now) return now ?? before;
  const containers = [...now.containers, ...before.containers.filter((c) => !now.containers.some((d) => d.id === c.id))];
  return { ...before, ...Object.fromEntries(Object.entries(now).filter(([, v]) => v !== undefined)), containers } as PodView;
}

/** A sink that keeps DIR/<namespace>_<pod name>.html current for every pod the server touches (the newest of a name). */
export function podPictures(ctx: CriContext, dir: string, lang: Lang): Sink {
  fs.mkdirSync(dir, { recursive: true });
  const events: StepEvent[] = [];
  // Which pod an event's id belongs to: the pod's own id, or a container's (learned as soon as
  // its record exists: container_spec comes before it, and a removed container's is gone).
  const podOf = new Map<string, string>();
  const views = new Map<string, PodView>();
  const resolve = (id: string): string | undefined => {
    if (!podOf.has(id)) {
      const c = ctx.containers.get(id);
      if (c) podOf.set(id, c.sandboxId);
      else if (ctx.sandboxes.get(id)) podOf.set(id, id);
    }
    return podOf.get(id);
  };
  return (e) => {
    events.push(e);
    const id = e.containerId;
    if (!id) return;
    // A pod's first steps come before its record is stored: an id that is no container's is the pod's.
    if (e.kind.startsWith('pod_') || e.kind === 'cgroup_created' || e.kind === 'cgroup_limits') podOf.set(id, podOf.get(id) ?? id);
    for (const ev of events) if (ev.containerId) resolve(ev.containerId);
    const pod = resolve(id);
    if (!pod) return;
    const view = merge(views.get(pod), podView(ctx, pod));
    if (!view) return;
    views.set(pod, view);
    const mine = events.filter((ev) => ev.containerId && podOf.get(ev.containerId) === pod);
    try {
      fs.writeFileSync(
        path.join(dir, `${`${view.namespace}_${view.name}`.replace(/[^A-Za-z0-9_.-]/g, '_')}.html`),
        renderPicture({ title: `Pod ${view.namespace}/${view.name}`, lang, events: mine, pod: view }),
      );
    } catch {
      /* the picture is told, never in the way of the pod */
    }
  };
}
