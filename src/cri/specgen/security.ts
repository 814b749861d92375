// The CRI security context -> the OCI process and linux sections: user and groups,
// capabilities, privileged, seccomp, no_new_privs, masked and readonly paths.
import * as fs from 'node:fs';
import type { RuntimeConfig } from '../../../specs/oci/runtime-config';
import { capabilityNumber, CAPABILITIES } from '../../oci/capabilities';
import { runtimeDefaultSeccomp } from '../../oci/default-seccomp';
import { memberGroups, resolveUser, userNameOf, type RootReader } from '../../oci/from-image';
import { invalid } from '../errors';
import type { LinuxContainerSecurityContext__Output } from '../generated/runtime/v1/LinuxContainerSecurityContext';
import type { SecurityProfile__Output } from '../generated/runtime/v1/SecurityProfile';

type Seccomp = NonNullable<NonNullable<RuntimeConfig['linux']>['seccomp']>;

/** A CRI capability name ("NET_ADMIN" or "CAP_NET_ADMIN") as the OCI name; unknown ones are refused. */
export function capName(c: string, where: string): string {
  const name = c.toUpperCase().startsWith('CAP_') ? c.toUpperCase() : `CAP_${c.toUpperCase()}`;
  if (capabilityNumber(name) === undefined) throw invalid(`${where}: unknown capability ${JSON.stringify(c)}`);
  return name;
}

/** add/drop over the default set, ALL included, in the order containerd applies them. */
export function capabilitySet(base: readonly string[], sc: LinuxContainerSecurityContext__Output | null): string[] {
  const add = sc?.capabilities?.add_capabilities ?? [];
  const drop = sc?.capabilities?.drop_capabilities ?? [];
  const isAll = (c: string): boolean => c.toUpperCase() === 'ALL';
  let caps = new Set<string>(base);
  if (add.some(isAll)) caps = new Set(CAPABILITIES);
  if (drop.some(isAll)) caps = new Set();
  for (const c of add) if (!isAll(c)) caps.add(capName(c, 'capabilities.add_capabilities'));
  // An explicit add survives a drop of ALL; a named drop wins over everything.
  for (const c of drop) if (!isAll(c)) caps.delete(capName(c, 'capabilities.drop_capabilities'));
  return [...caps];
}

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
}

/** run_as_user / run_as_username / run_as_group, else the image's User; then supplemental groups. */
export function processUser(sc: LinuxContainerSecurityContext__Output | null, imageUser: string | undefined, read: RootReader): ResolvedUser {
  const runAsUser = sc?.run_as_user ? Number(sc.run_as_user.value) : undefined;
  const runAsGroup = sc?.run_as_group ? Number(sc.run_as_group.value) : undefined;
  const userName = sc?.run_as_username || undefined;
  if (runAsGroup !== undefined && runAsUser === undefined && !userName && !imageUser)
    throw invalid('security_context.run_as_group needs run_as_user, run_as_username or an image user');
  let spec: string | undefined = imageUser;
  if (userName) spec = userName;
  if (runAsUser !== undefined) spec = String(runAsUser);
  let u: ResolvedUser;
  try {
    u = resolveUser(spec, read);
  } catch (e) {
    throw invalid(`user ${JSON.stringify(spec)}: ${(e as Error).message}`);
  }
  if (runAsUser !== undefined || userName) {
    // Groups of a user named by the CRI come from the image's /etc/group, gid from /etc/passwd.
    if (runAsGroup !== undefined) u.gid = runAsGroup;
  } else if (runAsGroup !== undefined) u.gid = runAsGroup;
  const extra = (sc?.supplemental_groups ?? []).map(Number);
  if (sc?.supplemental_groups_policy === 'Strict') {
    // Strict: the groups the request names, never the image's /etc/group.
    u.additionalGids = [...new Set([u.gid, ...extra])];
    return u;
  }
  // Merge (the default): a user named by uid also gets the groups /etc/group lists it in.
  const name = userNameOf(read('/etc/passwd'), u.uid);
  const fromImage = name ? memberGroups(read('/etc/group'), name) : [];
  // The primary group leads the list, as containerd puts it (`id` shows groups=0(root),10(wheel)).
  u.additionalGids = [...new Set([u.gid, ...u.additionalGids, ...fromImage, ...extra])];
  return u;
}

/** A seccomp profile is a few KiB of JSON; one past this is not read. */
const MAX_PROFILE_BYTES = 1 << 20;

/** A regular file of bounded size, opened without blocking: a fifo or /dev/zero never hangs the server. */
function readProfile(file: string): string {
  const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new Error('not a regular file');
    if (st.size > MAX_PROFILE_BYTES) throw new Error(`${st.size} bytes, more than ${MAX_PROFILE_BYTES >> 20} MiB`);
    return fs.readFileSync(fd, 'utf8');
  } finally {
    fs.closeSync(fd);
  }
}

/** SecurityProfile (or the legacy seccomp_profile_path) -> an OCI seccomp section, or none. */
export function seccompFor(profile: SecurityProfile__Output | null, legacyPath: string, caps: readonly string[], privileged: boolean): Seccomp | undefined {
  let type = profile?.profile_type ?? '';
  let ref = profile?.localhost_ref ?? '';
  if (!profile && legacyPath) {
    if (legacyPath === 'unconfined') type = 'Unconfined';
    else if (legacyPath === 'runtime/default' || legacyPath === 'docker/default') type = 'RuntimeDefault';
    else if (legacyPath.startsWith('localhost/')) {
      type = 'Localhost';
      ref = legacyPath.slice('localhost/'.length);
    } else throw invalid(`seccomp_profile_path ${JSON.stringify(legacyPath)}: expected unconfined, runtime/default or localhost/PATH`);
  }
  if (privileged) return undefined;
  if (type === 'RuntimeDefault') return runtimeDefaultSeccomp(caps);
  if (type === 'Localhost') {
    if (!ref.startsWith('/')) throw invalid(`seccomp localhost profile ${JSON.stringify(ref)}: must be an absolute path`);
    let text: string;
    try {
      text = readProfile(ref);
    } catch (e) {
      throw invalid(`seccomp localhost profile ${ref}: ${(e as Error).message}`);
    }
    try {
      return JSON.parse(text) as Seccomp;
    } catch (e) {
      throw invalid(`seccomp localhost profile ${ref}: not valid JSON: ${(e as Error).message}`);
    }
  }
  // Unconfined, or nothing asked (the kubelet sends Unconfined unless told otherwise).
  return undefined;
}
