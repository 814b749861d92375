#!/usr/bin/env bash
# Runs every test (as root: real namespaces, mounts, cgroups, containerd and podman).
# Installs what it needs first, so it also works on a fresh machine (CI).
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh || exit 1
log=$(mktemp)
npm test 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
# ava's summary omits the passed count when something failed: count the marks instead.
passed=$(grep -cE '^\s+✔' "$log")
failed=$(grep -cE '^\s+✘' "$log")
echo "${passed} passed, ${failed} failed"
rm -f "$log"
exit "$status"
