#!/usr/bin/env bash
# Runs every test (as root: real namespaces, mounts, cgroups, registries, containerd, podman),
# then the qemu lanes (scripts/test-lanes.sh): the resource and rootless tests again inside
# a guest whose cgroup hierarchy is pure v2 (this host's is hybrid), and the systemd cgroup
# driver's tests in that guest booted with systemd as PID 1. Installs what it needs first, so it also
# works on a fresh machine (CI).
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh || exit 1
log=$(mktemp)
npm run build --silent || exit 1

# Code health first (each runs; any finding fails the run, after the tests have run too):
# typescript-eslint, unused exports (knip), formatting (prettier, clang-format), clang-tidy.
status=0
for check in lint lint:exports format:check lint:native; do
  echo "== npm run $check"
  SECONDS=0
  npm run --silent "$check" || { echo "npm run $check failed"; status=1; }
  echo "($check: ${SECONDS}s)"
done

node_modules/.bin/ava 2>&1 | tee "$log"
[ "${PIPESTATUS[0]}" = 0 ] || status=1

# The pure tests (test/unit) need no privilege: run them again as nobody, so one that quietly
# needs root shows. Only reading is kept (CAP_DAC_READ_SEARCH: CI may clone under /root).
echo "== test/unit as an unprivileged user"
unit_home=$(mktemp -d); chmod 777 "$unit_home"
setpriv --reuid=65534 --regid=65534 --clear-groups --bounding-set=-all,+dac_read_search \
  --inh-caps=-all,+dac_read_search --ambient-caps=+dac_read_search \
  env HOME="$unit_home" node_modules/.bin/ava 'dist/test/unit/**/*.test.js' 2>&1 | tail -3
unit=${PIPESTATUS[0]}
rm -rf "$unit_home"
[ "$unit" = 0 ] || { echo "test/unit failed as an unprivileged user"; status=$unit; }

# Every fuzz target for a short fixed time (7 x 20 s); a crash, hang or escape fails the run.
if [ "${TSRUN_SKIP_FUZZ:-0}" = 1 ]; then
  echo "fuzzing skipped (TSRUN_SKIP_FUZZ=1)"
else
  echo "== fuzz: every target ${TSRUN_FUZZ_SECONDS:-20} s"
  node dist/fuzz/run.js --seconds "${TSRUN_FUZZ_SECONDS:-20}" 2>&1 | tee -a "$log"
  fz=${PIPESTATUS[0]}
  [ "$fz" = 0 ] || status=$fz
fi

# The qemu lanes (scripts/test-lanes.sh): the cgroup v2 guest, then the guest booted with
# systemd as PID 1 (the systemd driver, alone, under the CRI and under the kubelet).
if [ "${TSRUN_SKIP_V2_LANE:-0}" = 1 ]; then
  echo "cgroup v2 lane skipped (TSRUN_SKIP_V2_LANE=1)"
else
  bash scripts/test-lanes.sh 2>&1 | tee -a "$log"
  lanes=${PIPESTATUS[0]}
  [ "$lanes" = 0 ] || status=$lanes
fi

# ava's summary omits the passed count when something failed: count the marks instead.
passed=$(grep -cE '^\s+✔' "$log")
failed=$(grep -cE '^\s+✘' "$log")
echo "${passed} passed, ${failed} failed"
rm -f "$log"
exit "$status"
