// list and ps.
import { spawnSync } from 'node:child_process';
import type { OciState } from '../../specs/oci/state';
import { TsrunError } from '../common/errors';
import { StateDir } from './state-dir';
import { containerProcesses, loadRecord, ociState } from './state';

export function listContainers(root: string): OciState[] {
  const out: OciState[] = [];
  for (const id of StateDir.list(root)) {
    try {
      const dir = new StateDir(root, id);
      out.push(ociState(dir, loadRecord(dir)));
    } catch {
      /* a directory being created or removed right now */
    }
  }
  return out;
}

export function containerState(root: string, id: string): OciState {
  const dir = new StateDir(root, id);
  return ociState(dir, loadRecord(dir));
}

export function containerPids(root: string, id: string): number[] {
  return containerProcesses(loadRecord(new StateDir(root, id)));
}

/** `ps` output (default -ef) keeping the header and the container's processes. */
export function psTable(root: string, id: string, psArgs: string[]): string {
  const pids = new Set(containerPids(root, id));
  const r = spawnSync('ps', psArgs.length ? psArgs : ['-ef'], { encoding: 'utf8' });
  if (r.status !== 0) throw new TsrunError('TSRUN_E_SYS', `ps ${psArgs.join(' ')}: ${r.stderr || r.error?.message}`);
  const lines = r.stdout.split('\n');
  const header = lines[0] ?? '';
  const col = header.trim().split(/\s+/).indexOf('PID');
  if (col < 0) throw new TsrunError('TSRUN_E_USAGE', 'ps output has no PID column');
  const kept = lines.slice(1).filter((l) => l.trim() && pids.has(Number(l.trim().split(/\s+/)[col])));
  return [header, ...kept].join('\n') + '\n';
}
