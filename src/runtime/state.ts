// A container's record on disk and its live status, with the legal transitions
// (runc's state machine: creating -> created -> running <-> paused -> stopped).
import * as fs from 'node:fs';
import * as os from 'node:os';
import type { RuntimeConfig } from '../../specs/oci/runtime-config';
import type { ContainerStatus, OciState } from '../../specs/oci/state';
import { atomicWriteFileSync } from '../common/atomic-write';
import { TsrunError } from '../common/errors';
import { loadCgroupManager, type CgroupState } from '../cgroups/manager';
import { isSameProcessAlive, pidsInNamespaceOf } from './proc';
import type { StateDir } from './state-dir';

export const OCI_VERSION = '1.2.0';

export interface ContainerRecord {
  version: 1;
  id: string;
  bundle: string;
  rootfs: string;
  created: string;
  owner: string;
  /** last status written by tsrun; the live one is computed by liveStatus() */
  status: 'creating' | 'created' | 'stopped';
  pid: number;
  pidStartTime?: string;
  config: RuntimeConfig;
  cgroup: CgroupState;
  /** no mount namespace: the id of the rootfs bind its init made in the runtime's (delete detaches it) */
  sharedRootMount?: number;
}

export function saveRecord(dir: StateDir, rec: ContainerRecord): void {
  // Run state, as runc keeps it: no fsync (a reboot discards it with the processes it names).
  atomicWriteFileSync(dir.stateFile, JSON.stringify(rec), { durable: false });
}

export function loadRecord(dir: StateDir): ContainerRecord {
  let text: string;
  try {
    text = fs.readFileSync(dir.stateFile, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new TsrunError('TSRUN_E_NOT_FOUND', `container ${dir.id} does not exist`);
    throw e;
  }
  return JSON.parse(text) as ContainerRecord;
}

export function liveStatus(dir: StateDir, rec: ContainerRecord): ContainerStatus {
  if (rec.status === 'creating') return isSameProcessAlive(rec.pid, rec.pidStartTime) || rec.pid === 0 ? 'creating' : 'stopped';
  if (!isSameProcessAlive(rec.pid, rec.pidStartTime)) return 'stopped';
  if (fs.existsSync(dir.execFifo)) return 'created';
  if (isFrozen(rec)) return 'paused';
  return 'running';
}

function isFrozen(rec: ContainerRecord): boolean {
  try {
    return loadCgroupManager(rec.cgroup).isFrozen();
  } catch {
    return false; // the cgroup is gone: not frozen
  }
}

export function ociState(dir: StateDir, rec: ContainerRecord): OciState {
  const status = liveStatus(dir, rec);
  const s: OciState = {
    ociVersion: OCI_VERSION,
    id: rec.id,
    pid: status === 'stopped' ? 0 : rec.pid,
    status,
    bundle: rec.bundle,
    rootfs: rec.rootfs,
    created: rec.created,
    owner: rec.owner,
  };
  if (rec.config.annotations && Object.keys(rec.config.annotations).length) s.annotations = rec.config.annotations;
  return s;
}

/** The state JSON given to hooks on stdin (the spec's fields). */
export function hookState(rec: ContainerRecord, status: ContainerStatus): string {
  return JSON.stringify({ ociVersion: OCI_VERSION, id: rec.id, status, pid: rec.pid, bundle: rec.bundle, annotations: rec.config.annotations ?? {} });
}

export function ownerName(): string {
  return os.userInfo().username;
}

/** A container stuck in "creating" was left by a create that did not finish: how to clear it. */
function creatingAdvice(id: string, s: ContainerStatus): string {
  return s === 'creating' ? `; a create that did not finish (a killed tsrun) left it: remove it with \`tsrun delete --force ${id}\`` : '';
}

// Guards, named after what they allow.
export function assertCanStart(id: string, s: ContainerStatus): void {
  if (s !== 'created') throw new TsrunError('TSRUN_E_STATE', `cannot start container ${id}: it is ${s}, not created${creatingAdvice(id, s)}`);
}
export function assertCanKill(id: string, s: ContainerStatus): void {
  if (s === 'stopped' || s === 'creating')
    throw new TsrunError('TSRUN_E_STATE', `cannot kill container ${id}: container not running (${s})${creatingAdvice(id, s)}`);
}
export function assertCanDelete(id: string, s: ContainerStatus, force: boolean): void {
  if (s !== 'stopped' && !force)
    throw new TsrunError(
      'TSRUN_E_STATE',
      `cannot delete container ${id} that is not stopped: ${s}${s === 'creating' ? creatingAdvice(id, s) : `; \`tsrun delete --force ${id}\` kills it first`}`,
    );
}
export function assertCanPause(id: string, s: ContainerStatus): void {
  if (s !== 'running' && s !== 'created') throw new TsrunError('TSRUN_E_STATE', `cannot pause container ${id}: it is ${s}`);
}
export function assertCanResume(id: string, s: ContainerStatus): void {
  if (s !== 'paused') throw new TsrunError('TSRUN_E_STATE', `cannot resume container ${id}: it is ${s}, not paused`);
}
export function assertCanExec(id: string, s: ContainerStatus): void {
  if (s !== 'running' && s !== 'created') throw new TsrunError('TSRUN_E_STATE', `cannot exec in container ${id}: it is ${s}${creatingAdvice(id, s)}`);
}

/**
 * The container's processes: its cgroup's, or for a rootless container that has none of its
 * own (it stays in its caller's), those in its PID namespace.
 */
export function containerProcesses(rec: ContainerRecord): number[] {
  const pids = loadCgroupManager(rec.cgroup).pids();
  if (pids.length || !rec.cgroup.shared?.length || !isSameProcessAlive(rec.pid, rec.pidStartTime)) return pids;
  return pidsInNamespaceOf(rec.pid);
}
