// One directory per container under the root (default /run/tsrun), holding state.json and
// the exec fifo. Creating the directory reserves the id; flock on it serialises tsrun calls.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TsrunError } from '../common/errors';
import { validateContainerId } from '../common/ids';
import { flock } from '../sys/native';

export const DEFAULT_ROOT = '/run/tsrun';

/** A state root an ordinary user may not use: say what to do instead. */
function rootDenied(root: string, e: unknown): unknown {
  const code = (e as NodeJS.ErrnoException).code;
  if ((code !== 'EACCES' && code !== 'EPERM') || process.geteuid?.() === 0) return e;
  return new TsrunError(
    'TSRUN_E_PERMISSION',
    `tsrun runs as uid ${process.geteuid?.()} (rootless) and may not use the state root ${root} (${code}): set XDG_RUNTIME_DIR ` +
      "(the state then goes to $XDG_RUNTIME_DIR/tsrun, as runc's to $XDG_RUNTIME_DIR/runc), give --root DIR, or run tsrun as root",
  );
}

export class StateDir {
  private lockFd?: number;

  constructor(
    readonly root: string,
    readonly id: string,
  ) {
    validateContainerId(id);
  }

  get dir(): string {
    return path.join(this.root, this.id);
  }
  get stateFile(): string {
    return path.join(this.dir, 'state.json');
  }
  get execFifo(): string {
    return path.join(this.dir, 'exec.fifo');
  }

  exists(): boolean {
    return fs.existsSync(this.stateFile) || fs.existsSync(this.dir);
  }

  /** Creates the directory; fails if the id is taken. Locks it. */
  reserve(): void {
    try {
      fs.mkdirSync(this.root, { recursive: true, mode: 0o711 });
    } catch (e) {
      throw rootDenied(this.root, e);
    }
    try {
      fs.mkdirSync(this.dir, { mode: 0o711 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new TsrunError('TSRUN_E_EXISTS', `container with id ${this.id} already exists`);
      throw rootDenied(this.root, e);
    }
    this.lock();
  }

  /** Locks an existing container's directory; fails if there is no such container. */
  lock(): void {
    if (this.lockFd !== undefined) return;
    let fd: number;
    try {
      fd = fs.openSync(this.dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new TsrunError('TSRUN_E_NOT_FOUND', `container ${this.id} does not exist`);
      throw rootDenied(this.root, e);
    }
    flock(fd, true, true);
    this.lockFd = fd;
  }

  unlock(): void {
    if (this.lockFd === undefined) return;
    fs.closeSync(this.lockFd);
    this.lockFd = undefined;
  }

  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
    this.unlock();
  }

  static list(root: string): string[] {
    try {
      return fs
        .readdirSync(root, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name)
        .sort();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw rootDenied(root, e);
    }
  }
}
