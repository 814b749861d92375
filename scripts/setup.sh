#!/usr/bin/env bash
# One command on a fresh Debian 12 machine (as root): install, build, put tsrun on PATH, run the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
bash scripts/build.sh
ln -sf "$PWD/bin/tsrun" /usr/local/bin/tsrun
bash scripts/demo.sh
