// What was attached to a pod, on disk: one file per pod with every network's config list,
// arguments and result. Teardown works from this alone (after a restart, or after the config dir
// changed), and the record is written before any ADD runs, so a crash mid-ADD still leaves enough
// for DEL to release the address.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { atomicWriteFileSync } from '../../common/atomic-write';
import { TsrunError, isErrnoError } from '../../common/errors';
import type { NetworkConfigList } from './config';

export interface Attachment {
  ifName: string;
  /** The list used for ADD; DEL and CHECK use it, not whatever the conf dir holds now. */
  list: NetworkConfigList;
  /** The final ADD result; absent until ADD completed. */
  result?: unknown;
}

export interface PodRecord {
  kind: 'tsrunCniPodV1';
  podId: string;
  netns: string;
  cniArgs: [string, string][];
  capabilityArgs: Record<string, unknown>;
  /** In ADD order: loopback first, then the pod network. */
  attachments: Attachment[];
}

export class PodCache {
  private readonly dir: string;

  constructor(cacheDir: string) {
    this.dir = path.join(cacheDir, 'pods');
  }

  private file(podId: string): string {
    return path.join(this.dir, `${podId}.json`);
  }

  read(podId: string): PodRecord | undefined {
    let text: string;
    try {
      text = fs.readFileSync(this.file(podId), 'utf8');
    } catch (e) {
      if (isErrnoError(e, 'ENOENT')) return undefined;
      throw new TsrunError('TSRUN_E_CNI', `cannot read the CNI cache for pod ${podId} (${this.file(podId)}): ${(e as Error).message}`);
    }
    let rec: PodRecord;
    try {
      rec = JSON.parse(text) as PodRecord;
    } catch (e) {
      throw new TsrunError('TSRUN_E_CNI', `CNI cache file ${this.file(podId)} is corrupt: ${(e as Error).message}`);
    }
    if (rec.kind !== 'tsrunCniPodV1' || rec.podId !== podId || !Array.isArray(rec.attachments))
      throw new TsrunError('TSRUN_E_CNI', `CNI cache file ${this.file(podId)} is not a tsrun pod network record`);
    return rec;
  }

  write(rec: PodRecord): void {
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    // As libcni writes its cache: no fsync (an attachment lost to a power cut is gone with the netns).
    atomicWriteFileSync(this.file(rec.podId), JSON.stringify(rec, null, 1), { durable: false });
  }

  remove(podId: string): void {
    fs.rmSync(this.file(podId), { force: true });
  }
}
