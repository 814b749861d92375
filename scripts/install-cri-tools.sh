#!/usr/bin/env bash
# Builds crictl and critest (kubernetes-sigs/cri-tools), the real CRI clients the CRI tests drive
# tsrun with, from the Go module proxy into /var/cache/tsrun-cri-tools/<version>/bin, once per
# machine. Builds the way cri-tools' Makefile does: crictl with `go build`, critest (a ginkgo
# suite) with `go test -c`, both CGO_ENABLED=0 -trimpath with the version linked in.
# `go install pkg@version` cannot build a test binary, so both are built inside a copy of the module.
set -euo pipefail

VERSION=v1.34.0 # uses cri-api v0.34.0
CACHE=/var/cache/tsrun-cri-tools
DEST=$CACHE/$VERSION/bin
GO=${GO:-/usr/local/go/bin/go}

have() { [ -x "$DEST/crictl" ] && [ -x "$DEST/critest" ]; }
if have; then echo "cri-tools $VERSION: $DEST/{crictl,critest} (already built)"; exit 0; fi

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9 # a parallel run waits for this build instead of repeating it
if have; then echo "cri-tools $VERSION: $DEST/{crictl,critest} (built by a parallel run)"; exit 0; fi

work=$(mktemp -d "$CACHE/build-XXXXXX")
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
start=$(date +%s)
# The checksum database may be unreachable where only the module proxy is: the module's own
# go.sum still pins every dependency, so only cri-tools itself skips the sumdb lookup.
export GONOSUMDB=sigs.k8s.io/cri-tools GOFLAGS=-mod=mod CGO_ENABLED=0
src=$("$GO" mod download -json "sigs.k8s.io/cri-tools@$VERSION" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')
[ -n "$src" ] || { echo "install-cri-tools: go mod download sigs.k8s.io/cri-tools@$VERSION gave no directory" >&2; exit 1; }
cp -r "$src" "$work/src"
chmod -R u+w "$work/src"
ldflags="-X sigs.k8s.io/cri-tools/pkg/version.Version=${VERSION#v}"
(
  cd "$work/src"
  "$GO" build -trimpath -ldflags "$ldflags" -o "$work/bin/crictl" ./cmd/crictl
  "$GO" test -c -trimpath -ldflags "$ldflags" -o "$work/bin/critest" ./cmd/critest
) >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; echo "install-cri-tools: build of cri-tools $VERSION failed" >&2; exit 1; }
mkdir -p "$DEST"
mv "$work/bin/crictl" "$DEST/crictl"
mv "$work/bin/critest" "$DEST/critest" # last: its presence means both are there
echo "cri-tools $VERSION: $DEST/{crictl,critest} (built in $(( $(date +%s) - start )) s)"
