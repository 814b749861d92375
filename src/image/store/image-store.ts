// The image records: name -> manifest digest, config digest and layer diff IDs, in
// <store>/images.json (written atomically). Blobs and layers nothing refers to are garbage.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { atomicWriteFileSync } from '../../common/atomic-write';
import { TsrunError } from '../../common/errors';
import { ensureDir, PASSAGE } from '../../common/private-dir';
import { flock } from '../../sys/native';
import { formatReference, parseReference } from '../reference';

export interface ImageRecord {
  /** full name, e.g. docker.io/library/busybox:latest */
  name: string;
  /** digest of the platform manifest */
  digest: string;
  /** digest of the index the name pointed at, if any */
  indexDigest?: string;
  config: string;
  /** layer blob digests, in order */
  layers: string[];
  /** diff IDs, in order (lowest first) */
  diffIds: string[];
  /** compressed size of config + layers */
  size: number;
  pulled: string;
}

export class ImageStore {
  constructor(readonly root: string) {}

  private get file(): string {
    return path.join(this.root, 'images.json');
  }

  /** Runs `fn` holding the store's lock (pulls, removals and GC do not interleave). */
  withLock<T>(fn: () => T): T {
    ensureDir(this.root, PASSAGE);
    const fd = fs.openSync(this.root, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    try {
      flock(fd, true, true);
      return fn();
    } finally {
      fs.closeSync(fd);
    }
  }

  all(): ImageRecord[] {
    try {
      return Object.values(JSON.parse(fs.readFileSync(this.file, 'utf8')) as Record<string, ImageRecord>);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
  }

  private save(records: ImageRecord[]): void {
    ensureDir(this.root, PASSAGE);
    atomicWriteFileSync(this.file, JSON.stringify(Object.fromEntries(records.map((r) => [r.name, r])), null, 1));
  }

  put(rec: ImageRecord): void {
    this.save([...this.all().filter((r) => r.name !== rec.name), rec]);
  }

  /** By full name, by a short reference (busybox), or by (a prefix of) its manifest or config digest. */
  find(nameOrDigest: string): ImageRecord | undefined {
    const all = this.all();
    let normalized: string | undefined;
    try {
      normalized = formatReference(parseReference(nameOrDigest));
    } catch {
      /* a digest or an id, not a reference */
    }
    return (
      all.find((r) => r.name === nameOrDigest || r.name === normalized) ??
      all.find((r) => r.digest === nameOrDigest || r.config === nameOrDigest) ??
      (nameOrDigest.length >= 12 ? all.find((r) => r.config.replace('sha256:', '').startsWith(nameOrDigest.replace('sha256:', ''))) : undefined)
    );
  }

  remove(name: string): ImageRecord {
    const all = this.all();
    const rec = all.find((r) => r.name === name);
    if (!rec) throw new TsrunError('TSRUN_E_IMAGE_NOT_FOUND', `image ${name} is not in the store`);
    this.save(all.filter((r) => r.name !== name));
    return rec;
  }
}
