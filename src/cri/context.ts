// Everything one CRI server holds: options, the record stores and name indexes, the OCI
// runtime driver, CNI, and the per-id locks that keep two requests on one pod or container
// from interleaving. RPC handlers get this and nothing else.
import { EventEmitter } from 'node:events';
import { KeyedMutex } from '../common/keyed-mutex';
import { logWarn } from '../common/log';
import { CniManager } from './cni';
import { OciRuntime } from './oci-runtime';
import { CriPaths, type CriOptions } from './options';
import type { ContainerEventResponse } from './proto';
import { NameIndex } from './store/names';
import { RecordStore } from './store/record-store';
import { Trash } from './store/trash';
import type { ContainerRecord, SandboxRecord } from './store/types';

export class CriContext {
  readonly paths: CriPaths;
  readonly runtime: OciRuntime;
  readonly sandboxes: RecordStore<SandboxRecord>;
  readonly containers: RecordStore<ContainerRecord>;
  readonly podNames = new NameIndex();
  readonly containerNames = new NameIndex();
  readonly cni: CniManager;
  /** 'container' events for GetContainerEvents (evented PLEG) */
  readonly events = new EventEmitter();
  /** containers whose StartContainer is in flight: their exit is StartContainer's to record */
  readonly starting = new Set<string>();
  /** containers whose runtime resources are being released after their exit */
  readonly releasing = new Map<string, Promise<void>>();
  /** directories of removed pods and containers, going in the background */
  readonly trash = new Trash();
  private readonly locks = new KeyedMutex();

  constructor(readonly opts: CriOptions) {
    this.paths = new CriPaths(opts);
    this.runtime = new OciRuntime(this.paths.runtimeRoot, opts.systemdCgroup);
    this.sandboxes = new RecordStore<SandboxRecord>(`${opts.stateDir}/sandboxes`, this.trash);
    this.containers = new RecordStore<ContainerRecord>(`${opts.stateDir}/containers`, this.trash);
    this.cni = new CniManager({ confDir: opts.cniConfDir, binDirs: opts.cniBinDirs, cacheDir: this.paths.cniCache });
    this.events.setMaxListeners(0);
  }

  /** Loads the records of an earlier run and reserves their names again. */
  load(): void {
    const bad = (kind: string) => (id: string, err: string) => logWarn(`ignoring ${kind} ${id}: unreadable record (${err})`);
    this.sandboxes.load(bad('sandbox'));
    this.containers.load(bad('container'));
    for (const s of this.sandboxes.all()) this.podNames.reserve(s.name, s.id);
    for (const c of this.containers.all()) this.containerNames.reserve(c.name, c.id);
  }

  /** Runs fn with the lock of `key` held (requests on one object run one at a time). */
  withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    return this.locks.run(key, fn);
  }

  emitContainerEvent(e: ContainerEventResponse): void {
    this.events.emit('container', e);
  }
}
