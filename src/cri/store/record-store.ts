// Records kept one directory each (<root>/<id>/record.json, written atomically), so a server
// that restarts finds every sandbox and container as it was last saved.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { atomicWriteFileSync } from '../../common/atomic-write';
import { isTrash, type Trash } from './trash';

import { RECORD_VERSION } from './types';

/** Why a record read from disk cannot be used, or undefined. */
function problem(rec: unknown, dirName: string): string | undefined {
  if (typeof rec !== 'object' || rec === null) return 'not a JSON object';
  const r = rec as { id?: unknown; version?: unknown };
  if (r.id !== dirName) return `its id ${JSON.stringify(r.id)} is not its directory's name`;
  // Records written before versions were recorded are version 1.
  if (r.version !== undefined && r.version !== RECORD_VERSION) return `record version ${JSON.stringify(r.version)}, this server reads ${RECORD_VERSION}`;
  return undefined;
}

export class RecordStore<T extends { id: string; version?: number }> {
  private readonly items = new Map<string, T>();
  constructor(
    readonly root: string,
    private readonly trash: Trash,
  ) {}

  dir(id: string): string {
    return path.join(this.root, id);
  }

  /** Reads every record on disk; a torn or foreign entry is skipped and reported. */
  load(onBad: (id: string, err: string) => void): void {
    // 0711: a container in a user namespace must reach its rootfs below (search, not list).
    fs.mkdirSync(this.root, { recursive: true, mode: 0o711 });
    this.trash.sweep(this.root);
    for (const id of fs.readdirSync(this.root)) {
      if (isTrash(id)) continue;
      try {
        const rec = JSON.parse(fs.readFileSync(path.join(this.root, id, 'record.json'), 'utf8')) as T;
        const bad = problem(rec, id);
        if (bad) onBad(id, bad);
        else this.items.set(rec.id, rec);
      } catch (e) {
        onBad(id, (e as Error).message);
      }
    }
  }

  /**
   * Writes the record (atomically). `durable` (the default) also survives a power cut, as
   * containerd's metadata does; a step that a reboot undoes anyway (a process started, its
   * resources released) need not pay the fsync: a crash of the server still loses nothing.
   */
  save(rec: T, opts: { durable?: boolean } = {}): void {
    rec.version = RECORD_VERSION;
    fs.mkdirSync(this.dir(rec.id), { recursive: true, mode: 0o711 });
    atomicWriteFileSync(path.join(this.dir(rec.id), 'record.json'), JSON.stringify(rec), { durable: opts.durable ?? true });
    this.items.set(rec.id, rec);
  }

  get(id: string): T | undefined {
    return this.items.get(id);
  }

  /** By full id or a unique prefix, as crictl users type them. */
  find(idOrPrefix: string): T | undefined {
    const exact = this.items.get(idOrPrefix);
    if (exact || !idOrPrefix) return exact;
    const hits = [...this.items.values()].filter((r) => r.id.startsWith(idOrPrefix));
    return hits.length === 1 ? hits[0] : undefined;
  }

  all(): T[] {
    return [...this.items.values()];
  }

  /** Forgets the record now; its directory is removed in the background. */
  delete(id: string): void {
    this.items.delete(id);
    this.trash.discard(this.dir(id));
  }
}
