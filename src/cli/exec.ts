import * as fs from 'node:fs';
import type { ProcessConfig } from '../../specs/oci/runtime-config';
import { TsrunError } from '../common/errors';
import { schemaProblem } from '../common/json-path';
import { validateProcess } from '../oci/validate';
import { commandProcess, execInContainer } from '../runtime/exec';
import { StateDir } from '../runtime/state-dir';
import { loadRecord } from '../runtime/state';
import { bool, int, list, needId, parseCommand, str, type Parsed } from './args';
import type { Globals } from './globals';

function loadProcessFile(file: string): ProcessConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new TsrunError('TSRUN_E_CONFIG', `${file}: ${(e as Error).message}`);
  }
  // The schemas (zod) load only for --process: a plain exec, as a kubelet probe runs it, skips them.
  const { Process } = require('../../specs/oci/runtime-config') as typeof import('../../specs/oci/runtime-config');
  // runc takes a process.json without user as uid 0, gid 0: so does tsrun.
  if (raw && typeof raw === 'object' && !('user' in raw)) (raw as Record<string, unknown>)['user'] = { uid: 0, gid: 0 };
  const r = Process.safeParse(raw);
  if (!r.success) throw new TsrunError('TSRUN_E_CONFIG', `${file}: ${schemaProblem(r.error)}`);
  return r.data;
}

function parseUser(s: string): { uid: number; gid: number } {
  const m = /^(\d+)(?::(\d+))?$/.exec(s);
  if (!m) throw new TsrunError('TSRUN_E_USAGE', `--user ${JSON.stringify(s)}: expected UID[:GID]`);
  return { uid: Number(m[1]), gid: Number(m[2] ?? 0) };
}

// runc builds an exec's process from the container's own, then applies the flags.
function processFromFlags(base: ProcessConfig, p: Parsed): ProcessConfig {
  const f = p.flags;
  const proc = commandProcess(base, p.args.slice(1), bool(f['tty']));
  if (str(f['cwd'])) proc.cwd = str(f['cwd'])!;
  proc.env = [...(proc.env ?? []), ...list(f['env'])];
  if (str(f['user'])) proc.user = { ...proc.user, ...parseUser(str(f['user'])!), additionalGids: list(f['additional-gids']).map(Number) };
  if (list(f['cap']).length && proc.capabilities) {
    for (const set of ['bounding', 'effective', 'permitted', 'ambient'] as const)
      proc.capabilities[set] = [...(proc.capabilities[set] ?? []), ...list(f['cap'])];
  }
  if (bool(f['no-new-privs'])) proc.noNewPrivileges = true;
  return proc;
}

export async function exec(argv: string[], g: Globals): Promise<number> {
  const parsed = parseCommand('exec', argv);
  const id = needId(parsed.args, 'exec');
  const file = str(parsed.flags['process']);
  if (!file && parsed.args.length < 2) throw new TsrunError('TSRUN_E_USAGE', 'exec needs a command to run (or --process FILE)');
  const config = loadRecord(new StateDir(g.root, id)).config;
  const proc = file ? loadProcessFile(file) : processFromFlags(config.process!, parsed);
  const problem = validateProcess(proc, file ?? 'process', config.ociVersion);
  if (problem) throw new TsrunError('TSRUN_E_CONFIG', `${problem.path}: ${problem.message}`);
  return execInContainer({
    root: g.root,
    id,
    process: proc,
    detach: bool(parsed.flags['detach']),
    pidFile: str(parsed.flags['pid-file']),
    consoleSocket: str(parsed.flags['console-socket']),
    preserveFds: int(parsed.flags['preserve-fds']),
    ignorePaused: bool(parsed.flags['ignore-paused']),
    subCgroups: list(parsed.flags['cgroup']),
  });
}
