// Running the host's tools (ip, iptables, openssl, kubectl): errors name the command and carry
// its stderr, so a failed step says what failed and why.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';

export const PATH_ENV = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

export function tryRun(cmd: string, args: string[], opts: SpawnSyncOptions = {}): Ran {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  if (r.error) return { code: 127, stdout: '', stderr: `${cmd}: ${r.error.message}` };
  return { code: r.status ?? 128, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
}

export function run(cmd: string, args: string[], opts: SpawnSyncOptions = {}): string {
  const r = tryRun(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

/** `cmd args` inside network namespace `netns` (the host's mount namespace: /sys stays whole). */
export function inNetns(netns: string, cmd: string, args: string[], opts: SpawnSyncOptions = {}): string {
  return run('nsenter', [`--net=/run/netns/${netns}`, '--', cmd, ...args], opts);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `fn` until it gives a value (not a string, undefined or false); a string is the reason
 * it is not there yet, which the timeout's error names along with `what`.
 */
export async function waitFor<T>(
  what: string,
  ms: number,
  fn: () => Promise<T | string | undefined | false> | T | string | undefined | false,
  everyMs = 500,
): Promise<T> {
  const end = Date.now() + ms;
  let last = '';
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false && typeof v !== 'string') return v as T;
    if (typeof v === 'string') last = v;
    if (Date.now() > end) throw new Error(`timed out after ${Math.round(ms / 1000)} s waiting for ${what}${last ? `: ${last}` : ''}`);
    await sleep(everyMs);
  }
}
