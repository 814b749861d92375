#!/bin/bash
# Runs a fuzz target where nothing but its scratch tmpfs and the dirs it keeps (its corpus and
# artifacts) can be written: a private mount namespace (nothing propagates back to the host) in
# which every other mount is remounted read-only. A target that writes outside its scratch dir
# then fails with EROFS instead of changing the host, and the target reports that as an escape.
# usage: unshare --mount --propagation private -- sandbox.sh SCRATCH KEEP[:KEEP...] -- CMD...
set -euo pipefail
scratch=$1
keep=$2
shift 3
mkdir -p "$scratch"
mount -t tmpfs -o size=256m,mode=0700 tsrun-fuzz "$scratch"
IFS=: read -ra keeps <<<"$keep"
for d in "${keeps[@]}"; do mount --bind "$d" "$d"; done
while read -r m; do
  case "$m" in /proc | /proc/* | /sys | /sys/* | /dev | /dev/* | *\\*) continue ;; esac
  [ "$m" = "$scratch" ] && continue
  for d in "${keeps[@]}"; do [ "$m" = "$d" ] && continue 2; done
  mount -o remount,bind,ro "$m" 2>/dev/null || true
done < <(awk '{print $5}' /proc/self/mountinfo | sort -u)
export TMPDIR="$scratch" TSRUN_FUZZ_SCRATCH="$scratch/target"
exec "$@"
