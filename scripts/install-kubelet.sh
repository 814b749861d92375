#!/usr/bin/env bash
# Builds the real kubelet (k8s.io/kubernetes/cmd/kubelet) from the Go module proxy into
# /var/cache/tsrun-kubelet/<version>/bin/kubelet, once per machine: test/cri/kubelet.test.ts
# runs it standalone against `tsrun cri`.
#
# k8s.io/kubernetes's go.mod replaces its staging modules (k8s.io/api, k8s.io/client-go, ...)
# with ./staging/src/... paths that its module zip lacks, so it cannot be built as a module of
# its own. Instead a throwaway main module requires it and replaces every staging module with
# the published v0.<minor>.<patch> release cut from the same tree.
set -euo pipefail

VERSION=v1.34.4
CACHE=/var/cache/tsrun-kubelet
DEST=$CACHE/$VERSION/bin
GO=${GO:-/usr/local/go/bin/go}

if [ -x "$DEST/kubelet" ]; then echo "kubelet $VERSION: $DEST/kubelet (already built)"; exit 0; fi

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9 # a parallel run waits for this build instead of repeating it
if [ -x "$DEST/kubelet" ]; then echo "kubelet $VERSION: $DEST/kubelet (built by a parallel run)"; exit 0; fi

work=$(mktemp -d "$CACHE/build-XXXXXX")
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
start=$(date +%s)
staging_version=v0.${VERSION#v1.}
export CGO_ENABLED=0 GOFLAGS=-mod=mod
(
  set -euo pipefail
  kmod=$("$GO" mod download -json "k8s.io/kubernetes@$VERSION" | sed -n 's/^\s*"GoMod": "\(.*\)",$/\1/p')
  [ -n "$kmod" ] || { echo "go mod download k8s.io/kubernetes@$VERSION gave no go.mod" >&2; exit 1; }
  kdir=$("$GO" mod download -json "k8s.io/kubernetes@$VERSION" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')
  staging=$(sed -n 's|^\s*\(k8s.io/[^ ]*\) => ./staging/src/.*|\1|p' "$kmod")
  [ -n "$staging" ] || { echo "no staging replacements in $kmod" >&2; exit 1; }
  mkdir -p "$work/mod"
  cd "$work/mod"
  {
    echo "module tsrun.local/kubelet-build"
    echo
    sed -n 's/^go \(.*\)$/go \1/p; s/^godebug \(.*\)$/godebug \1/p' "$kmod" # the settings Kubernetes builds with
    echo
    echo "require k8s.io/kubernetes $VERSION"
    echo
    for m in $staging; do echo "replace $m => $m $staging_version"; done
  } >go.mod
  # Kubernetes' go.sum pins every third-party dependency. The checksum database may be
  # unreachable where only the module proxy is, so only the modules that go.sum cannot hold
  # (k8s.io/kubernetes itself and its staging releases) skip the sumdb lookup.
  cp "$kdir/go.sum" go.sum
  chmod u+w go.sum
  GONOSUMDB=$(echo k8s.io/kubernetes $staging | tr ' ' ',')
  export GONOSUMDB
  printf '//go:build tools\n\npackage tools\n\nimport _ "k8s.io/kubernetes/cmd/kubelet"\n' >tools.go # what tidy keeps in the build list
  "$GO" mod tidy
  rm tools.go
  # What hack/lib/version.sh links in: the kubelet reports it (and the CRI Version call sends it).
  pkgs="k8s.io/component-base/version k8s.io/client-go/pkg/version"
  minor=${VERSION#v1.}; minor=${minor%%.*}
  ldflags="-s -w"
  for p in $pkgs; do
    ldflags+=" -X $p.gitVersion=$VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=archive -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  "$GO" build -trimpath -ldflags "$ldflags" -o "$work/kubelet" k8s.io/kubernetes/cmd/kubelet
) >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; echo "install-kubelet: build of kubelet $VERSION failed" >&2; exit 1; }
mkdir -p "$DEST"
mv "$work/kubelet" "$DEST/kubelet"
echo "kubelet $VERSION: $DEST/kubelet (built in $(( $(date +%s) - start )) s)"
