// What a server killed inside RunPodSandbox or CreateContainer made before it saved the record:
// the kubelet never got an id for it, so nobody would ever ask to remove it. At start-up,
// whatever is found at the paths such a pod or container uses and has no record is undone: a
// pod's infra container, network (from the CNI cache, which is written before any ADD), pinned
// namespaces, /dev/shm, files and own cgroup; a container's rootfs mount, image lease and
// directory. A record that exists but cannot be read (a newer server's, a torn one) is not
// judged here: only what has no record at all. And a StartContainer cut before it recorded the
// monitor leaves a container that is still "created" in its record but half made in the runtime
// (its cgroups, its runtime state): that is undone too, so the record is true again.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { removeTracked } from '../cgroups/fs-ops';
import { newCgroupManager } from '../cgroups/manager';
import { logWarn } from '../common/log';
import { emit } from '../events/bus';
import { removeLease } from '../image/gc';
import { isMountpoint, unmountOverlay } from '../rootfs/overlay';
import { MNT_DETACH, umount } from '../sys/native';
import type { CriContext } from './context';
import { unpinNamespaces } from './sandbox/namespaces';

const ID = /^[0-9a-f]{64}$/;

function ids(dir: string, suffix = ''): string[] {
  try {
    return fs
      .readdirSync(dir)
      .filter((n) => n.endsWith(suffix))
      .map((n) => n.slice(0, n.length - suffix.length))
      .filter((n) => ID.test(n));
  } catch {
    return [];
  }
}

async function attempt(what: string, fn: () => unknown): Promise<void> {
  try {
    await fn();
  } catch (e) {
    logWarn(`start-up cleanup: ${what}: ${(e as Error).message}`);
  }
}

async function undoPod(ctx: CriContext, id: string): Promise<void> {
  const run = ctx.paths.sandboxRun(id);
  const ns = ['net', 'ipc', 'uts', 'user'].map((t) => path.join(run, 'ns', t));
  await attempt(`pod ${id}: its infra container`, () => ctx.runtime.delete(id));
  await attempt(`pod ${id}: its network`, () => ctx.cni.tearDown({ podId: id, netns: ns[0]!, namespace: '', name: '', uid: '' }));
  await attempt(`pod ${id}: its namespaces`, () => unpinNamespaces(ns.filter((f) => fs.existsSync(f))));
  const shm = path.join(run, 'shm');
  await attempt(`pod ${id}: its /dev/shm`, () => isMountpoint(shm) && umount(shm, MNT_DETACH));
  await attempt(`pod ${id}: its run dir`, () => fs.rmSync(run, { recursive: true, force: true }));
  await attempt(`pod ${id}: its infra's monitor dir`, () => fs.rmSync(ctx.paths.monitorDir(id), { recursive: true, force: true }));
  // Only the cgroup the server would have made itself; a kubelet's cgroup_parent is the kubelet's.
  const own = `${ctx.opts.defaultCgroupParent}/pod-${id.slice(0, 16)}`;
  await attempt(`pod ${id}: its cgroup`, () => removeTracked(Object.values(newCgroupManager(`pod-${id}`, own).state.dirs)));
  emit('pod_removed', `${id} (left by a crash)`, 0, id);
}

function undoContainer(ctx: CriContext, id: string): void {
  const dir = ctx.containers.dir(id);
  const bundle = path.join(dir, 'bundle');
  try {
    if (isMountpoint(path.join(bundle, 'rootfs'))) unmountOverlay(path.join(bundle, 'rootfs'));
    removeLease(ctx.opts.store, bundle);
    ctx.trash.discard(dir);
  } catch (e) {
    logWarn(`start-up cleanup: container ${id}: ${(e as Error).message}`);
  }
}

/** A start cut before the record named its monitor: the runtime's half-made container goes. */
async function undoCutStart(ctx: CriContext, id: string): Promise<void> {
  await attempt(`container ${id}: the runtime's container of a start that did not finish`, () => ctx.runtime.delete(id));
  await attempt(`container ${id}: its monitor dir`, () => fs.rmSync(ctx.paths.monitorDir(id), { recursive: true, force: true }));
}

/** Undoes every pod and container that has neither a record nor a record's directory. */
export async function sweepOrphans(ctx: CriContext): Promise<void> {
  const stateOf = (kind: 'sandboxes' | 'containers', id: string): boolean => fs.existsSync(path.join(ctx.opts.stateDir, kind, id));
  const pods = new Set([...ids(path.join(ctx.opts.runDir, 'pods')), ...ids(path.join(ctx.paths.cniCache, 'pods'), '.json')]);
  for (const id of pods) if (!ctx.sandboxes.get(id) && !stateOf('sandboxes', id)) await undoPod(ctx, id);
  for (const id of ids(path.join(ctx.opts.stateDir, 'containers')))
    if (!ctx.containers.get(id) && !fs.existsSync(path.join(ctx.containers.dir(id), 'record.json'))) undoContainer(ctx, id);
  for (const c of ctx.containers.all()) if (c.state === 'CONTAINER_CREATED' && !c.monitor) await undoCutStart(ctx, c.id);
}
