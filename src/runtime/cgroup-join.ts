// Who puts a new process in its cgroups. By default the process itself (see CgroupSelfJoin in
// src/cgroups/manager): no RCU grace period to wait for. The runtime writes cgroup.procs instead
// where the process cannot or must not: in a user namespace its root may not write the host's
// cgroup files, and into a frozen cgroup it would stop before it could say it got there.
import type { RuntimeConfig } from '../../specs/oci/runtime-config';
import type { CgroupManager, CgroupSelfJoin } from '../cgroups/manager';
import { emit } from '../events/bus';
import type { InitProcess } from './spawn';

export function selfJoinFor(config: RuntimeConfig, cgroup: CgroupManager, frozen = false): CgroupSelfJoin | undefined {
  if (frozen || config.linux?.namespaces?.some((n) => n.type === 'user')) return undefined;
  return cgroup.selfJoin();
}

/** The process `pid` is in its cgroups once this resolves: it said so, or the runtime moved it. */
export async function joinCgroups(init: InitProcess, pid: number, cgroup: CgroupManager, selfJoin: CgroupSelfJoin | undefined, containerId: string): Promise<void> {
  const t0 = process.hrtime.bigint();
  if (selfJoin) await init.sync.expectJoined();
  else cgroup.addProcess(pid);
  emit('cgroup_joined', `${pid} -> ${cgroup.state.path}${selfJoin ? ' (by the process itself)' : ''}`, Number((process.hrtime.bigint() - t0) / 1000n), containerId);
}
