// bundle: an image in the store -> a bundle directory that `tsrun run DIR` (or runc) runs:
// rootfs/ is an overlay of the image's layers with a writable upper dir of its own, and
// config.json comes from the image config. A lease keeps GC from removing the layers.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ImageConfig } from '../../specs/oci/image';
import { TsrunError } from '../common/errors';
import { ensureDir, PRIVATE } from '../common/private-dir';
import { emit } from '../events/bus';
import { addLease, removeLease } from '../image/gc';
import { ContentStore } from '../image/store/content-store';
import { ImageStore, type ImageRecord } from '../image/store/image-store';
import { LayerStore } from '../image/store/layer-store';
import { specFromImage } from '../oci/from-image';
import { isMountpoint, mountOverlay, unmountOverlay } from '../rootfs/overlay';
import { readInRoot } from '../rootfs/secure-join';

export function findImage(store: string, name: string): ImageRecord {
  const rec = new ImageStore(store).find(name);
  if (!rec) throw new TsrunError('TSRUN_E_IMAGE_NOT_FOUND', `image ${name} is not in the store (tsrun pull ${name})`);
  return rec;
}

/** Where an image's rootfs goes: the overlay's mount point and its writable dirs. */
export interface ImageRootfsPlace {
  /** the bundle directory that holds rootfs/ (the lease is taken in its name) */
  bundle: string;
  upper: string;
  work: string;
  /** the lower layers mounted idmapped into this user namespace (a CRI pod's own) */
  idmap?: Parameters<typeof mountOverlay>[1]['idmap'];
  /** the lease survives a power cut (false: the caller takes it again after one) */
  durableLease?: boolean;
}

/**
 * The image->rootfs step that `tsrun bundle` and the CRI's CreateContainer share: every layer is
 * in the store, a lease keeps GC from them, and rootfs/ is an overlay of them with the given
 * writable dirs. Returns the image's config. The bundle directory is the caller's to make (its
 * mode differs: owner-only, or reachable by a pod's user namespace).
 */
export function mountImageRootfs(store: string, rec: ImageRecord, place: ImageRootfsPlace): { rootfs: string; config: ImageConfig } {
  const layers = new LayerStore(store);
  for (const d of rec.diffIds)
    if (!layers.has(d)) throw new TsrunError('TSRUN_E_IMAGE_NOT_FOUND', `layer ${d} of ${rec.name} is missing from the store: pull it again`);
  const config = ImageConfig.parse(JSON.parse(new ContentStore(store).read(rec.config).toString('utf8')));
  const rootfs = path.join(place.bundle, 'rootfs');
  addLease(store, place.bundle, rec, { durable: place.durableLease ?? true });
  const t0 = process.hrtime.bigint();
  mountOverlay(rootfs, { layers: rec.diffIds.map((d) => layers.dir(d)), upper: place.upper, work: place.work, idmap: place.idmap });
  emit('rootfs_mounted', `${rec.diffIds.length} layers + upper ${place.upper} -> ${rootfs}`, Number((process.hrtime.bigint() - t0) / 1000n));
  return { rootfs, config };
}

export function makeBundle(store: string, image: string, dir: string, args?: string[]): string {
  const rec = findImage(store, image);
  const bundle = path.resolve(dir);
  if (fs.existsSync(path.join(bundle, 'config.json'))) throw new TsrunError('TSRUN_E_USAGE', `${bundle} already holds a config.json`);
  // Owner-only, as containerd's bundles: rootfs/ shows the image's setuid binaries.
  ensureDir(bundle, PRIVATE);
  try {
    const { rootfs, config } = mountImageRootfs(store, rec, { bundle, upper: path.join(bundle, '.tsrun', 'upper'), work: path.join(bundle, '.tsrun', 'work') });
    const spec = specFromImage(config, (f) => readInRoot(rootfs, f), rec.name, args);
    fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(spec, null, 2) + '\n');
  } catch (e) {
    removeBundle(store, bundle);
    throw e;
  }
  return bundle;
}

export function removeBundle(store: string, dir: string): void {
  const bundle = path.resolve(dir);
  const rootfs = path.join(bundle, 'rootfs');
  if (isMountpoint(rootfs)) unmountOverlay(rootfs);
  removeLease(store, bundle);
  fs.rmSync(bundle, { recursive: true, force: true });
}
