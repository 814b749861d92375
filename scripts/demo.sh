#!/usr/bin/env bash
# The main job, small: make a busybox bundle and run it with tsrun, showing every step.
set -euo pipefail
TSRUN="$(cd "$(dirname "$0")/.." && pwd)/bin/tsrun"
work=$(mktemp -d /tmp/tsrun-demo-XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/rootfs/bin"
cp /bin/busybox "$work/rootfs/bin/busybox"
for applet in $(/bin/busybox --list); do
  [ "$applet" = busybox ] || ln -s busybox "$work/rootfs/bin/$applet"
done
cd "$work"
"$TSRUN" spec
# Not a terminal, and a script that shows what the container sees.
sed -i 's/"terminal": true/"terminal": false/' config.json
script='echo "hello from $(hostname): I am pid $$, uid $(id -u)"; echo "my processes:"; ps -o pid,comm; echo "my mounts:"; cut -d" " -f2,3 /proc/mounts | head -8'
node -e '
  const fs = require("fs"); const c = JSON.parse(fs.readFileSync("config.json"));
  c.process.args = ["sh", "-c", process.argv[1]];
  fs.writeFileSync("config.json", JSON.stringify(c, null, 2));' "$script"
echo "== tsrun --debug run $work (each step the runtime took, then the container's output)"
"$TSRUN" --debug run "$work/"
