#!/usr/bin/env bash
# clang-tidy over native/ with the checks in .clang-tidy (every finding is an error). Each file
# is compiled with the flags binding.gyp gives it; the addon's also see Node's and
# node-addon-api's headers.
set -euo pipefail
cd "$(dirname "$0")/.."
addon_flags="-I/usr/include/node -I$(node -p "require('node-addon-api').include_dir") -DNAPI_VERSION=8 -DNODE_ADDON_API_DISABLE_CPP_EXCEPTIONS"
tidy() {
  local extra=""
  case "$1" in native/addon/*) extra="$addon_flags" ;; esac
  # shellcheck disable=SC2086 # the flags are words
  clang-tidy --quiet "$1" -- -std=c++17 $extra 2>/dev/null
}
export -f tidy
export addon_flags
find native -name '*.cc' | sort | xargs -P "$(nproc)" -I{} bash -c 'tidy {}'
