// Running one CNI plugin per the spec: config on stdin, parameters in CNI_* variables, a result
// or a JSON error on stdout. The environment is clean apart from CNI_* and PATH (plugins call
// iptables, tc, ...), so nothing of the runtime's own environment leaks into host networking.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TsrunError } from '../../common/errors';
import { logDebug } from '../../common/log';
import { signalGroup } from '../../common/signal';

export type CniCommand = 'ADD' | 'DEL' | 'CHECK';

export interface PluginInvocation {
  command: CniCommand;
  containerId: string;
  /** '' when the namespace is gone (allowed for DEL). */
  netns: string;
  ifName: string;
  args: [string, string][];
  /** Plugin directories, passed as CNI_PATH for delegated (IPAM) plugins. */
  binDirs: string[];
  timeoutMs: number;
  /** For messages. */
  network: string;
}

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const MAX_STDOUT = 4 * 1024 * 1024;
const STDERR_TAIL = 4096;

/** A plugin's failure, with its CNI error fields so callers can tell kinds apart. */
export class CniPluginError extends TsrunError {
  constructor(
    readonly plugin: string,
    readonly command: string,
    readonly network: string,
    /** The plugin's CNI error code (1-99 well-known, 100+ its own), if it printed one. */
    readonly cniCode: number | undefined,
    readonly cniMsg: string,
    readonly details: string | undefined,
    containerId: string,
  ) {
    super(
      'TSRUN_E_CNI',
      `CNI plugin ${plugin} failed ${command} on network ${JSON.stringify(network)} for ${containerId}: ${cniMsg}` +
        (cniCode !== undefined ? ` (CNI error code ${cniCode})` : '') +
        // A Go panic's stack is long; the start says what happened, `details` keeps it all.
        (details ? `: ${details.length > 600 ? `${details.slice(0, 600)}...` : details}` : ''),
    );
  }
}

function isExecutableFile(f: string): boolean {
  try {
    const st = fs.statSync(f);
    if (!st.isFile()) return false;
    fs.accessSync(f, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** First directory holding an executable named `type` (libcni's FindInPath). */
export function findPlugin(type: string, binDirs: string[]): string | undefined {
  for (const d of binDirs) {
    const f = path.join(d, type);
    if (isExecutableFile(f)) return f;
  }
  return undefined;
}

function cniEnv(inv: Pick<PluginInvocation, 'command' | 'containerId' | 'netns' | 'ifName' | 'args' | 'binDirs'> | { command: 'VERSION' }): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH || DEFAULT_PATH, CNI_COMMAND: inv.command };
  if (inv.command === 'VERSION') return env;
  env.CNI_CONTAINERID = inv.containerId;
  env.CNI_NETNS = inv.netns;
  env.CNI_IFNAME = inv.ifName;
  env.CNI_ARGS = inv.args.map(([k, v]) => `${k}=${v}`).join(';');
  env.CNI_PATH = inv.binDirs.join(':');
  return env;
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs the plugin and returns its parsed stdout (ADD: the result; DEL/CHECK: usually nothing).
 * A non-zero exit becomes a CniPluginError carrying the plugin's JSON error; a plugin that does
 * not finish within the timeout is killed with its process group (it may be waiting on iptables).
 */
export function execPlugin(pluginPath: string, stdin: Record<string, unknown>, inv: PluginInvocation): Promise<Record<string, unknown> | undefined> {
  const type = path.basename(pluginPath);
  const fail = (msg: string, code?: number, details?: string): CniPluginError =>
    new CniPluginError(type, inv.command, inv.network, code, msg, details, inv.containerId);
  logDebug(`cni: ${inv.command} ${type} network=${inv.network} container=${inv.containerId} ifname=${inv.ifName} netns=${inv.netns || '(none)'}`);
  return new Promise((resolve, reject) => {
    // detached: a process group of its own, so a timeout also ends the iptables/tc it started.
    const child = spawn(pluginPath, [], { env: cniEnv(inv), stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    const out: Buffer[] = [];
    let outLen = 0;
    let errTail = '';
    let settled = false;
    const timer = setTimeout(() => {
      try {
        signalGroup(child.pid ?? 0, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
      // Settle now rather than on 'close': a daemon the plugin left in another session could
      // hold its stdout open for good.
      settled = true;
      reject(fail(`did not finish within ${inv.timeoutMs} ms and was killed`, undefined, errTail.trim() || undefined));
    }, inv.timeoutMs);
    child.stdout.on('data', (b: Buffer) => {
      if (outLen < MAX_STDOUT) out.push(b);
      outLen += b.length;
    });
    child.stderr.on('data', (b: Buffer) => {
      errTail = (errTail + b.toString('utf8')).slice(-STDERR_TAIL);
    });
    // A plugin that exits without reading stdin makes the write fail; its exit status tells why.
    child.stdin.on('error', () => undefined);
    child.on('error', (e) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(fail(`cannot run ${pluginPath}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = errTail.trim();
      if (code !== 0) {
        const e = parseJsonObject(stdout);
        if (e && (typeof e.msg === 'string' || typeof e.code === 'number')) {
          const details = typeof e.details === 'string' && e.details ? e.details : stderr || undefined;
          return reject(
            fail(typeof e.msg === 'string' && e.msg ? e.msg : 'plugin reported an error', typeof e.code === 'number' ? e.code : undefined, details),
          );
        }
        const how = signal ? `was killed by ${signal}` : `exited with status ${code}`;
        return reject(fail(`${how} without a CNI error on stdout`, undefined, [stdout.trim(), stderr].filter(Boolean).join(' | ') || undefined));
      }
      if (outLen > MAX_STDOUT) return reject(fail(`printed more than ${MAX_STDOUT} bytes`));
      if (!stdout.trim()) return resolve(undefined);
      const r = parseJsonObject(stdout);
      if (!r) {
        // DEL and CHECK print nothing by spec; stray output there is not worth failing a teardown.
        if (inv.command !== 'ADD') return resolve(undefined);
        return reject(fail('printed a result that is not a JSON object', undefined, stdout.slice(0, 500)));
      }
      resolve(r);
    });
    child.stdin.end(JSON.stringify(stdin));
  });
}

/** The spec versions a plugin speaks (VERSION), or an error message. Synchronous: used by status(). */
export function pluginVersions(pluginPath: string, timeoutMs: number): string[] | string {
  // stdin is empty: VERSION takes no config, and plugins exit without reading it (a pipe would EPIPE).
  const r = spawnSync(pluginPath, [], {
    env: cniEnv({ command: 'VERSION' }),
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: timeoutMs,
    encoding: 'utf8',
    killSignal: 'SIGKILL',
  });
  if (r.error) return `cannot run ${pluginPath} VERSION: ${r.error.message}`;
  const o = parseJsonObject(r.stdout);
  if (r.status !== 0 || !o || !Array.isArray(o.supportedVersions))
    return `${pluginPath} VERSION failed: ${(r.stdout || r.stderr || `status ${r.status}`).trim().slice(0, 300)}`;
  return o.supportedVersions.filter((v): v is string => typeof v === 'string');
}
