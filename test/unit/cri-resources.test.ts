// CRI LinuxContainerResources -> OCI linux.resources, as the kubelet sends them.
import test from 'ava';
import { ociResources } from '../../src/cri/specgen/resources';
import type { LinuxContainerResources__Output } from '../../src/cri/generated/runtime/v1/LinuxContainerResources';

// A BestEffort container as the kubelet 1.34 describes it on a machine with 2 MB and 1 GB pages.
const BEST_EFFORT: LinuxContainerResources__Output = {
  cpu_period: '100000',
  cpu_quota: '0',
  cpu_shares: '2',
  memory_limit_in_bytes: '0',
  oom_score_adj: '1000',
  cpuset_cpus: '',
  cpuset_mems: '',
  hugepage_limits: [
    { page_size: '2MB', limit: '0' },
    { page_size: '1GB', limit: '0' },
  ],
  unified: {},
  memory_swap_limit_in_bytes: '0',
};

test('hugepage limits pass through where the hugetlb controller exists', (t) => {
  t.deepEqual(ociResources(BEST_EFFORT, true), {
    cpu: { period: 100000, shares: 2 },
    hugepageLimits: [
      { pageSize: '2MB', limit: 0 },
      { pageSize: '1GB', limit: 0 },
    ],
  });
});

test('hugepage limits are dropped where no hugetlb controller is mounted', (t) => {
  t.deepEqual(ociResources(BEST_EFFORT, false), { cpu: { period: 100000, shares: 2 } });
});
