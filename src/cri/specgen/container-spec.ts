// A CRI CreateContainer request -> the container's config.json. Starts from the image's
// config (entrypoint, env, user, workdir), joins the pod's namespaces, mounts the pod's
// files and the requested volumes, then applies the security context and resources.
import * as fs from 'node:fs';
import type { ImageConfig } from '../../../specs/oci/image';
import type { RuntimeConfig } from '../../../specs/oci/runtime-config';
import { DEFAULT_PATH, IMAGE_DEFAULT_CAPS, specFromImage, type RootReader } from '../../oci/from-image';
import { checkConfig } from '../../oci/load-bundle';
import { invalid } from '../errors';
import { checkPath } from '../validate';
import type { ContainerConfig__Output } from '../generated/runtime/v1/ContainerConfig';
import type { SandboxRecord } from '../store/types';
import { ociResources } from './resources';
import { CAPABILITIES } from '../../oci/capabilities';
import { capabilitySet, capName, processUser, seccompFor, type ResolvedUser } from './security';

type Mount = NonNullable<RuntimeConfig['mounts']>[number];
type Namespace = NonNullable<NonNullable<RuntimeConfig['linux']>['namespaces']>[number];

export interface ContainerSpecInput {
  id: string;
  sandbox: SandboxRecord;
  config: ContainerConfig__Output;
  image: ImageConfig;
  imageName: string;
  read: RootReader;
  cgroupsPath: string;
  /** PID namespace to join: the pod's infra, or a target container's init */
  pidNamespace?: string;
  /** the lowest oom_score_adj to set (the server's own, with restrictOomScoreAdj) */
  minOomScoreAdj?: number;
}

export interface ContainerSpec {
  spec: RuntimeConfig;
  user: ResolvedUser;
  stopSignal: string;
  /** the host paths of the volume mounts, after following symlinks */
  mounts: ContainerConfig__Output['mounts'];
}

const PROPAGATION: Record<string, string> = {
  PROPAGATION_PRIVATE: 'rprivate',
  PROPAGATION_HOST_TO_CONTAINER: 'rslave',
  PROPAGATION_BIDIRECTIONAL: 'rshared',
};

/** CRI args semantics: command replaces Entrypoint, args replaces Cmd. */
export function processArgs(config: ContainerConfig__Output, image: ImageConfig): string[] {
  const c = image.config ?? {};
  if (config.command.length) return [...config.command, ...config.args];
  if (config.args.length) return [...(c.Entrypoint ?? []), ...config.args];
  return [...(c.Entrypoint ?? []), ...(c.Cmd ?? [])];
}

function mergeEnv(base: string[], extra: { key: string; value: string }[]): string[] {
  const out = new Map<string, string>();
  for (const e of base) {
    const i = e.indexOf('=');
    out.set(i < 0 ? e : e.slice(0, i), e);
  }
  for (const { key, value } of extra) out.set(key, `${key}=${value}`);
  return [...out.values()];
}

function volumeMounts(config: ContainerConfig__Output): { oci: Mount[]; reported: ContainerConfig__Output['mounts'] } {
  const oci: Mount[] = [];
  const reported: ContainerConfig__Output['mounts'] = [];
  config.mounts.forEach((m, i) => {
    const where = `mounts[${i}]`;
    if (!m.container_path?.startsWith('/')) throw invalid(`${where}.container_path ${JSON.stringify(m.container_path)}: must be an absolute path`);
    checkPath(`${where}.container_path`, m.container_path);
    if (!m.host_path) throw invalid(`${where}.host_path is empty`);
    checkPath(`${where}.host_path`, m.host_path);
    // Relative, it would be made and bound relative to wherever the server runs.
    if (!m.host_path.startsWith('/')) throw invalid(`${where}.host_path ${JSON.stringify(m.host_path)}: must be an absolute path`);
    // A missing host path becomes a directory (as the kubelet's hostPath DirectoryOrCreate);
    // a symlinked one is followed here, on the host, so the bind sees its target.
    let host: string;
    try {
      if (!fs.existsSync(m.host_path)) fs.mkdirSync(m.host_path, { recursive: true, mode: 0o755 });
      host = fs.realpathSync(m.host_path);
    } catch (e) {
      throw invalid(`${where}.host_path ${m.host_path}: ${(e as Error).message}`);
    }
    const options = ['rbind', PROPAGATION[m.propagation] ?? 'rprivate'];
    if (m.readonly) options.push('ro');
    if (m.recursive_read_only) {
      if (!m.readonly) throw invalid(`${where}: recursive_read_only needs readonly`);
      if (m.propagation && m.propagation !== 'PROPAGATION_PRIVATE')
        throw invalid(`${where}: recursive_read_only needs PROPAGATION_PRIVATE, not ${m.propagation}`);
      options.push('rro');
    }
    oci.push({ destination: m.container_path, type: 'bind', source: host, options });
    reported.push({ ...m, host_path: host });
  });
  return { oci, reported };
}

type LinuxDevice = NonNullable<NonNullable<RuntimeConfig['linux']>['devices']>[number];

/** The OCI device entry of a host device node, seen in the container at `path`. */
function deviceEntry(st: fs.Stats, path: string): LinuxDevice {
  return {
    type: st.isCharacterDevice() ? 'c' : 'b',
    path,
    // Linux's dev_t encoding: 12 bits of major, 20 of minor, split around the low byte.
    major: Math.floor(st.rdev / 256) & 0xfff,
    minor: (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00),
    fileMode: st.mode & 0o777,
    uid: st.uid,
    gid: st.gid,
  };
}

function devices(config: ContainerConfig__Output, spec: RuntimeConfig): void {
  const linux = spec.linux!;
  for (const [i, d] of config.devices.entries()) {
    let st: fs.Stats;
    try {
      st = fs.statSync(d.host_path);
    } catch (e) {
      throw invalid(`devices[${i}].host_path ${d.host_path}: ${(e as Error).message}`);
    }
    if (!st.isCharacterDevice() && !st.isBlockDevice()) throw invalid(`devices[${i}].host_path ${d.host_path}: not a device`);
    const dev = deviceEntry(st, d.container_path || d.host_path);
    linux.devices = [...(linux.devices ?? []), dev];
    linux.resources!.devices = [
      ...(linux.resources!.devices ?? []),
      { allow: true, type: dev.type, major: dev.major, minor: dev.minor, access: d.permissions || 'rwm' },
    ];
  }
}

function hostDevices(spec: RuntimeConfig): void {
  // privileged: every host device, as containerd gives a privileged container.
  const linux = spec.linux!;
  linux.devices = [];
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = `${dir}/${e.name}`;
      if (e.isDirectory() && !['pts', 'shm', 'mqueue', 'fd'].includes(e.name)) walk(p);
      else if (e.isCharacterDevice() || e.isBlockDevice()) {
        if (p === '/dev/console' || p === '/dev/ptmx' || p.startsWith('/dev/tty')) continue;
        linux.devices!.push(deviceEntry(fs.statSync(p), p));
      }
    }
  };
  walk('/dev');
  linux.resources!.devices = [{ allow: true, access: 'rwm' }];
}

export function containerSpec(input: ContainerSpecInput): ContainerSpec {
  const { config, sandbox, image } = input;
  const args = processArgs(config, image);
  if (!args.length) throw invalid(`container ${config.metadata?.name}: no command: the request and image ${input.imageName} give neither command nor args`);
  const spec = specFromImage(image, undefined, input.imageName, args); // the user is processUser's below
  const proc = spec.process!;
  const linux = spec.linux!;
  const lc = config.linux;
  const sc = lc?.security_context ?? null;
  const podSc = sandbox.config.linux?.security_context ?? null;
  const privileged = !!sc?.privileged;
  if (privileged && !podSc?.privileged) throw invalid('security_context.privileged: the pod sandbox is not privileged');

  proc.terminal = config.tty;
  proc.env = mergeEnv(proc.env ?? [DEFAULT_PATH], config.envs);
  if (!proc.env.some((e) => e.startsWith('HOSTNAME='))) proc.env.push(`HOSTNAME=${sandbox.hostname}`);
  if (config.working_dir) proc.cwd = config.working_dir;
  const user = processUser(sc, image.config?.User, input.read);
  proc.user = { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids };
  const caps = privileged ? [...CAPABILITIES] : capabilitySet(IMAGE_DEFAULT_CAPS, sc);
  const ambient = (sc?.capabilities?.add_ambient_capabilities ?? []).map((c) => capName(c, 'capabilities.add_ambient_capabilities'));
  proc.capabilities = { bounding: caps, effective: caps, permitted: caps, ...(ambient.length ? { ambient, inheritable: ambient } : {}) };
  proc.noNewPrivileges = !!sc?.no_new_privs;
  if (lc?.resources && Number(lc.resources.oom_score_adj)) proc.oomScoreAdj = Math.max(Number(lc.resources.oom_score_adj), input.minOomScoreAdj ?? -1000);
  delete spec.hostname;
  if (!sandbox.hostNetwork || sandbox.utsns) spec.hostname = sandbox.hostname;
  spec.root = { path: 'rootfs', readonly: !!sc?.readonly_rootfs };

  // Namespaces: the pod's, by path; a fresh mount namespace each; PID as the pod asks.
  const ns: Namespace[] = [{ type: 'mount' }];
  // Joined first by the init: the pod's user namespace owns its other namespaces.
  if (sandbox.userns) ns.push({ type: 'user', path: sandbox.userns });
  if (sandbox.netns) ns.push({ type: 'network', path: sandbox.netns });
  if (sandbox.ipcns) ns.push({ type: 'ipc', path: sandbox.ipcns });
  if (sandbox.utsns) ns.push({ type: 'uts', path: sandbox.utsns });
  // No namespace_options means every mode at its default, POD (as for the pod itself). A pod
  // without a shared PID namespace has none to join: then the host's (hostPID) or one's own.
  let pidMode = sc?.namespace_options?.pid ?? 'POD';
  if (pidMode === 'POD' && !input.pidNamespace) pidMode = sandbox.hostPid ? 'NODE' : 'CONTAINER';
  if (pidMode === 'POD' || pidMode === 'TARGET') {
    if (!input.pidNamespace) throw invalid(`namespace_options.pid ${pidMode}: no PID namespace to join`);
    ns.push({ type: 'pid', path: input.pidNamespace });
  } else if (pidMode !== 'NODE') ns.push({ type: 'pid' });
  ns.push({ type: 'cgroup' });
  linux.namespaces = ns;

  // Mounts: defaults, the pod's /etc files and /dev/shm, then the volumes (which win).
  const volumes = volumeMounts(config);
  const volumeDests = new Set(volumes.oci.map((m) => m.destination));
  const ro = !!sc?.readonly_rootfs;
  const podMounts: Mount[] = [
    { destination: '/etc/hosts', type: 'bind', source: sandbox.files.hosts, options: ['rbind', 'rprivate', ...(ro ? ['ro'] : [])] },
    { destination: '/etc/resolv.conf', type: 'bind', source: sandbox.files.resolv, options: ['rbind', 'rprivate', ...(ro ? ['ro'] : [])] },
    { destination: '/etc/hostname', type: 'bind', source: sandbox.files.hostname, options: ['rbind', 'rprivate', ...(ro ? ['ro'] : [])] },
    { destination: '/dev/shm', type: 'bind', source: sandbox.shm, options: ['rbind', 'rprivate', 'nosuid', 'nodev', 'noexec'] },
  ];
  spec.mounts = [...spec.mounts!.filter((m) => m.destination !== '/dev/shm'), ...podMounts].filter((m) => !volumeDests.has(m.destination)).concat(volumes.oci);
  // As containerd does: a bidirectional volume needs the container's mounts shared back to the
  // host, a host-to-container one needs them to be slaves of the host's.
  const props = config.mounts.map((m) => m.propagation);
  if (props.includes('PROPAGATION_BIDIRECTIONAL')) linux.rootfsPropagation = 'rshared';
  else if (props.includes('PROPAGATION_HOST_TO_CONTAINER')) linux.rootfsPropagation = 'rslave';
  // A cgroup v1 hierarchy cannot be mounted from a user namespace.
  if (sandbox.userns) spec.mounts = spec.mounts.filter((m) => m.type !== 'cgroup');
  if (privileged) {
    spec.mounts = spec.mounts.map((m) => (m.type === 'sysfs' || m.type === 'cgroup' ? { ...m, options: (m.options ?? []).filter((o) => o !== 'ro') } : m));
  }

  // Masked/readonly paths: the kubelet sends the defaults (or none, for Unmasked procMount).
  if (privileged) {
    linux.maskedPaths = [];
    linux.readonlyPaths = [];
  } else {
    if (sc && (sc.masked_paths.length || sc.readonly_paths.length || sc.namespace_options)) {
      if (sc.masked_paths.length) linux.maskedPaths = [...sc.masked_paths];
      if (sc.readonly_paths.length) linux.readonlyPaths = [...sc.readonly_paths];
    }
  }
  const seccomp = seccompFor(sc?.seccomp ?? null, sc?.seccomp_profile_path ?? '', caps, privileged);
  if (seccomp) linux.seccomp = seccomp;
  else delete linux.seccomp;

  linux.resources = { devices: [{ allow: false, access: 'rwm' }], ...ociResources(lc?.resources) };
  if (privileged) hostDevices(spec);
  else devices(config, spec);
  const sysctl = { ...(sandbox.config.linux?.sysctls ?? {}) };
  if (Object.keys(sysctl).length) linux.sysctl = sysctl;
  linux.cgroupsPath = input.cgroupsPath;

  spec.annotations = {
    ...spec.annotations,
    ...config.annotations,
    'io.kubernetes.cri.container-type': 'container',
    'io.kubernetes.cri.container-name': config.metadata?.name ?? '',
    'io.kubernetes.cri.sandbox-id': sandbox.id,
    'io.kubernetes.cri.sandbox-name': sandbox.config.metadata?.name ?? '',
    'io.kubernetes.cri.sandbox-namespace': sandbox.config.metadata?.namespace ?? '',
    'io.kubernetes.cri.sandbox-uid': sandbox.config.metadata?.uid ?? '',
    'io.kubernetes.cri.image-name': input.imageName,
  };
  const stopSignal = config.stop_signal && config.stop_signal !== 'RUNTIME_DEFAULT' ? config.stop_signal : image.config?.StopSignal || 'SIGTERM';
  // Whatever the request asked for must make a config.json the runtime takes: refused here, as an
  // InvalidArgument at CreateContainer, never as a failure of StartContainer.
  const checked = checkConfig(spec);
  if (checked.problem !== undefined) throw invalid(`the request makes an invalid container config: ${checked.problem}`);
  return { spec, user, stopSignal, mounts: volumes.reported };
}
