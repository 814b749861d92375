// `tsrun cri` as a runtime under test. THE place to edit when the CRI server's command line or
// process layout changes: tsrunCriArgs (how it is started), isTsrunHelper (which processes are
// its per-pod helpers). Everything else in the benches is the same code containerd runs through.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { criClient, waitForCri } from './cri-client';
import { CNI_BIN_DIR, removeTree, type CriEnv } from './cri-env';
import { allProcs, descendants, type Proc } from './procs';
import { ROOT } from './report';
import { exited, removeAllPods, type CriRuntime } from './runtime';

export const TSRUN = path.join(ROOT, 'bin', 'tsrun');

export interface TsrunCriDirs {
  socket: string;
  /** state of containers and pods (tsrun's --root) */
  root: string;
  /** image store (tsrun's --store) */
  store: string;
  env: CriEnv;
}

/** The command line of the server (after bin/tsrun). */
export function tsrunCriArgs(d: TsrunCriDirs): string[] {
  return [
    '--root', d.root,
    '--store', d.store,
    'cri',
    '--listen', `unix://${d.socket}`,
    '--cni-conf-dir', d.env.cniConfDir,
    '--cni-bin-dir', CNI_BIN_DIR,
    '--registry-config', d.env.hostsDir,
    '--state-dir', `${d.root}/cri-state`,
    '--run-dir', `${d.root}/cri-run`,
  ]; // prettier-ignore
}

/** tsrun's per-pod helpers: tsrun-monitor processes started by this server (or naming its root). */
function isTsrunHelper(p: Proc, serverTree: Set<number>, d: TsrunCriDirs): boolean {
  if (p.comm !== 'tsrun-monitor') return false;
  return serverTree.has(p.pid) || p.cmdline.some((a) => a.includes(d.root) || a.includes(d.socket));
}

/** Why tsrun's CRI rows cannot be measured here, or undefined when they can. */
export function tsrunCriMissing(): string | undefined {
  if (process.env['TSRUN_BENCH_NO_CRI'] === '1') return 'TSRUN_BENCH_NO_CRI=1';
  const r = spawnSync(TSRUN, ['cri', '--help'], { encoding: 'utf8' });
  return r.status === 0 ? undefined : `bin/tsrun cri --help failed: ${r.stderr.trim().split('\n')[0]}`;
}

/**
 * Runs f (which measures tsrun) unless tsrun cri is missing. A failure on tsrun's side becomes
 * the rows' note, so the reference rows measured in the same run are still reported.
 */
export async function measureTsrun<T>(f: () => Promise<T>): Promise<{ value?: T; missing?: string }> {
  const missing = tsrunCriMissing();
  if (missing) return { missing };
  try {
    return { value: await f() };
  } catch (e) {
    return { missing: tsrunFailure(e) };
  }
}

/** Logs a failure on tsrun's side in full; returns its first line, for the rows' note. */
export function tsrunFailure(e: unknown): string {
  const msg = (e as Error)?.message ?? String(e);
  process.stderr.write(`tsrun cri failed: ${(e as Error)?.stack ?? msg}\n`);
  return `tsrun cri failed: ${msg.split('\n')[0]!.slice(0, 120)}`;
}

export async function startTsrunCri(env: CriEnv): Promise<CriRuntime> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-bench-tsrun-'));
  const d: TsrunCriDirs = { socket: path.join(dir, 'cri.sock'), root: path.join(dir, 'root'), store: path.join(dir, 'store'), env };
  const logFile = path.join(dir, 'tsrun-cri.log');
  const log = fs.openSync(logFile, 'w');
  const child = spawn(TSRUN, tsrunCriArgs(d), { stdio: ['ignore', log, log] });
  process.on('exit', () => child.kill('SIGKILL'));
  const client = criClient(d.socket);
  try {
    await waitForCri(client, 30_000, () =>
      child.exitCode !== null ? `tsrun cri exited (${child.exitCode}):\n${fs.readFileSync(logFile, 'utf8').slice(-2000)}` : undefined,
    );
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  const helpers = (): number[] => {
    const procs = allProcs();
    const tree = descendants(child.pid!, procs);
    return procs.filter((p) => isTsrunHelper(p, tree, d)).map((p) => p.pid);
  };
  return {
    name: 'tsrun',
    label: 'tsrun cri',
    socket: d.socket,
    dir,
    client,
    helperName: 'tsrun-monitor',
    processes: () => ({ daemon: [child.pid!], helpers: helpers() }),
    stop: async () => {
      await removeAllPods(client);
      client.close();
      child.kill('SIGTERM');
      if (!(await exited(child, 15_000))) child.kill('SIGKILL');
      removeTree(dir);
    },
  };
}
