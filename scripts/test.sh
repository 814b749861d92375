#!/usr/bin/env bash
# Runs every test (as root: real namespaces, mounts, cgroups, containerd and podman).
# Installs what it needs first, so it also works on a fresh machine (CI).
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh || exit 1
log=$(mktemp)
npm test 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
passed=$(grep -oE '^\s*([0-9]+) tests? passed' "$log" | grep -oE '[0-9]+' | tail -1)
failed=$(grep -oE '^\s*([0-9]+) tests? failed' "$log" | grep -oE '[0-9]+' | tail -1)
echo "${passed:-0} passed, ${failed:-0} failed"
rm -f "$log"
exit "$status"
