#!/bin/bash
# Builds the native fuzz harnesses (libFuzzer + ASan + UBSan, Debian's clang) into fuzz/out/bin/,
# apart from the node-gyp build: native/fuzz/*_fuzzer.cc over the init's plan decoder and sync
# framing, and the glibc compat library the Jazzer.js runs preload (native/fuzz/jazzer_compat.cc).
set -euo pipefail
cd "$(dirname "$0")/.."
out=fuzz/out/bin  # not build/: node-gyp rebuild empties that
mkdir -p "$out"
CXX=${CLANGXX:-clang++}
command -v "$CXX" >/dev/null || { echo "build-fuzzers: $CXX not found (apt-get install clang)" >&2; exit 1; }
# Up to date: nothing to do (the fuzz runner calls this before every run).
srcs=(native/fuzz/* native/init/plan.cc native/init/plan.h native/init/sync.cc native/init/sync.h native/init/fail.h native/common/fd.cc native/common/fd.h "$0")
fresh=1
for o in "$out/plan_fuzzer" "$out/sync_fuzzer" "$out/libjazzer-compat.so"; do
  [ -e "$o" ] || fresh=0
  for s in "${srcs[@]}"; do [ "$o" -nt "$s" ] || fresh=0; done
done
[ "$fresh" = 1 ] && exit 0
flags=(-std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -Wall -Wextra)
"$CXX" "${flags[@]}" native/fuzz/plan_fuzzer.cc native/init/plan.cc native/fuzz/fail_throw.cc -o "$out/plan_fuzzer"
"$CXX" "${flags[@]}" native/fuzz/sync_fuzzer.cc native/init/sync.cc native/init/plan.cc native/common/fd.cc native/fuzz/fail_throw.cc -o "$out/sync_fuzzer"
g++ -std=c++17 -O2 -shared -fPIC native/fuzz/jazzer_compat.cc -o "$out/libjazzer-compat.so"
