// Removal off the RPC path, as containerd leaves a removed container's snapshot to its garbage
// collector: a directory is renamed aside at once (`.trash-<name>` in the same parent, so one
// rename on the same filesystem) and removed in the background; what a crash leaves of such
// directories is swept at the next start-up.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isErrnoError } from '../../common/errors';
import { logWarn } from '../../common/log';

const PREFIX = '.trash-';

export class Trash {
  private readonly pending = new Set<Promise<void>>();

  /** Takes `dir` out of sight now; its contents go in the background. A missing dir is fine. */
  discard(dir: string): void {
    const aside = path.join(path.dirname(dir), `${PREFIX}${path.basename(dir)}`);
    try {
      fs.renameSync(dir, aside);
    } catch (e) {
      if (isErrnoError(e, 'ENOENT')) return;
      throw e;
    }
    this.remove(aside);
  }

  /** Removes what an earlier run set aside in `parent` and did not finish removing. */
  sweep(parent: string): void {
    let names: string[];
    try {
      names = fs.readdirSync(parent);
    } catch {
      return;
    }
    for (const n of names) if (n.startsWith(PREFIX)) this.remove(path.join(parent, n));
  }

  /** Resolves once every removal started so far is done. */
  async drained(): Promise<void> {
    await Promise.all([...this.pending]);
  }

  private remove(dir: string): void {
    const p = fs.promises
      .rm(dir, { recursive: true, force: true })
      .catch((e: Error) => logWarn(`removing ${dir}: ${e.message}`))
      .finally(() => this.pending.delete(p));
    this.pending.add(p);
  }
}

/** Whether a directory entry is one the trash set aside (record stores skip them). */
export function isTrash(name: string): boolean {
  return name.startsWith(PREFIX);
}
