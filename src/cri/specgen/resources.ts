// CRI LinuxContainerResources -> OCI linux.resources (the same mapping containerd makes);
// zero means "not set" on the CRI wire.
import type { LinuxResources } from '../../../specs/oci/runtime-config';
import { hostHasController } from '../../cgroups/detect';
import type { LinuxContainerResources__Output } from '../generated/runtime/v1/LinuxContainerResources';

export function ociResources(r: LinuxContainerResources__Output | null | undefined, hugetlb = hostHasController('hugetlb')): LinuxResources {
  const out: LinuxResources = {};
  if (!r) return out;
  const n = (s: string | number): number => Number(s);
  const cpu: NonNullable<LinuxResources['cpu']> = {};
  if (n(r.cpu_period)) cpu.period = n(r.cpu_period);
  if (n(r.cpu_quota)) cpu.quota = n(r.cpu_quota);
  if (n(r.cpu_shares)) cpu.shares = n(r.cpu_shares);
  if (r.cpuset_cpus) cpu.cpus = r.cpuset_cpus;
  if (r.cpuset_mems) cpu.mems = r.cpuset_mems;
  if (Object.keys(cpu).length) out.cpu = cpu;
  const mem: NonNullable<LinuxResources['memory']> = {};
  if (n(r.memory_limit_in_bytes)) mem.limit = n(r.memory_limit_in_bytes);
  if (n(r.memory_swap_limit_in_bytes)) mem.swap = n(r.memory_swap_limit_in_bytes);
  if (Object.keys(mem).length) out.memory = mem;
  // The kubelet sends a limit (0 unless requested) for every page size the machine has, even
  // where no hugetlb controller is mounted: dropped there, as containerd
  // (tolerate_missing_hugetlb_controller) and CRI-O do, or no pod could start.
  if (r.hugepage_limits.length && hugetlb) out.hugepageLimits = r.hugepage_limits.map((h) => ({ pageSize: h.page_size, limit: n(h.limit) }));
  if (Object.keys(r.unified).length) out.unified = { ...r.unified };
  return out;
}
