// Who puts a new process in its cgroups. By default the process itself (see CgroupSelfJoin in
// src/cgroups/manager): no RCU grace period to wait for. The runtime writes cgroup.procs instead
// where the process cannot or must not: in a user namespace its root may not write the host's
// cgroup files, and into a frozen cgroup it would stop before it could say it got there.
import type { RuntimeConfig } from '../../specs/oci/runtime-config';
import type { CgroupManager, CgroupSelfJoin } from '../cgroups/manager';
import { emit } from '../events/bus';
import type { InitProcess } from './spawn';

export function selfJoinFor(config: RuntimeConfig, cgroup: CgroupManager, frozen = false): CgroupSelfJoin | undefined {
  // systemd puts the init in the unit it makes for it (StartTransientUnit's PIDs): not there before.
  if (frozen || cgroup.state.systemd || config.linux?.namespaces?.some((n) => n.type === 'user')) return undefined;
  const join = cgroup.selfJoin();
  // Nothing of its own to join (rootless, no cgroup of its own): nothing to wait for either.
  return join.taskDirs.length || join.cloneInto ? join : undefined;
}

/** The process `pid` is in its cgroups once this resolves: it said so, or the runtime moved it. */
export async function joinCgroups(
  init: InitProcess,
  pid: number,
  cgroup: CgroupManager,
  selfJoin: CgroupSelfJoin | undefined,
  containerId: string,
): Promise<void> {
  const t0 = process.hrtime.bigint();
  if (selfJoin) await init.sync.expectJoined();
  else await cgroup.addProcess(pid);
  emit(
    'cgroup_joined',
    `${pid} -> ${cgroup.state.systemd?.unit ?? cgroup.state.path}${selfJoin ? ' (by the process itself)' : ''}`,
    Number((process.hrtime.bigint() - t0) / 1000n),
    containerId,
  );
}
