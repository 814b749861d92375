#!/usr/bin/env bash
# Formats the tree: prettier for the TypeScript (.prettierrc.json), clang-format for native/
# (.clang-format). With --check it changes nothing and fails when a file is not formatted.
set -euo pipefail
cd "$(dirname "$0")/.."
TS='{src,specs,test,bench,scripts}/**/*.ts'
mapfile -t native < <(find native -name '*.cc' -o -name '*.h' | sort)
if [ "${1:-}" = --check ]; then
  status=0
  node_modules/.bin/prettier --check --log-level warn "$TS" || status=1
  clang-format --dry-run --Werror "${native[@]}" || status=1
  [ "$status" = 0 ] || echo "not formatted: run npm run format" >&2
  exit "$status"
fi
node_modules/.bin/prettier --write --log-level warn "$TS"
clang-format -i "${native[@]}"
