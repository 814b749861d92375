#!/bin/bash
# Crash injection of the CRI server at every step of a pod's lifecycle (CI runs a fixed sample of
# them, test/cri/crash.test.ts): kill -9 at each step, restart, the kubelet's cleanup, nothing
# left. A few minutes on 2 cores. Needs a build (npm run build).
set -euo pipefail
cd "$(dirname "$0")/.."
TSRUN_CRASH_ALL=1 exec npx ava --timeout=35m dist/test/cri/crash.test.js "$@"
