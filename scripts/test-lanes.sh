#!/usr/bin/env bash
# The qemu lanes alone, after `npm run build` (as root; see test/v2-lane/README.md), as
# scripts/test.sh runs them after the host suite: bash scripts/test-lanes.sh
# 1. the cgroup v2 guest: the resource, namespace, device-filter and rootless tests. userns.test.js
#    stays out: the guest kernel (6.1) cannot idmap tmpfs, where its tests put files.
# 2. the guest once more with the host's systemd as PID 1: the systemd cgroup driver, alone and
#    under the CRI, and the real kubelet with cgroupDriver: systemd (about 6 minutes together
#    on a busy 2-core machine, the kubelet's part about 3.5).
set -uo pipefail
cd "$(dirname "$0")/.."
[ $# = 0 ] || { echo "usage: bash scripts/test-lanes.sh" >&2; exit 2; }

V2_TESTS=(dist/test/integration/resources.test.js dist/test/integration/namespaces.test.js dist/test/integration/device-filter.test.js dist/test/integration/rootless.test.js)
SYSTEMD_TESTS=(dist/test/integration/systemd-cgroup.test.js dist/test/cri/cri-systemd.test.js dist/test/cri/kubelet.test.js)

status=0
lane() { # title, run.sh arguments...
  local title=$1 t0=$SECONDS
  shift
  echo "== $title"
  bash test/v2-lane/run.sh "$@"
  local rc=$?
  echo "== $title: exit status $rc, $((SECONDS - t0)) s"
  [ "$rc" = 0 ] || status=$rc
}
lane "cgroup v2 lane: ${V2_TESTS[*]}" \
  --timeout 2400 -- npx ava --serial --timeout 10m "${V2_TESTS[@]}"
lane "cgroup v2 lane, systemd as PID 1: ${SYSTEMD_TESTS[*]}" \
  --init systemd --timeout 2400 --env TSRUN_TEST_CGROUP_DRIVER=systemd -- npx ava --serial --timeout 15m "${SYSTEMD_TESTS[@]}"
exit "$status"
