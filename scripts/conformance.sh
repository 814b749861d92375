#!/usr/bin/env bash
# Kubernetes' node conformance suite (e2e_node v1.34.4, its [NodeConformance] specs) against a
# CRI runtime on this machine, with the real kubelet, in namespaces and a cgroup of the run's
# own (test/k8s/conformance/run.ts says how); leaves nothing behind.
#   scripts/conformance.sh [--runtime tsrun|containerd] [--full|--sample|--focus REGEX] [--out DIR]
# --full (default): all 251 specs, about an hour; --sample: the CI sample
# (test/k8s/conformance/sample.txt). Reports: summary.txt, summary.json, junit.xml, ginkgo.json,
# e2e.log, kubelet.log and the runtime's log in --out (default conformance-results/...).
# Needs: scripts/install.sh (containerd, Kubernetes' components) and npm run build.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "conformance.sh: run as root (it makes namespaces, cgroups and mounts)" >&2; exit 2; }
[ -f dist/test/k8s/conformance/cli.js ] && [ -f build/Release/tsrun-monitor ] || { echo "conformance.sh: build first: npm run build" >&2; exit 2; }
bash scripts/install-kubernetes.sh kubelet e2e_node agnhost >/dev/null
exec node dist/test/k8s/conformance/cli.js "$@"
