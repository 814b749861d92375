// Names of the systemd driver: a container is a transient scope "PREFIX-NAME.scope" in a slice,
// from a cgroupsPath of the form "slice:prefix:name" (runc's and containerd's convention; the
// default is "system.slice:tsrun:ID", runc's "system.slice:runc:ID").
import * as path from 'node:path';
import { TsrunError } from '../../common/errors';

export interface UnitName {
  /** the unit systemd makes: PREFIX-NAME.scope, or NAME when it is itself a .slice */
  unit: string;
  /** the slice it goes in (Slice= of a scope, Wants= of a slice) */
  slice: string;
}

/** "slice:prefix:name" (or nothing: the defaults) -> the unit and its slice. */
export function parseSystemdPath(id: string, cgroupsPath: string | undefined, rootless: boolean): UnitName {
  const defaultSlice = rootless ? 'user.slice' : 'system.slice';
  if (!cgroupsPath) return { unit: `tsrun-${id}.scope`, slice: defaultSlice };
  const parts = cgroupsPath.split(':');
  if (parts.length !== 3)
    throw new TsrunError(
      'TSRUN_E_CONFIG',
      `linux.cgroupsPath: expected cgroupsPath to be of format "slice:prefix:name" for systemd cgroups, got ${JSON.stringify(cgroupsPath)} instead`,
    );
  const [slice, prefix, name] = parts as [string, string, string];
  if (!name) throw new TsrunError('TSRUN_E_CONFIG', `linux.cgroupsPath ${JSON.stringify(cgroupsPath)}: the unit name (after the second ":") is empty`);
  for (const [what, v] of [
    ['slice', slice],
    ['prefix', prefix],
    ['name', name],
  ] as const)
    if (!/^[A-Za-z0-9:_.\\@-]*$/.test(v) || v.includes('/'))
      throw new TsrunError(
        'TSRUN_E_CONFIG',
        `linux.cgroupsPath ${JSON.stringify(cgroupsPath)}: the ${what} ${JSON.stringify(v)} is not a valid systemd unit name part`,
      );
  const unit = name.endsWith('.slice') ? name : `${prefix ? prefix + '-' : ''}${name}.scope`;
  const s = slice || defaultSlice;
  expandSlice(s); // validates it
  return { unit, slice: s };
}

/**
 * systemd nests slices by their dashes: "a-b-c.slice" is /a.slice/a-b.slice/a-b-c.slice in
 * the cgroup tree; "-.slice" is the root.
 */
export function expandSlice(slice: string): string {
  const suffix = '.slice';
  if (slice.length <= suffix.length || !slice.endsWith(suffix) || slice.includes('/'))
    throw new TsrunError('TSRUN_E_CONFIG', `invalid slice name: ${slice} (a slice is NAME.slice, its parents named by dashes: a-b.slice is inside a.slice)`);
  const name = slice.slice(0, -suffix.length);
  if (name === '-') return '/';
  let out = '';
  let prefix = '';
  for (const component of name.split('-')) {
    if (!component) throw new TsrunError('TSRUN_E_CONFIG', `invalid slice name: ${slice} (empty part between dashes)`);
    out += `/${prefix}${component}${suffix}`;
    prefix += `${component}-`;
  }
  return out;
}

/** The cgroup path of the unit, from the root of the hierarchy (below `managerCgroup` for a user's systemd). */
export function unitCgroupPath(u: UnitName, managerCgroup = '/'): string {
  // A slice unit is itself the last component.
  if (u.unit.endsWith('.slice')) return path.posix.join(managerCgroup, expandSlice(u.unit));
  return path.posix.join(managerCgroup, expandSlice(u.slice), u.unit);
}
