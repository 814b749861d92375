// CNI network configuration: reading the default network from a conf dir the way libcni and
// containerd's go-cni do, and building the bridge conflist tsrun writes for a pod CIDR.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TsrunError } from '../../common/errors';

/** One plugin entry of a list: `type` names the executable, the rest is the plugin's own. */
export interface PluginConf {
  type: string;
  capabilities?: Record<string, boolean>;
  ipam?: { type?: string; [k: string]: unknown };
  [k: string]: unknown;
}

/** A network configuration list; a single .conf file is wrapped into a list of one. */
export interface NetworkConfigList {
  name: string;
  cniVersion: string;
  disableCheck: boolean;
  plugins: PluginConf[];
  /** The file it came from, for messages. */
  source: string;
}

/** The versions of the CNI spec this runtime speaks (VERSION decides what a plugin speaks). */
export const KNOWN_VERSIONS = ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'];

// Spec: network names start alphanumeric, then alphanumerics, _ . -
const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
// go-cni refuses config files above 2 MiB; a bigger one is a mistake, not a network.
const MAX_CONF_BYTES = 2 * 1024 * 1024;
const CONF_EXTENSIONS = ['.conf', '.conflist', '.json'];

/** The loopback network run for "lo" in every pod (go-cni's WithLoNetwork). */
export function loopbackConflist(): NetworkConfigList {
  return { name: 'cni-loopback', cniVersion: '1.0.0', disableCheck: false, plugins: [{ type: 'loopback' }], source: '<built-in loopback>' };
}

function bad(source: string, what: string): TsrunError {
  return new TsrunError('TSRUN_E_CNI', `invalid CNI network config ${source}: ${what}`);
}

export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map((x) => Number.parseInt(x, 10) || 0);
  const pb = b.split('.').map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < 3; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Config version: `cniVersion`, or (spec 1.1) the highest known one of `cniVersions`. */
function pickVersion(o: Record<string, unknown>, source: string): string {
  if (Array.isArray(o.cniVersions)) {
    const known = o.cniVersions.filter((v): v is string => typeof v === 'string' && KNOWN_VERSIONS.includes(v)).sort(compareVersions);
    if (known.length) return known[known.length - 1]!;
  }
  if (typeof o.cniVersion !== 'string' || !o.cniVersion) throw bad(source, 'cniVersion is missing');
  if (!KNOWN_VERSIONS.includes(o.cniVersion)) throw bad(source, `cniVersion ${JSON.stringify(o.cniVersion)} is not one of ${KNOWN_VERSIONS.join(', ')}`);
  return o.cniVersion;
}

function checkName(name: unknown, source: string): string {
  if (typeof name !== 'string' || !name) throw bad(source, 'the network has no "name"');
  if (!NAME_RE.test(name)) throw bad(source, `network name ${JSON.stringify(name)} must start with a letter or digit and contain only letters, digits, _ . -`);
  return name;
}

function checkPlugin(p: unknown, i: number, source: string): PluginConf {
  if (!isObject(p)) throw bad(source, `plugins[${i}] is not an object`);
  const type = p.type;
  // The type becomes a file name looked up in the plugin dirs: no paths.
  if (typeof type !== 'string' || !type) throw bad(source, `plugins[${i}] has no "type"`);
  if (type.includes('/') || type === '.' || type === '..') throw bad(source, `plugins[${i}] type ${JSON.stringify(type)} is not a plugin file name`);
  if (p.capabilities !== undefined && !isObject(p.capabilities)) throw bad(source, `plugins[${i}].capabilities is not an object`);
  if (p.ipam !== undefined) {
    if (!isObject(p.ipam)) throw bad(source, `plugins[${i}].ipam is not an object`);
    const it = p.ipam.type;
    if (it !== undefined && (typeof it !== 'string' || it.includes('/') || it === '.' || it === '..'))
      throw bad(source, `plugins[${i}].ipam.type ${JSON.stringify(it)} is not a plugin file name`);
  }
  return p as PluginConf;
}

function parseJson(text: string, source: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw bad(source, `not JSON (${(e as Error).message})`);
  }
  if (!isObject(v)) throw bad(source, 'not a JSON object');
  return v;
}

function disableCheckOf(o: Record<string, unknown>, source: string): boolean {
  // libcni accepts a boolean or the strings "true"/"false".
  const d = o.disableCheck;
  if (d === undefined || d === false || d === 'false') return false;
  if (d === true || d === 'true') return true;
  throw bad(source, `disableCheck ${JSON.stringify(d)} is neither true nor false`);
}

export function parseConfList(text: string, source: string): NetworkConfigList {
  const o = parseJson(text, source);
  const name = checkName(o.name, source);
  const cniVersion = pickVersion(o, source);
  if (!Array.isArray(o.plugins)) throw bad(source, '"plugins" is missing or not a list');
  if (o.plugins.length === 0) throw bad(source, '"plugins" is empty');
  return { name, cniVersion, disableCheck: disableCheckOf(o, source), plugins: o.plugins.map((p, i) => checkPlugin(p, i, source)), source };
}

/** A single network config (.conf/.json) becomes a list of one, as libcni's ConfListFromConf. */
export function parseConf(text: string, source: string): NetworkConfigList {
  const o = parseJson(text, source);
  // go-cni's check: catches a conflist saved under a .conf name.
  if (typeof o.type !== 'string' || !o.type)
    throw bad(source, Array.isArray(o.plugins) ? 'a network list (with "plugins") in a .conf/.json file: name it .conflist' : 'the network has no "type"');
  const name = checkName(o.name, source);
  const cniVersion = pickVersion(o, source);
  return { name, cniVersion, disableCheck: false, plugins: [checkPlugin(o, 0, source)], source };
}

/** Config files in lexical order, as libcni's ConfFiles + sort (directories skipped). */
export function configFiles(confDir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(confDir);
  } catch (e) {
    throw new TsrunError('TSRUN_E_CNI', `cannot read CNI config dir ${confDir}: ${(e as Error).message}`);
  }
  return names
    .filter((n) => CONF_EXTENSIONS.includes(path.extname(n)))
    .sort()
    .map((n) => path.join(confDir, n))
    .filter((f) => {
      try {
        return fs.statSync(f).isFile();
      } catch {
        return false; // a dangling symlink is not a config
      }
    });
}

/**
 * The pod network: the first config file in lexical order (go-cni's default network). A broken
 * first file is an error rather than skipped, so a typo does not silently switch networks.
 */
export function loadDefaultNetwork(confDir: string): NetworkConfigList {
  const files = configFiles(confDir);
  if (files.length === 0) throw new TsrunError('TSRUN_E_CNI', `no network config found in ${confDir} (want *.conflist, *.conf or *.json)`);
  const file = files[0]!;
  const size = fs.statSync(file).size;
  if (size > MAX_CONF_BYTES) throw bad(file, `${size} bytes is over the ${MAX_CONF_BYTES} byte limit`);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw bad(file, (e as Error).message);
  }
  return file.endsWith('.conflist') ? parseConfList(text, file) : parseConf(text, file);
}

/** What is written to stdin for one plugin: libcni's buildOneConfig + injectRuntimeConfig. */
export function pluginStdin(
  list: Pick<NetworkConfigList, 'name' | 'cniVersion'>,
  plugin: PluginConf,
  prevResult: unknown,
  capabilityArgs: Record<string, unknown>,
): Record<string, unknown> {
  const conf: Record<string, unknown> = { ...plugin, name: list.name, cniVersion: list.cniVersion };
  if (prevResult !== undefined) conf.prevResult = prevResult;
  // Only the capabilities the plugin asks for, so a plugin never sees keys it did not opt into.
  const rc: Record<string, unknown> = {};
  for (const [cap, on] of Object.entries(plugin.capabilities ?? {})) if (on === true && capabilityArgs[cap] !== undefined) rc[cap] = capabilityArgs[cap];
  if (Object.keys(rc).length) conf.runtimeConfig = rc;
  return conf;
}

export interface BridgeConflistOptions {
  name: string;
  bridge: string;
  /**
   * The pod CIDR, e.g. 10.244.1.0/24 (host-local hands out addresses from it, .1 is the gateway);
   * dual stack as the CRI's comma-separated form, e.g. "10.244.1.0/24,fd00:10:244:1::/64".
   */
  subnet: string;
  cniVersion?: string;
  /** host-local's lease directory; default /var/lib/cni/networks. */
  dataDir?: string;
  /**
   * Add the bandwidth plugin for the CRI's ingress/egress limits. Off by default: Debian's
   * bandwidth 1.1.1 panics on CHECK for a pod without limits.
   */
  bandwidth?: boolean;
}

/**
 * A bridge network for a pod CIDR (what UpdateRuntimeConfig writes): bridge + host-local with the
 * bridge as gateway and masquerade for traffic leaving the subnet; portmap for hostPorts; firewall
 * to accept the pod's forwarded traffic when the FORWARD policy is DROP; optionally bandwidth for
 * the CRI's limits. The loopback plugin is run separately for "lo".
 *
 * portmap's snat makes hostPorts answer from the host itself and from the pod to its own hostPort
 * (hairpin): it masquerades those connections, and sets route_localnet on the bridge, without
 * which the kernel drops a DNATed packet whose source is 127.0.0.1 once it is routed off lo.
 * hairpinMode lets the bridge send a pod's packet back out of the port it came in on.
 */
export function bridgeConflist(o: BridgeConflistOptions): object {
  const subnets = o.subnet
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (!subnets.length) throw new TsrunError('TSRUN_E_CNI', `bridge network ${o.name}: no subnet given`);
  // One range set per family; a default route for each family through the bridge.
  const ipam: Record<string, unknown> = {
    type: 'host-local',
    ranges: subnets.map((subnet) => [{ subnet }]),
    routes: [...new Set(subnets.map((s) => (s.includes(':') ? '::/0' : '0.0.0.0/0')))].map((dst) => ({ dst })),
  };
  if (o.dataDir) ipam.dataDir = o.dataDir;
  return {
    cniVersion: o.cniVersion ?? '1.0.0',
    name: o.name,
    plugins: [
      { type: 'bridge', bridge: o.bridge, isGateway: true, ipMasq: true, hairpinMode: true, capabilities: { ipRanges: true }, ipam },
      { type: 'portmap', capabilities: { portMappings: true }, snat: true },
      { type: 'firewall' },
      ...(o.bandwidth ? [{ type: 'bandwidth', capabilities: { bandwidth: true } }] : []),
    ],
  };
}
