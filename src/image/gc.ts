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
  atomicWriteFileSync(leaseFile(store, dir), JSON.stringify({ dir: path.resolve(dir), image: rec.name, diffIds: rec.diffIds }), { durable: opts.durable ?? true });
}

export function hasLease(store: string, dir: string): boolean {
  return fs.existsSync(leaseFile(store, dir));
}

export function removeLease(store: string, dir: string): void {
  fs.rmSync(leaseFile(store, dir), { force: true });
}

/** Layers in use by mounted rootfs (a lease per bundle). */
function leasedLayers(store: string): Set<string> {
  const out = new Set<string>();
  let files: string[] = [];
  try {
    files = fs.readdirSync(leaseDir(store));
  } catch {
    return out;
  }
  for (const f of files) {
    try {
      for (const d of (JSON.parse(fs.readFileSync(path.join(leaseDir(store), f), 'utf8')) as { diffIds: string[] }).diffIds) out.add(d);
    } catch {
      /* a lease being written */
    }
  }
  return out;
}

export interface GcResult {
  blobs: number;
  layers: number;
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
    for (const d of content.list())
      if (!blobs.has(d)) {
        content.delete(d);
        nb++;
      }
    for (const d of layers.list())
      if (!layerIds.has(d)) {
        layers.remove(d);
        nl++;
      }
    return { blobs: nb, layers: nl };
  });
}

export function removeImage(store: string, name: string): ImageRecord {
  const images = new ImageStore(store);
  const rec = images.withLock(() => images.remove(name));
  collectGarbage(store);
  return rec;
}
