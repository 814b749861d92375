// CNI results in the shape the CRI server uses, from any spec version: 0.1/0.2 results carry
// ip4/ip6 objects, 0.3+ an ips list (with "version" until 1.0 dropped it).

export interface PodInterface {
  name: string;
  mac?: string;
  /** The netns path for interfaces inside the pod; absent for host-side ones (bridge, veth). */
  sandbox?: string;
}

export interface PodIp {
  /** CIDR, e.g. 10.88.0.5/16. */
  address: string;
  gateway?: string;
  version: '4' | '6';
  /** Index into interfaces. */
  interface?: number;
}

export interface PodRoute {
  dst: string;
  gw?: string;
}

export interface PodNetworkResult {
  /** The network (config list name) the pod was attached to. */
  network: string;
  interfaces: PodInterface[];
  ips: PodIp[];
  routes: PodRoute[];
  dns?: { nameservers?: string[]; domain?: string; search?: string[]; options?: string[] };
  /** The final plugin's result exactly as printed. */
  raw: unknown;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);
const list = (v: unknown): Record<string, unknown>[] =>
  Array.isArray(v) ? v.filter((x): x is Record<string, unknown> => typeof x === 'object' && x !== null) : [];

function routesOf(v: unknown): PodRoute[] {
  return list(v).flatMap((r) => (str(r.dst) ? [{ dst: str(r.dst)!, ...(str(r.gw) ? { gw: str(r.gw) } : {}) }] : []));
}

export function toPodNetworkResult(network: string, raw: unknown): PodNetworkResult {
  const r = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const interfaces: PodInterface[] = list(r.interfaces).map((i) => ({
    name: str(i.name) ?? '',
    ...(str(i.mac) ? { mac: str(i.mac) } : {}),
    ...(str(i.sandbox) ? { sandbox: str(i.sandbox) } : {}),
  }));
  const ips: PodIp[] = [];
  const routes: PodRoute[] = routesOf(r.routes);
  if (Array.isArray(r.ips)) {
    for (const ip of list(r.ips)) {
      const address = str(ip.address);
      if (!address) continue;
      ips.push({
        address,
        ...(str(ip.gateway) ? { gateway: str(ip.gateway) } : {}),
        version: ip.version === '6' || (ip.version === undefined && address.includes(':')) ? '6' : '4',
        ...(typeof ip.interface === 'number' ? { interface: ip.interface } : {}),
      });
    }
  } else {
    for (const [key, version] of [
      ['ip4', '4'],
      ['ip6', '6'],
    ] as const) {
      const o = r[key] as Record<string, unknown> | undefined;
      if (!o || !str(o.ip)) continue;
      ips.push({ address: str(o.ip)!, ...(str(o.gateway) ? { gateway: str(o.gateway) } : {}), version });
      routes.push(...routesOf(o.routes));
    }
  }
  const result: PodNetworkResult = { network, interfaces, ips, routes, raw };
  if (typeof r.dns === 'object' && r.dns !== null && Object.keys(r.dns).length) result.dns = r.dns as PodNetworkResult['dns'];
  return result;
}

/** The pod's addresses without prefix length, IPv4 first (the CRI's PodIP is the first). */
export function podAddresses(result: PodNetworkResult): string[] {
  const sorted = [...result.ips].sort((a, b) => Number(a.version) - Number(b.version));
  return sorted.map((ip) => ip.address.split('/')[0]!);
}
