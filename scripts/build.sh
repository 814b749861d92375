#!/usr/bin/env bash
# Builds the native code (against this machine's own Node headers, offline) and the TypeScript.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run build --silent
