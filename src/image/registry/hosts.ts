// Where to reach a registry: containerd-style host configuration, one directory per registry
// host under the hosts dir (default /etc/tsrun/certs.d), each with a hosts.toml:
//
//   server = "https://registry.example.com"          # the upstream (optional)
//   [host."http://127.0.0.1:5000/v2/registry.k8s.io"] # a mirror, tried first
//     capabilities = ["pull", "resolve"]
//     override_path = true                            # the URL path replaces /v2
//     skip_verify = true
//
// Without a config: docker.io is registry-1.docker.io over HTTPS; loopback registries
// (127.0.0.0/8, localhost, [::1]) may use plain HTTP, as docker allows; others need
// HTTPS unless the config or --plain-http says otherwise.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TsrunError } from '../../common/errors';

export interface Endpoint {
  /** scheme://host[:port] */
  origin: string;
  /** the API root: "/v2", or with override_path the configured path */
  apiPath: string;
  skipVerify: boolean;
}

export const DEFAULT_HOSTS_DIR = '/etc/tsrun/certs.d';

/** Just enough TOML for hosts.toml: strings, booleans, string arrays, [host."..."] tables. */
export function parseHostsToml(text: string, file: string): { server?: string; hosts: { url: string; values: Record<string, unknown> }[] } {
  const out: { server?: string; hosts: { url: string; values: Record<string, unknown> }[] } = { hosts: [] };
  let current: Record<string, unknown> | undefined;
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.replace(/\s+#.*$|^#.*$/, '').trim();
    if (!line) continue;
    const table = /^\[host\."([^"]+)"\]$/.exec(line);
    if (table) {
      current = {};
      out.hosts.push({ url: table[1]!, values: current });
      continue;
    }
    const kv = /^([A-Za-z_]+)\s*=\s*(.+)$/.exec(line);
    if (!kv) throw new TsrunError('TSRUN_E_CONFIG', `${file}:${i + 1}: cannot parse ${JSON.stringify(raw)}`);
    let value: unknown;
    const v = kv[2]!.trim();
    if (/^"(.*)"$/.test(v)) value = v.slice(1, -1);
    else if (v === 'true' || v === 'false') value = v === 'true';
    else if (/^\[.*\]$/.test(v)) value = [...v.matchAll(/"([^"]*)"/g)].map((m) => m[1]);
    else throw new TsrunError('TSRUN_E_CONFIG', `${file}:${i + 1}: unsupported value ${v}`);
    if (current) current[kv[1]!] = value;
    else if (kv[1] === 'server') out.server = value as string;
  }
  return out;
}

export function isLoopback(host: string): boolean {
  const h = host.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

function endpointFromUrl(url: string, overridePath: boolean, skipVerify: boolean, file: string): Endpoint {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new TsrunError('TSRUN_E_CONFIG', `${file}: ${JSON.stringify(url)} is not a URL`);
  }
  const p = u.pathname.replace(/\/$/, '');
  return { origin: u.origin, apiPath: overridePath ? p || '/v2' : `${p}/v2`.replace(/^\/v2\/v2$/, '/v2'), skipVerify };
}

/** Where the settings of `registry` live: <hosts dir>/<registry>/hosts.toml. */
export function hostsFile(registry: string, hostsDir = DEFAULT_HOSTS_DIR): string {
  return path.join(hostsDir, registry, 'hosts.toml');
}

/** Endpoints to try in order for `registry`: configured mirrors, then the server. */
export function resolveEndpoints(registry: string, opts: { hostsDir?: string; plainHttp?: boolean } = {}): Endpoint[] {
  const file = hostsFile(registry, opts.hostsDir);
  const scheme = opts.plainHttp || isLoopback(registry) ? 'http' : 'https';
  const upstream = registry === 'docker.io' ? 'https://registry-1.docker.io' : `${scheme}://${registry}`;
  let cfg: ReturnType<typeof parseHostsToml> | undefined;
  try {
    cfg = parseHostsToml(fs.readFileSync(file, 'utf8'), file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const endpoints: Endpoint[] = [];
  for (const h of cfg?.hosts ?? []) {
    const caps = (h.values['capabilities'] as string[] | undefined) ?? ['pull', 'resolve'];
    if (!caps.includes('pull')) continue;
    endpoints.push(endpointFromUrl(h.url, h.values['override_path'] === true, h.values['skip_verify'] === true, file));
  }
  endpoints.push(endpointFromUrl(cfg?.server ?? upstream, false, false, file));
  return endpoints;
}
