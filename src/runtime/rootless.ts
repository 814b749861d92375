// Rootless: tsrun run by an ordinary user, or as root of a user namespace that is not the
// host's (podman runs its runtime so). As runc: the state goes under $XDG_RUNTIME_DIR, cgroups
// are made only where the caller may make them, and the container's user namespace gets its
// id maps through newuidmap/newgidmap (Debian's uidmap) when they name more than the caller's
// own id.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RuntimeConfig } from '../../specs/oci/runtime-config';
import { TsrunError } from '../common/errors';
import type { Plan } from '../oci/plan';
import { DEFAULT_ROOT } from './state-dir';

/** The full identity map "0 0 4294967295" is the host's user namespace; anything else is not. */
export function runningInUserNamespace(uidMapText?: string): boolean {
  let text = uidMapText;
  if (text === undefined) {
    try {
      text = fs.readFileSync('/proc/self/uid_map', 'utf8');
    } catch {
      return false;
    }
  }
  const lines = text.trim().split('\n');
  const f = lines[0]?.trim().split(/\s+/);
  return !(lines.length === 1 && f?.[0] === '0' && f[1] === '0' && f[2] === '4294967295');
}

/** Not real root: an ordinary user, or root of a user namespace (runc's rootless "auto"). */
export function isRootless(flag?: string): boolean {
  if (flag === 'true') return true;
  if (flag === 'false') return false;
  if (flag !== undefined && flag !== 'auto') throw new TsrunError('TSRUN_E_USAGE', `--rootless: "${flag}" is not true, false or auto`);
  return process.geteuid!() !== 0 || runningInUserNamespace();
}

/**
 * The default --root: $TSRUN_ROOT; else, for an ordinary user (or root in a user namespace whose
 * $USER is not root) with $XDG_RUNTIME_DIR set, $XDG_RUNTIME_DIR/tsrun (runc: .../runc); else /run/tsrun.
 */
export function defaultRoot(env: NodeJS.ProcessEnv = process.env): { root: string; xdg: boolean } {
  if (env['TSRUN_ROOT']) return { root: env['TSRUN_ROOT'], xdg: false };
  const xdg = env['XDG_RUNTIME_DIR'];
  if (xdg && (process.geteuid!() !== 0 || (runningInUserNamespace() && env['USER'] !== 'root'))) return { root: path.join(xdg, 'tsrun'), xdg: true };
  return { root: DEFAULT_ROOT, xdg: false };
}

/**
 * As runc: the state root under $XDG_RUNTIME_DIR is made 0700 and sticky, so that the session's
 * periodic clean-up (which skips sticky entries) does not remove it.
 */
export function prepareXdgRoot(root: string): void {
  try {
    fs.mkdirSync(root, { recursive: true, mode: 0o700 });
    fs.chmodSync(root, 0o1700);
  } catch (e) {
    throw new TsrunError('TSRUN_E_SYS', `the state root ${root} (in $XDG_RUNTIME_DIR) must be writable by uid ${process.geteuid!()}: ${(e as Error).message}`);
  }
}

export interface Range {
  start: number;
  count: number;
}

/** The ranges /etc/subuid (or /etc/subgid) gives `user` (by name or by id): "name:start:count" lines. */
export function subordinateRanges(text: string, user: { name: string; id: number }): Range[] {
  const out: Range[] = [];
  for (const line of text.split('\n')) {
    const [who, start, count] = line.trim().split(':');
    if (!who || start === undefined || count === undefined) continue;
    if (who !== user.name && who !== String(user.id)) continue;
    if (/^\d+$/.test(start) && /^\d+$/.test(count)) out.push({ start: Number(start), count: Number(count) });
  }
  return out;
}

function readOr(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** An executable on $PATH (the helpers are setuid root: never one from the bundle). */
export function findOnPath(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env['PATH'] || '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    if (!dir || !path.isAbsolute(dir)) continue;
    const p = path.join(dir, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

type IdMapping = { containerID: number; hostID: number; size: number };

/** A map the kernel lets an unprivileged caller write itself: one line, its own id. */
function ownIdOnly(maps: IdMapping[] | undefined, own: number): boolean {
  return !!maps && maps.length === 1 && maps[0]!.hostID === own && maps[0]!.size === 1;
}

/**
 * How an ordinary user's container gets its id maps (real root, and root of a user namespace,
 * write them directly): a map of its own id alone is written directly (with setgroups denied
 * for the gid map, as the kernel requires); anything more goes through newuidmap/newgidmap,
 * after checking here that each range is the user's own id or given to it in /etc/subuid and
 * /etc/subgid, so that the error names the config's field.
 */
export function rootlessIdMaps(
  config: RuntimeConfig,
  host: { uid: number; gid: number; user: string; subuid: string; subgid: string; env?: NodeJS.ProcessEnv } = {
    uid: process.geteuid!(),
    gid: process.getegid!(),
    user: userName(process.geteuid!()),
    subuid: readOr('/etc/subuid'),
    subgid: readOr('/etc/subgid'),
  },
): Pick<Plan, 'idMapHelpers' | 'setgroupsDeny'> {
  const linux = config.linux ?? {};
  const userns = linux.namespaces?.find((n) => n.type === 'user');
  if (host.uid === 0) return {};
  // runc's rootless validation, in its words, naming the field.
  if (!userns)
    throw new TsrunError(
      'TSRUN_E_CONFIG',
      `linux.namespaces: rootless container requires user namespaces (tsrun runs as uid ${host.uid}, not root: give the container a user namespace, as tsrun spec --rootless writes, or run tsrun as root)`,
    );
  config.mounts?.forEach((m, i) => {
    if (m.uidMappings?.length || m.gidMappings?.length)
      throw new TsrunError(
        'TSRUN_E_CONFIG',
        `mounts[${i}]: id-mapped mounts are not supported for rootless containers (the kernel lets only a process with CAP_SYS_ADMIN over the mounted ` +
          "filesystem's user namespace, real root for the host's filesystems, idmap a mount). A rootless container sees files through its own " +
          "user namespace instead: files of your uid are its root's; give others owners in your subordinate range (e.g. podman unshare chown) " +
          "to show them as the container's other users",
      );
    for (const opt of m.options ?? []) {
      const [k, v] = opt.split('=');
      if ((k !== 'uid' && k !== 'gid') || !/^\d+$/.test(v ?? '')) continue;
      const maps = (k === 'uid' ? linux.uidMappings : linux.gidMappings) ?? [];
      if (!maps.some((x) => Number(v) >= x.containerID && Number(v) < x.containerID + x.size))
        throw new TsrunError(
          'TSRUN_E_CONFIG',
          `mounts[${i}].options: cannot specify ${opt} mount option for rootless container: ${k} ${v} is not mapped in linux.${k}Mappings`,
        );
    }
  });
  if (userns.path) return {};
  const uids = linux.uidMappings;
  const gids = linux.gidMappings;
  if (!uids?.length) throw new TsrunError('TSRUN_E_CONFIG', 'linux.uidMappings: rootless containers requires at least one UID mapping');
  if (!gids?.length) throw new TsrunError('TSRUN_E_CONFIG', 'linux.gidMappings: rootless containers requires at least one GID mapping');
  const uidDirect = ownIdOnly(uids, host.uid);
  const gidDirect = ownIdOnly(gids, host.gid);
  const check = (field: string, maps: IdMapping[], own: number, file: string, text: string, kind: string): void => {
    // Both files name the user (by name or uid), as newuidmap and newgidmap look them up.
    const ranges = [{ start: own, count: 1 }, ...subordinateRanges(text, { name: host.user, id: host.uid })];
    maps.forEach((m, i) => {
      if (ranges.some((r) => m.hostID >= r.start && m.hostID + m.size <= r.start + r.count)) return;
      const given = ranges.slice(1).map((r) => `${r.start}-${r.start + r.count - 1}`);
      throw new TsrunError(
        'TSRUN_E_CONFIG',
        `${field}[${i}]: host ${kind}s ${m.hostID}-${m.hostID + m.size - 1} are not yours: ${host.user} (${kind} ${own}) may map only its own ${kind} ` +
          `and the ranges ${file} gives it (${given.length ? given.join(', ') : 'none'}); add one (usermod --add-sub${kind}s START-END ${host.user}, as root) ` +
          `or map only ${kind} ${own}`,
      );
    });
  };
  let helpers: Plan['idMapHelpers'];
  if (!uidDirect || !gidDirect) {
    check('linux.uidMappings', uids, host.uid, '/etc/subuid', host.subuid, 'uid');
    check('linux.gidMappings', gids, host.gid, '/etc/subgid', host.subgid, 'gid');
    const newuidmap = uidDirect ? '' : findOnPath('newuidmap', host.env);
    const newgidmap = gidDirect ? '' : findOnPath('newgidmap', host.env);
    if (newuidmap === undefined || newgidmap === undefined)
      throw new TsrunError(
        'TSRUN_E_UNSUPPORTED',
        `${newuidmap === undefined ? 'linux.uidMappings' : 'linux.gidMappings'}: mapping more than your own id needs ${newuidmap === undefined ? 'newuidmap' : 'newgidmap'}, ` +
          'which is not on PATH: install it (Debian: apt-get install uidmap), or map only your own uid and gid (tsrun spec --rootless does)',
      );
    helpers = { newuidmap, newgidmap };
  }
  return { ...(helpers ? { idMapHelpers: helpers } : {}), ...(gidDirect ? { setgroupsDeny: true } : {}) };
}

function userName(uid: number): string {
  for (const line of readOr('/etc/passwd').split('\n')) {
    const f = line.split(':');
    if (f[2] === String(uid) && f[0]) return f[0];
  }
  try {
    return os.userInfo().username;
  } catch {
    return String(uid);
  }
}
