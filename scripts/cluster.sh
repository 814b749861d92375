#!/usr/bin/env bash
# Kubernetes on tsrun: a cluster of N nodes on this machine, each node a network namespace with
# its own kubelet, `tsrun cri` and kube-proxy, beside a control plane of Kubernetes' own
# components (scripts/install-kubernetes.sh builds them). As root:
#   scripts/cluster.sh up [--nodes N]       then: scripts/cluster.sh kubectl get nodes
#   scripts/cluster.sh status | down | url SERVICE | stop-node NODE | start-node NODE
# The work is done by scripts/cluster/*.ts (built into dist/ by `npm run build`).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)

# `kubectl ARGS` is exec'd from here, so that signals (Ctrl-C on a port-forward) reach kubectl.
name=${TSRUN_CLUSTER:-tsrun}
i=1
while [ "${!i:-}" = --name ]; do j=$((i + 1)); name=${!j:-}; i=$((i + 2)); done
if [ "${!i:-}" = kubectl ]; then
  if ! [[ $name =~ ^[a-z][a-z0-9]{0,7}$ ]]; then
    echo "cluster.sh: cluster name \"$name\": use 1 to 8 lowercase letters and digits, starting with a letter" >&2
    exit 1
  fi
  kubeconfig=/var/lib/tsrun-cluster/$name/control-plane/etc/kubernetes/admin.conf # as scripts/cluster/pki.ts writes it
  if [ ! -f "$kubeconfig" ]; then
    echo "cluster.sh: no cluster $name on this machine: scripts/cluster.sh$([ "$name" = tsrun ] || echo " --name $name") up makes it" >&2
    exit 1
  fi
  exec /var/cache/tsrun-kubernetes/v1.34.4/bin/kubectl --kubeconfig "$kubeconfig" "${@:i+1}"
fi

main=$repo/dist/scripts/cluster/main.js
if [ ! -f "$main" ] || [ ! -f "$repo/build/Release/tsrun_native.node" ]; then
  echo "cluster.sh: tsrun is not built in $repo: run 'npm ci && npm run build' there (or bash scripts/setup.sh)" >&2
  exit 2
fi
exec node "$main" "$@"
