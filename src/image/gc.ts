// Removing images and what nothing uses: blobs and unpacked layers not referenced by any image
// record, nor leased by a bundle's rootfs.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { atomicWriteFileSync } from '../common/atomic-write';
import { ContentStore } from './store/content-store';
import { ImageStore, type ImageRecord } from './store/image-store';
import { LayerStore } from './store/layer-store';

export function leaseDir(store: string): string {
  return path.join(store, 'leases');
}

function leaseFile(store: string, dir: string): string {
  return path.join(leaseDir(store), createHash('sha256').update(path.resolve(dir)).digest('hex').slice(0, 32) + '.json');
}

/**
 * Keeps an image's layers from GC while `dir` (a bundle) uses them. Not `durable`: the caller
 * takes the lease again after a power cut (the CRI server does at start-up, from its records).
 */
export function addLease(store: string, dir: string, rec: ImageRecord, opts: { durable?: boolean } = {}): void {
  fs.mkdirSync(leaseDir(store), { recursive: true });
  atomicWriteFileSync(leaseFile(store, dir), JSON.stringify({ dir: path.resolve(dir), image: rec.name, diffIds: rec.diffIds }), {
    durable: opts.durable ?? true,
  });
}

export function hasLease(store: string, dir: string): boolean {
  return fs.existsSync(leaseFile(store, dir));
}

export function removeLease(store: string, dir: string): void {
  fs.rmSync(leaseFile(store, dir), { force: true });
}

export interface Lease {
  /** the bundle directory */
  dir: string;
  image: string;
  diffIds: string[];
}

/** The bundles whose rootfs uses layers of the store (a lease per bundle). */
export function leases(store: string): Lease[] {
  let files: string[];
  try {
    files = fs.readdirSync(leaseDir(store));
  } catch {
    return [];
  }
  const out: Lease[] = [];
  for (const f of files) {
    try {
      out.push(JSON.parse(fs.readFileSync(path.join(leaseDir(store), f), 'utf8')) as Lease);
    } catch {
      /* a lease being written */
    }
  }
  return out;
}

function leasedLayers(store: string): Set<string> {
  return new Set(leases(store).flatMap((l) => l.diffIds));
}

/** Bytes a file or directory takes (its files' sizes; links not followed). */
function sizeOf(p: string): number {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(p);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return st.isFile() ? st.size : 0;
  let n = 0;
  for (const e of fs.readdirSync(p)) n += sizeOf(path.join(p, e));
  return n;
}

export interface GcResult {
  blobs: number;
  layers: number;
  /** what the removed blobs and unpacked layers took */
  bytes: number;
}

export function collectGarbage(store: string): GcResult {
  const images = new ImageStore(store);
  return images.withLock(() => {
    const recs = images.all();
    const blobs = new Set(recs.flatMap((r) => [r.digest, r.config, ...r.layers, ...(r.indexDigest ? [r.indexDigest] : [])]));
    const layerIds = new Set([...recs.flatMap((r) => r.diffIds), ...leasedLayers(store)]);
    const content = new ContentStore(store);
    const layers = new LayerStore(store);
    let nb = 0;
    let nl = 0;
    let bytes = 0;
    for (const d of content.list())
      if (!blobs.has(d)) {
        bytes += sizeOf(content.blobPath(d));
        content.delete(d);
        nb++;
      }
    for (const d of layers.list())
      if (!layerIds.has(d)) {
        bytes += sizeOf(layers.dir(d));
        layers.remove(d);
        nl++;
      }
    return { blobs: nb, layers: nl, bytes };
  });
}

export interface Removed {
  record: ImageRecord;
  freed: GcResult;
  /** its layers that stay: used by other images, or by bundles made from it */
  shared: number;
  bundles: Lease[];
}

export function removeImage(store: string, name: string): Removed {
  const images = new ImageStore(store);
  const record = images.withLock(() => images.remove(name));
  const freed = collectGarbage(store);
  const others = new Set(images.all().flatMap((r) => r.diffIds));
  const bundles = leases(store).filter((l) => l.diffIds.some((d) => record.diffIds.includes(d)));
  return { record, freed, shared: record.diffIds.filter((d) => others.has(d)).length, bundles };
}

/** What the store keeps after a GC, and why: images, and bundles that use layers. */
export interface StoreUsage {
  images: number;
  blobs: number;
  layers: number;
  bytes: number;
  /** bundles whose layers belong to no image any more: `bundle --remove` then prune frees them */
  orphanBundles: Lease[];
}

export function storeUsage(store: string): StoreUsage {
  const content = new ContentStore(store);
  const layers = new LayerStore(store);
  const recs = new ImageStore(store).all();
  const imageLayers = new Set(recs.flatMap((r) => r.diffIds));
  const blobs = content.list();
  const layerIds = layers.list();
  return {
    images: recs.length,
    blobs: blobs.length,
    layers: layerIds.length,
    bytes: blobs.reduce((n, d) => n + sizeOf(content.blobPath(d)), 0) + layerIds.reduce((n, d) => n + sizeOf(layers.dir(d)), 0),
    orphanBundles: leases(store).filter((l) => l.diffIds.some((d) => !imageLayers.has(d))),
  };
}
