// exec --cgroup: the exec'd process joins an existing sub-cgroup of the container's cgroup
// instead of the container's own, as runc's exec does. Values are read as runc reads them:
//   --cgroup PATH              PATH below the container's cgroup in every hierarchy (the only
//                              form on cgroup v2); it may be given once, alone
//   --cgroup CTRL[,CTRL]:PATH  PATH in the hierarchies of those controllers (cgroup v1), the
//                              container's own cgroup in the others; repeatable
// A path never leaves the container's cgroup: "/a" means "a", and ".." that climbs out is
// refused (runc checks with a string prefix, which lets "../<id>x" through; tsrun does not).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TsrunError } from '../common/errors';
import { writeCgroupFile } from './fs-ops';
import type { CgroupState } from './manager';

const fail = (msg: string): never => {
  throw new TsrunError('TSRUN_E_CGROUP', `exec --cgroup: ${msg}`);
};

/** controller (or '' for every hierarchy) -> path below the container's cgroup */
export function parseSubCgroupArgs(args: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const arg of args) {
    const parts = arg.split(':');
    if (parts.length > 2) fail(`invalid argument ${JSON.stringify(arg)}: expected [CONTROLLER[,CONTROLLER...]:]PATH`);
    if (parts.length === 1) {
      if (args.length !== 1) fail(`invalid argument ${JSON.stringify(arg)}: with more than one --cgroup, each needs a CONTROLLER: prefix`);
      out.set('', arg);
    } else {
      for (const ctrl of parts[0]!.split(',')) out.set(ctrl, parts[1]!);
    }
  }
  return out;
}

/** `sub` below `dir`, refusing a path that climbs out of it. */
function below(dir: string, sub: string, arg: string): string {
  const rel = path.posix.normalize(sub.replace(/^\/+/, '') || '.');
  if (rel === '..' || rel.startsWith('../'))
    fail(`${JSON.stringify(arg)} is not a sub-cgroup path: it leads out of the container's cgroup (".." may not climb above it)`);
  return rel === '.' ? dir : path.join(dir, rel);
}

/**
 * The directories the process joins, one per hierarchy of the container: the sub-cgroup where
 * one is asked for, the container's own elsewhere. Each must exist (exec makes none).
 */
export function subCgroupDirs(state: CgroupState, wanted: Map<string, string>): string[] {
  const dirs = { ...state.dirs };
  const all = wanted.get('');
  if (all !== undefined) {
    for (const [name, dir] of Object.entries(dirs)) dirs[name] = below(dir, all, all);
  } else {
    if (state.driver === 'v2') fail('cgroup v2 has one hierarchy: give the sub-cgroup as --cgroup PATH, without a controller');
    for (const [ctrl, sub] of wanted) {
      const hierarchy = Object.keys(dirs).find((name) => name.split(',').includes(ctrl));
      if (!hierarchy) fail(`unknown controller ${JSON.stringify(ctrl)} (this container's hierarchies: ${Object.keys(dirs).join(' ')})`);
      dirs[hierarchy!] = below(state.dirs[hierarchy!]!, sub, `${ctrl}:${sub}`);
    }
  }
  for (const dir of Object.values(dirs)) if (!fs.existsSync(dir)) fail(`${dir} does not exist: exec joins an existing sub-cgroup (make it first)`);
  return Object.values(dirs);
}

/** Moves `pid` into each of `dirs` (from subCgroupDirs). */
export function joinCgroupDirs(dirs: readonly string[], pid: number): void {
  for (const dir of dirs) writeCgroupFile(dir, 'cgroup.procs', String(pid));
}
