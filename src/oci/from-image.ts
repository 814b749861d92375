// An image config -> a runtime config.json, with the choices docker and containerd make:
// args = Entrypoint + Cmd, env with a default PATH, WorkingDir, User resolved against the
// image's own /etc/passwd and /etc/group; exposed ports and volumes noted in annotations.
import type { ImageConfig } from '../../specs/oci/image';
import type { RuntimeConfig } from '../../specs/oci/runtime-config';
import { TsrunError } from '../common/errors';
import { defaultSpec } from './default-spec';
import { checkConfig } from './load-bundle';

/** What containerd and docker give a container made from an image (runc's spec default is narrower). */
export const IMAGE_DEFAULT_CAPS = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

export const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Reads a file of the image's root filesystem (safely), or undefined. */
export type RootReader = (file: string) => string | undefined;

function lookup(file: string | undefined, name: string, field: number): { id: number; gid?: number } | undefined {
  for (const line of (file ?? '').split('\n')) {
    const f = line.split(':');
    if (f[0] === name) return { id: Number(f[field]), gid: field === 2 ? Number(f[3]) : undefined };
  }
  return undefined;
}

/** The /etc/passwd fields of the user with this uid (decimal, as written there). */
function passwdById(passwd: string | undefined, uid: string): string[] | undefined {
  return (passwd ?? '')
    .split('\n')
    .map((l) => l.split(':'))
    .find((f) => f[2] === uid);
}

/** The gids of the /etc/group entries that list `name` as a member. */
export function memberGroups(group: string | undefined, name: string): number[] {
  return (group ?? '')
    .split('\n')
    .map((l) => l.split(':'))
    .filter((f) => (f[3] ?? '').split(',').includes(name))
    .map((f) => Number(f[2]));
}

/** The user name /etc/passwd gives a uid, if any. */
export function userNameOf(passwd: string | undefined, uid: number): string | undefined {
  return passwdById(passwd, String(uid))?.[0];
}

/** "uid", "uid:gid", "name", "name:group" -> ids and supplementary groups */
export function resolveUser(user: string | undefined, read: RootReader): { uid: number; gid: number; additionalGids: number[] } {
  if (!user) return { uid: 0, gid: 0, additionalGids: [] };
  const [u, g] = user.split(':');
  const passwd = read('/etc/passwd');
  const group = read('/etc/group');
  let uid: number;
  let gid: number | undefined;
  if (/^\d+$/.test(u!)) {
    uid = Number(u);
    const byId = passwdById(passwd, u!);
    gid = byId ? Number(byId[3]) : undefined;
  } else {
    const p = lookup(passwd, u!, 2);
    if (!p) throw new TsrunError('TSRUN_E_CONFIG', `image config User ${JSON.stringify(user)}: no user ${u} in the image's /etc/passwd`);
    uid = p.id;
    gid = p.gid;
  }
  if (g !== undefined) {
    if (/^\d+$/.test(g)) gid = Number(g);
    else {
      const grp = lookup(group, g, 2);
      if (!grp) throw new TsrunError('TSRUN_E_CONFIG', `image config User ${JSON.stringify(user)}: no group ${g} in the image's /etc/group`);
      gid = grp.id;
    }
  }
  const name = /^\d+$/.test(u!) ? undefined : u;
  const additionalGids = name ? memberGroups(group, name) : [];
  return { uid, gid: gid ?? 0, additionalGids };
}

/**
 * A config.json from an image's config. The image's User is resolved through `read` (the rootfs's
 * /etc/passwd and /etc/group); a caller that decides the user itself (the CRI, whose request may
 * override it) passes no reader and sets process.user: an image user it overrides is never looked up.
 */
export function specFromImage(image: ImageConfig, read: RootReader | undefined, imageName: string, argsOverride?: string[]): RuntimeConfig {
  const c = image.config ?? {};
  const spec = defaultSpec();
  const args = argsOverride?.length ? argsOverride : [...(c.Entrypoint ?? []), ...(c.Cmd ?? [])];
  if (args.length === 0) throw new TsrunError('TSRUN_E_CONFIG', `image ${imageName} has neither Entrypoint nor Cmd: give the command to run`);
  const env = [...(c.Env ?? [])];
  if (!env.some((e) => e.startsWith('PATH='))) env.unshift(DEFAULT_PATH);
  spec.process!.terminal = false;
  spec.process!.args = args;
  spec.process!.env = env;
  spec.process!.cwd = c.WorkingDir || '/';
  if (read) spec.process!.user = resolveUser(c.User, read);
  spec.process!.capabilities = { bounding: IMAGE_DEFAULT_CAPS, effective: IMAGE_DEFAULT_CAPS, permitted: IMAGE_DEFAULT_CAPS };
  // Images expect setuid programs to work, as under docker and containerd.
  spec.process!.noNewPrivileges = false;
  spec.root = { path: 'rootfs', readonly: false };
  spec.annotations = {
    'org.opencontainers.image.ref.name': imageName,
    ...(c.ExposedPorts ? { 'org.opencontainers.image.exposedPorts': Object.keys(c.ExposedPorts).join(',') } : {}),
    ...(c.StopSignal ? { 'org.opencontainers.image.stopSignal': c.StopSignal } : {}),
  };
  // Volumes get a fresh tmpfs each, as an anonymous volume would start empty.
  for (const v of Object.keys(c.Volumes ?? {})) spec.mounts!.push({ destination: v, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=755'] });
  // An image is input from a registry: what it gives must make a container the runtime takes,
  // or it is refused here, naming the image, not later by `run` or StartContainer.
  const checked = checkConfig(spec);
  if (checked.problem !== undefined)
    throw new TsrunError('TSRUN_E_CONFIG', `image ${imageName}: its config makes an invalid container config: ${checked.problem}`);
  return spec;
}
