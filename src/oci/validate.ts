// The rules of the runtime spec that a schema cannot say: cross-field constraints, names that
// must be known, and what this runtime requires to build a container safely.
import type { RuntimeConfig, HookConfig, ProcessConfig } from '../../specs/oci/runtime-config';
import { capabilityNumber, unknownCapabilityIsError } from './capabilities';
import { PROPAGATION_WORDS } from './mount-options';
import { rlimitNumber } from './rlimits';

export interface ConfigProblem {
  path: string;
  message: string;
}

const SUPPORTED_MAJOR = 1;

function problem(path: string, message: string): ConfigProblem {
  return { path, message };
}

function checkHooks(name: string, hooks: HookConfig[] | undefined): ConfigProblem | undefined {
  for (const [i, h] of (hooks ?? []).entries()) {
    if (!h.path.startsWith('/')) return problem(`hooks.${name}[${i}].path`, `must be an absolute path, got ${JSON.stringify(h.path)}`);
    if (h.timeout !== undefined && h.timeout <= 0) return problem(`hooks.${name}[${i}].timeout`, `must be greater than zero, got ${h.timeout}`);
  }
  return undefined;
}

// Which namespace a sysctl needs, as runc decides it.
function sysctlNamespace(key: string): 'ipc' | 'network' | 'uts' | undefined {
  if (key.startsWith('net.')) return 'network';
  if (
    key.startsWith('fs.mqueue.') ||
    ['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced'].includes(key)
  )
    return 'ipc';
  if (key === 'kernel.hostname' || key === 'kernel.domainname') return 'uts';
  return undefined;
}

/**
 * Rules for a process, in config.json or in `exec --process` (prefix names where it came from);
 * `ociVersion` is the container config's, which decides whether an unknown capability is an error.
 */
export function validateProcess(p: ProcessConfig, prefix: string, ociVersion: string): ConfigProblem | undefined {
  if (!p.args || p.args.length === 0) return problem(`${prefix}.args`, 'must name at least the program to run');
  if (!p.cwd.startsWith('/')) return problem(`${prefix}.cwd`, `must be an absolute path, got ${JSON.stringify(p.cwd)}`);
  for (const [i, e] of (p.env ?? []).entries())
    if (!e.includes('=') || e.startsWith('=')) return problem(`${prefix}.env[${i}]`, `must be KEY=value, got ${JSON.stringify(e)}`);
  for (const set of ['bounding', 'effective', 'inheritable', 'permitted', 'ambient'] as const)
    for (const [i, name] of (p.capabilities?.[set] ?? []).entries())
      if (capabilityNumber(name) === undefined && unknownCapabilityIsError(ociVersion))
        return problem(
          `${prefix}.capabilities.${set}[${i}]`,
          `unknown capability ${JSON.stringify(name)} (runtime spec ${ociVersion} makes it an error; from 1.1.0 it is a warning)`,
        );
  const seen = new Set<string>();
  for (const [i, r] of (p.rlimits ?? []).entries()) {
    if (rlimitNumber(r.type) === undefined) return problem(`${prefix}.rlimits[${i}].type`, `unknown rlimit ${JSON.stringify(r.type)}`);
    if (seen.has(r.type)) return problem(`${prefix}.rlimits[${i}].type`, `${r.type} is given twice`);
    seen.add(r.type);
    if (r.soft > r.hard) return problem(`${prefix}.rlimits[${i}]`, `soft limit ${r.soft} is above hard limit ${r.hard}`);
  }
  if (p.oomScoreAdj !== undefined && (p.oomScoreAdj < -1000 || p.oomScoreAdj > 1000))
    return problem(`${prefix}.oomScoreAdj`, `must be between -1000 and 1000, got ${p.oomScoreAdj}`);
  if (p.user.umask !== undefined && p.user.umask > 0o777) return problem(`${prefix}.user.umask`, `must be at most 0777, got ${p.user.umask}`);
  return undefined;
}

export function validateConfig(c: RuntimeConfig, opts: { requireProcess: boolean }): ConfigProblem | undefined {
  const major = /^(\d+)\.(\d+)\.(\d+)(-[0-9A-Za-z.-]+)?$/.exec(c.ociVersion);
  if (!major) return problem('ociVersion', `${JSON.stringify(c.ociVersion)} is not a semantic version`);
  if (Number(major[1]) !== SUPPORTED_MAJOR) return problem('ociVersion', `version ${c.ociVersion} is not supported (tsrun supports 1.x)`);

  if (!c.root) return problem('root', 'is required on Linux');

  if (opts.requireProcess && !c.process) return problem('process', 'is required to create a container');
  if (c.process) {
    const bad = validateProcess(c.process, 'process', c.ociVersion);
    if (bad) return bad;
  }

  for (const [i, m] of (c.mounts ?? []).entries()) {
    if (!m.destination.startsWith('/')) return problem(`mounts[${i}].destination`, `must be an absolute path, got ${JSON.stringify(m.destination)}`);
    if (m.destination.split('/').includes('..')) return problem(`mounts[${i}].destination`, `must not contain "..", got ${JSON.stringify(m.destination)}`);
    const bind = m.type === 'bind' || (m.options ?? []).some((o) => o === 'bind' || o === 'rbind');
    if (bind && !m.source) return problem(`mounts[${i}].source`, 'a bind mount needs a source');
    if (!bind && !m.type) return problem(`mounts[${i}].type`, 'is required unless the mount is a bind mount');
    if ((m.uidMappings?.length ?? 0) > 0 !== (m.gidMappings?.length ?? 0) > 0)
      return problem(`mounts[${i}]`, 'an idmapped mount needs both uidMappings and gidMappings');
    if (m.uidMappings?.length && !bind) return problem(`mounts[${i}].uidMappings`, 'only bind mounts can be idmapped');
  }

  const hooks = c.hooks ?? {};
  for (const name of ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'] as const) {
    const bad = checkHooks(name, hooks[name]);
    if (bad) return bad;
  }

  const l = c.linux ?? {};
  const ns = new Map<string, { path?: string }>();
  for (const [i, n] of (l.namespaces ?? []).entries()) {
    if (ns.has(n.type)) return problem(`linux.namespaces[${i}].type`, `namespace ${n.type} is listed twice`);
    if (n.path !== undefined && !n.path.startsWith('/'))
      return problem(`linux.namespaces[${i}].path`, `must be an absolute path, got ${JSON.stringify(n.path)}`);
    ns.set(n.type, n);
  }
  const newUserns = ns.has('user') && !ns.get('user')!.path;
  if (newUserns && !(l.uidMappings?.length && l.gidMappings?.length))
    return problem('linux.uidMappings', 'a new user namespace needs both uidMappings and gidMappings');
  if (!ns.has('user') && (l.uidMappings?.length || l.gidMappings?.length))
    return problem('linux.uidMappings', 'id mappings need a user namespace in linux.namespaces');
  if (c.hostname !== undefined && c.hostname !== '' && !ns.has('uts')) return problem('hostname', 'setting a hostname needs a uts namespace');
  if (c.domainname !== undefined && c.domainname !== '' && !ns.has('uts')) return problem('domainname', 'setting a domainname needs a uts namespace');
  if (l.timeOffsets && !(ns.has('time') && !ns.get('time')!.path)) return problem('linux.timeOffsets', 'time offsets need a new time namespace');
  for (const clock of Object.keys(l.timeOffsets ?? {}))
    if (clock !== 'monotonic' && clock !== 'boottime') return problem(`linux.timeOffsets.${clock}`, 'only monotonic and boottime clocks have offsets');
  if (l.rootfsPropagation !== undefined && PROPAGATION_WORDS[l.rootfsPropagation] === undefined)
    return problem('linux.rootfsPropagation', `unknown propagation ${JSON.stringify(l.rootfsPropagation)}`);
  for (const [key] of Object.entries(l.sysctl ?? {})) {
    if (!/^[a-z0-9_]+(\.[A-Za-z0-9_-]+)+$/.test(key) || key.includes('..')) return problem(`linux.sysctl.${key}`, 'is not a sysctl name');
    const need = sysctlNamespace(key);
    if (!need) return problem(`linux.sysctl.${key}`, 'is not namespaced: it would change the host');
    if (!ns.has(need)) return problem(`linux.sysctl.${key}`, `needs a ${need} namespace in linux.namespaces`);
  }
  for (const [i, d] of (l.devices ?? []).entries()) {
    if (!d.path.startsWith('/dev/') || d.path.split('/').includes('..'))
      return problem(`linux.devices[${i}].path`, `must be an absolute path under /dev, got ${JSON.stringify(d.path)}`);
    if (d.type !== 'p' && (d.major === undefined || d.minor === undefined))
      return problem(`linux.devices[${i}]`, `a ${d.type} device needs major and minor numbers`);
  }
  for (const key of ['maskedPaths', 'readonlyPaths'] as const)
    for (const [i, m] of (l[key] ?? []).entries())
      if (!m.startsWith('/')) return problem(`linux.${key}[${i}]`, `must be an absolute path, got ${JSON.stringify(m)}`);
  if (l.cgroupsPath !== undefined && l.cgroupsPath.includes('..')) return problem('linux.cgroupsPath', 'must not contain ".."');
  return undefined;
}
