// pause, resume, update, events: the cgroup side of a running container.
import type { LinuxResources } from '../../specs/oci/runtime-config';
import { Resources } from '../../specs/oci/runtime-config';
import { TsrunError } from '../common/errors';
import { sleepSync } from '../common/sleep';
import { emit } from '../events/bus';
import { loadCgroupManager } from '../cgroups/manager';
import type { CgroupStats } from '../cgroups/stats';
import { schemaProblem } from '../common/json-path';
import { StateDir } from './state-dir';
import { assertCanPause, assertCanResume, liveStatus, loadRecord, saveRecord } from './state';

function withContainer<T>(root: string, id: string, fn: (dir: StateDir) => T): T {
  const dir = new StateDir(root, id);
  dir.lock();
  let r: T;
  try {
    r = fn(dir);
  } catch (e) {
    dir.unlock();
    throw e;
  }
  // An asynchronous step (a D-Bus call of the systemd driver) keeps the lock until it is done.
  if (r instanceof Promise) return r.finally(() => dir.unlock()) as T;
  dir.unlock();
  return r;
}

export function pauseContainer(root: string, id: string, pause: boolean): void {
  withContainer(root, id, (dir) => {
    const rec = loadRecord(dir);
    const status = liveStatus(dir, rec);
    if (pause) assertCanPause(id, status);
    else assertCanResume(id, status);
    loadCgroupManager(rec.cgroup).freeze(pause);
    emit(pause ? 'paused' : 'resumed', id, 0, id);
  });
}

/** `changes` over `base`, controller by controller (a controller's fields merge, lists replace). */
export function mergeResources(base: LinuxResources | undefined, changes: LinuxResources): LinuxResources {
  const merged: LinuxResources = { ...(base ?? {}) };
  for (const [k, v] of Object.entries(changes) as [keyof LinuxResources, unknown][]) {
    if (v === undefined) continue;
    const cur = merged[k];
    (merged as Record<string, unknown>)[k] =
      cur && typeof cur === 'object' && !Array.isArray(cur) && typeof v === 'object' && !Array.isArray(v) ? { ...cur, ...v } : v;
  }
  return merged;
}

/** Merges `changes` into the container's resources, applies them, and records them. */
export async function updateContainer(root: string, id: string, changes: LinuxResources): Promise<void> {
  const parsed = Resources.safeParse(changes);
  if (!parsed.success) throw new TsrunError('TSRUN_E_CONFIG', `resources: ${schemaProblem(parsed.error)}`);
  await withContainer(root, id, async (dir) => {
    const rec = loadRecord(dir);
    const status = liveStatus(dir, rec);
    if (status === 'stopped') throw new TsrunError('TSRUN_E_STATE', `cannot update container ${id}: it is stopped`);
    const linux = (rec.config.linux ??= {});
    await loadCgroupManager(rec.cgroup).apply(parsed.data, (controller, writes, us) => emit('updated', `${controller}: ${writes.join(', ')}`, us, id));
    linux.resources = mergeResources(linux.resources, parsed.data);
    saveRecord(dir, rec);
  });
}

export interface ContainerEvent {
  type: 'stats' | 'oom';
  id: string;
  data?: CgroupStats;
}

export function containerStats(root: string, id: string): ContainerEvent {
  const rec = loadRecord(new StateDir(root, id));
  return { type: 'stats', id, data: loadCgroupManager(rec.cgroup).stats() };
}

/**
 * Streams events until the container stops: stats every `intervalMs`, and an "oom" event as
 * soon as the kernel reports an OOM kill in its memory cgroup.
 */
export function watchEvents(root: string, id: string, intervalMs: number, out: (e: ContainerEvent) => void): void {
  const dir = new StateDir(root, id);
  const rec = loadRecord(dir);
  const cg = loadCgroupManager(rec.cgroup);
  let ooms = cg.oomKills();
  let nextStats = Date.now() + intervalMs;
  for (;;) {
    const now = cg.oomKills();
    if (now > ooms) out({ type: 'oom', id });
    ooms = now;
    if (liveStatus(dir, rec) === 'stopped') return;
    if (Date.now() >= nextStats) {
      out({ type: 'stats', id, data: cg.stats() });
      nextStats += intervalMs;
    }
    sleepSync(50);
  }
}
