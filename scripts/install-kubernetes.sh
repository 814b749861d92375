#!/usr/bin/env bash
# Builds Kubernetes' own components from the Go module proxy into
# /var/cache/tsrun-kubernetes/<version>/bin/, once per machine:
#   kubelet                   run against `tsrun cri` (test/cri/kubelet.test.ts, the cluster, conformance)
#   kube-apiserver, kube-controller-manager, kube-scheduler, kube-proxy, kubectl
#                             the control plane and node proxy of scripts/cluster.sh
#   etcd                      etcd's own main (etcdmain) at the version Kubernetes pins
#   e2e_node                  the node e2e suite (`go test -c k8s.io/kubernetes/test/e2e_node`)
#   agnhost                   the e2e test image's program (test/images/agnhost), for the stand-in images
#   scripts/install-kubernetes.sh [COMPONENT...]     (none: all of them)
#
# k8s.io/kubernetes's go.mod replaces its staging modules (k8s.io/api, k8s.io/client-go, ...)
# with ./staging/src/... paths that its module zip lacks, so it cannot be built as a module of
# its own. Instead a throwaway main module requires it and replaces every staging module with
# the published v0.<minor>.<patch> release cut from the same tree.
set -euo pipefail

VERSION=v1.34.4
CACHE=/var/cache/tsrun-kubernetes
DEST=$CACHE/$VERSION/bin
GO=${GO:-/usr/local/go/bin/go}

declare -A PKG=(
  [kubelet]=k8s.io/kubernetes/cmd/kubelet
  [kube-apiserver]=k8s.io/kubernetes/cmd/kube-apiserver
  [kube-controller-manager]=k8s.io/kubernetes/cmd/kube-controller-manager
  [kube-scheduler]=k8s.io/kubernetes/cmd/kube-scheduler
  [kube-proxy]=k8s.io/kubernetes/cmd/kube-proxy
  [kubectl]=k8s.io/kubernetes/cmd/kubectl
  [etcd]=tsrun.local/kubernetes-build/etcd
  [e2e_node]=k8s.io/kubernetes/test/e2e_node
  [agnhost]=k8s.io/kubernetes/test/images/agnhost
)
ALL=(kubelet kube-apiserver kube-controller-manager kube-scheduler kube-proxy kubectl etcd e2e_node agnhost)

wanted=("$@")
[ ${#wanted[@]} -gt 0 ] || wanted=("${ALL[@]}")
for c in "${wanted[@]}"; do [ -n "${PKG[$c]:-}" ] || { echo "install-kubernetes: unknown component '$c' (known: ${ALL[*]})" >&2; exit 2; }; done

missing() { for c in "${wanted[@]}"; do [ -x "$DEST/$c" ] || echo "$c"; done; }
todo=$(missing)
if [ -z "$todo" ]; then echo "kubernetes $VERSION: ${wanted[*]} in $DEST (already built)"; exit 0; fi

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9 # a parallel run waits for this build instead of repeating it
todo=$(missing)
if [ -z "$todo" ]; then echo "kubernetes $VERSION: ${wanted[*]} in $DEST (built by a parallel run)"; exit 0; fi

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
  mkdir -p "$work/mod/etcd"
  cd "$work/mod"
  {
    echo "module tsrun.local/kubernetes-build"
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
  # etcd's own command, at the etcd server version Kubernetes' go.mod pins (its integration
  # tests and e2e_node run that version in-process).
  printf 'package main\n\nimport (\n\t"os"\n\n\t"go.etcd.io/etcd/server/v3/etcdmain"\n)\n\nfunc main() { etcdmain.Main(os.Args) }\n' >etcd/main.go
  {
    printf '//go:build tools\n\npackage tools\n\nimport (\n'
    for c in "${ALL[@]}"; do [ "$c" = etcd ] || printf '\t_ "%s"\n' "${PKG[$c]}"; done
    printf ')\n'
  } >tools.go # what tidy keeps in the build list
  "$GO" mod tidy
  rm tools.go
  # What hack/lib/version.sh links in: components report it (the kubelet sends it in the CRI
  # Version call, kubectl version shows it, the API server serves it at /version).
  pkgs="k8s.io/component-base/version k8s.io/client-go/pkg/version"
  minor=${VERSION#v1.}; minor=${minor%%.*}
  ldflags="-s -w"
  for p in $pkgs; do
    ldflags+=" -X $p.gitVersion=$VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=archive -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  mkdir -p "$work/bin"
  cmds=()
  for c in $todo; do
    case $c in
      e2e_node) "$GO" test -c -trimpath -ldflags "$ldflags" -o "$work/bin/e2e_node" "${PKG[$c]}" ;;
      *) cmds+=("${PKG[$c]}") ;;
    esac
  done
  # One go build for the commands: -o DIR writes each under its package's last element.
  [ ${#cmds[@]} -eq 0 ] || "$GO" build -trimpath -ldflags "$ldflags" -o "$work/bin/" "${cmds[@]}"
) >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; echo "install-kubernetes: build of $(echo $todo) ($VERSION) failed" >&2; exit 1; }
mkdir -p "$DEST"
for c in $todo; do mv "$work/bin/$c" "$DEST/$c"; done
echo "kubernetes $VERSION: built $(echo $todo) into $DEST in $(( $(date +%s) - start )) s"
