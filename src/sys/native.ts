// The only importer of the .node addon. Typed wrappers; the addon throws errors carrying
// errno, syscall and path.
import * as path from 'node:path';

interface Addon {
  flock(fd: number, exclusive: boolean, wait: boolean): boolean;
  mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null): void;
  umount(target: string, flags: number): void;
  mkfifo(path: string, mode: number): void;
  attachDeviceFilter(cgroupDir: string, rules: DeviceFilterRule[]): void;
  compileSeccomp(profile: SeccompProfileInput): { bpf: Buffer; unknown: string[] };
  lsetxattr(path: string, name: string, value: Buffer): void;
  lgetxattr(path: string, name: string): Buffer | null;
  mknod(path: string, mode: number, major: number, minor: number): void;
  pinNamespaces(types: string[], targets: string[], hostname: string | null, uidMap: string | null, gidMap: string | null): void;
  mountIdmappedOverlay(target: string, lowers: string[], upper: string, work: string, usernsPath: string, scratchDir: string): void;
  receiveFd(socketPath: string, timeoutMs: number): Promise<number>;
  setWinsize(fd: number, rows: number, cols: number): void;
  connectInNetns(nsPath: string, port: number): Promise<number>;
}

/** The OCI seccomp section, with argument values as decimal strings (uint64 safe). */
export interface SeccompProfileInput {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  syscalls?: { names: string[]; action: string; errnoRet?: number; args?: { index: number; value: string; valueTwo?: string; op: string }[] }[];
}

/** One device rule for the cgroup v2 eBPF filter; -1 is "any". */
export interface DeviceFilterRule {
  allow: boolean;
  type: string;
  major: number;
  minor: number;
  access: string;
}

export const PROJECT_ROOT = path.resolve(__dirname, '..', '..', '..');
const BUILD_DIR = path.join(PROJECT_ROOT, 'build', 'Release');

let addon: Addon | undefined;
function load(): Addon {
  addon ??= require(path.join(BUILD_DIR, 'tsrun_native.node')) as Addon;
  return addon;
}

/** Path of the native init binary (native/init), spawned for create and exec. */
export const INIT_BINARY = path.join(BUILD_DIR, 'tsrun-init');
/** The per-container monitor of the CRI server (native/monitor). */
export const MONITOR_BINARY = path.join(BUILD_DIR, 'tsrun-monitor');
/** The static PID 1 of pods that share a PID namespace (native/pause). */
export const PAUSE_BINARY = path.join(BUILD_DIR, 'tsrun-pause');

export const MNT_DETACH = 2;

export const flock = (fd: number, exclusive: boolean, wait: boolean): boolean => load().flock(fd, exclusive, wait);
export const mount = (source: string | null, target: string, fstype: string | null, flags: number, data: string | null): void =>
  load().mount(source, target, fstype, flags, data);
export const umount = (target: string, flags = 0): void => load().umount(target, flags);
export const mkfifo = (p: string, mode: number): void => load().mkfifo(p, mode);
export const attachDeviceFilter = (cgroupDir: string, rules: DeviceFilterRule[]): void => load().attachDeviceFilter(cgroupDir, rules);
export const compileSeccomp = (profile: SeccompProfileInput): { bpf: Buffer; unknown: string[] } => load().compileSeccomp(profile);
export const lsetxattr = (p: string, name: string, value: Buffer): void => load().lsetxattr(p, name, value);
export const mknod = (p: string, mode: number, major: number, minor: number): void => load().mknod(p, mode, major, minor);
export const lgetxattr = (p: string, name: string): Buffer | null => load().lgetxattr(p, name);

/**
 * New user/net/ipc/uts namespaces bind-mounted onto existing empty files, alive with no process
 * in them; a user namespace (with its maps, "inside outside count" lines) owns the others.
 */
export const pinNamespaces = (types: string[], targets: string[], hostname: string | null, uidMap: string | null = null, gidMap: string | null = null): void =>
  load().pinNamespaces(types, targets, hostname, uidMap, gidMap);
/**
 * Overlayfs on target whose lower layers (top first) are idmapped mounts with the user namespace
 * pinned at usernsPath; each is attached in scratchDir (made and removed) only while mounting.
 */
export const mountIdmappedOverlay = (target: string, lowers: string[], upper: string, work: string, usernsPath: string, scratchDir: string): void =>
  load().mountIdmappedOverlay(target, lowers, upper, work, usernsPath, scratchDir);
/**
 * Listens on a new unix socket at socketPath before it returns (so a sender started right after
 * finds it), then accepts one connection and resolves with the fd it carries.
 */
export const receiveFd = (socketPath: string, timeoutMs: number): Promise<number> => load().receiveFd(socketPath, timeoutMs);
export const setWinsize = (fd: number, rows: number, cols: number): void => load().setWinsize(fd, rows, cols);
/** A TCP connection to 127.0.0.1:port inside the network namespace at nsPath (port-forward). */
export const connectInNetns = (nsPath: string, port: number): Promise<number> => load().connectInNetns(nsPath, port);
