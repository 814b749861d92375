// File operations shared by both drivers: making and removing only our own directories.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TsrunError } from '../common/errors';
import { sleepSync } from '../common/sleep';

/** The directories mkdirTracked(dir) would make, outermost first. */
export function missingDirs(dir: string): string[] {
  const missing: string[] = [];
  for (let d = dir; !fs.existsSync(d); d = path.dirname(d)) missing.unshift(d);
  return missing;
}

/** mkdir -p that returns the directories it made, outermost first. */
export function mkdirTracked(dir: string): string[] {
  const made: string[] = [];
  for (const d of missingDirs(dir)) {
    try {
      fs.mkdirSync(d);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw new TsrunError('TSRUN_E_CGROUP', `mkdir ${d}: ${(e as Error).message}`);
    }
    made.push(d);
  }
  return made;
}

/** rmdir innermost first; a directory still busy after ~2s is reported. */
function hasChildCgroups(dir: string): boolean {
  try {
    return fs.readdirSync(dir, { withFileTypes: true }).some((e) => e.isDirectory());
  } catch {
    return false;
  }
}

/** Every directory below `dir` (child cgroups, theirs...). */
function descendants(dir: string): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.filter((e) => e.isDirectory()).flatMap((e) => [path.join(dir, e.name), ...descendants(path.join(dir, e.name))]);
}

/**
 * A container's cgroups as delete removes them: the directories it made, and below its own
 * leaves (made for it, so all beneath is its doing: sub-cgroups its processes made) the whole
 * subtree, deepest first, as runc removes it. A leaf it did not make keeps its children.
 */
export function removeCgroups(state: { dirs: Record<string, string>; created: readonly string[] }): void {
  const own = Object.values(state.dirs).filter((d) => state.created.includes(d));
  removeTracked([...own.flatMap(descendants), ...state.created]);
}

export function removeTracked(created: readonly string[]): void {
  const errors: string[] = [];
  for (const d of [...created].sort((a, b) => b.length - a.length)) {
    for (let attempt = 0; ; attempt++) {
      try {
        fs.rmdirSync(d);
        break;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') break;
        // A parent shared with another container still has children: not ours to force.
        if (code === 'ENOTEMPTY') break;
        // cgroupfs says EBUSY, not ENOTEMPTY, for a parent that still has child cgroups.
        if (code === 'EBUSY' && hasChildCgroups(d)) break;
        if (code === 'EBUSY' && attempt < 200) {
          sleepSync(10);
          continue;
        }
        errors.push(`rmdir ${d}: ${(e as Error).message}`);
        break;
      }
    }
  }
  if (errors.length) throw new TsrunError('TSRUN_E_CGROUP', errors.join('; '));
}

// The teaching trace shows each limit as the file and value written: while a controller
// applies its part, its writes are collected (synchronously, so one list at a time).
let collected: string[] | undefined;

/** Runs `fn` and returns what it wrote, as "file=value" (and any noteWrite() texts). */
export function collectWrites(fn: () => void): string[] {
  const outer = collected;
  const mine: string[] = [];
  collected = mine;
  try {
    fn();
  } finally {
    collected = outer;
  }
  return mine;
}

/** Records a change that is not a file write (a cgroup v2 device program) among the writes. */
export function noteWrite(what: string): void {
  collected?.push(what);
}

export function writeCgroupFile(dir: string, file: string, value: string): void {
  try {
    fs.writeFileSync(path.join(dir, file), value);
  } catch (e) {
    throw new TsrunError('TSRUN_E_CGROUP', `write ${JSON.stringify(value)} to ${path.join(dir, file)}: ${(e as Error).message}`);
  }
  collected?.push(`${file}=${value}`);
}

export function readPids(file: string): number[] {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map(Number);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

export function readCgroupFile(dir: string, file: string): string {
  return fs.readFileSync(path.join(dir, file), 'utf8').trim();
}

/** A cgroup file's trimmed text, or undefined where the file (or the cgroup) is not there. */
export function readIfThere(dir: string, file: string): string | undefined {
  try {
    return readCgroupFile(dir, file);
  } catch {
    return undefined;
  }
}

/** "key value" lines (memory.stat, cpu.stat, memory.events) as numbers. */
export function readKeyValues(dir: string, file: string): Record<string, number> {
  const out: Record<string, number> = {};
  let text: string;
  try {
    text = fs.readFileSync(path.join(dir, file), 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined) out[k] = Number(v);
  }
  return out;
}

/** A number file; "max" reads as the largest safe number. */
export function readNumber(dir: string, file: string): number {
  try {
    const v = readCgroupFile(dir, file).split(/\s+/)[0]!;
    return v === 'max' ? Number.MAX_SAFE_INTEGER : Number(v);
  } catch {
    return 0;
  }
}

export function hasFile(dir: string, file: string): boolean {
  return fs.existsSync(path.join(dir, file));
}
