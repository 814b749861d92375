#!/usr/bin/env bash
# Installs everything tsrun needs on a Debian 12 machine (run as root): the build toolchain,
# the Debian packages the kernel interface and the tests use, the npm dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

PACKAGES=(
  g++ make python3 pkg-config            # native build (node-gyp)
  libseccomp-dev                         # seccomp filters (libseccomp)
  busybox-static                         # test and demo root filesystems
  iproute2 procps util-linux             # ip netns, ps, nsenter
  bsdutils                               # script(1): the tests that need a terminal run through a pty
  runc crun                              # reference runtimes (tests, benchmarks)
  containerd podman conmon               # real clients that drive tsrun
  buildah                                # builds images whose RUN steps run in tsrun containers
  umoci skopeo docker-registry           # test images and a local registry
  apache2-utils openssl zstd             # registry auth (htpasswd, token certs), zstd layers
  containernetworking-plugins            # CNI plugins
  gnuplot-nox                            # benchmark plots (bench/results/*.png)
  jq                                     # the lessons (docs/lessons) read JSON with it
  strace                                 # the CRI test that lists what a pod lifecycle executes
  curl iptables                          # scripts/cluster.sh: health checks; the nodes' kubelet and kube-proxy
  chromium                               # renders the pictures (--explain=html) in their tests and the lessons
  clang-format clang-tidy                # native/'s formatter and linter (npm run format:check, lint:native)
  dpkg-dev bzip2 libbsd0                 # node e2e stand-in images: busybox from its source package, the libraries of curl and nc
  clang                                  # libFuzzer + ASan harnesses of the native init (npm run fuzz)
  uidmap slirp4netns                     # rootless: newuidmap/newgidmap, user-mode networking
  systemd dbus                           # PID 1 and the bus of the lane's systemd guest (never started here)
)
missing=()
for p in "${PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then missing+=(nodejs npm libnode-dev); fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  apt-get update -qq
  # Packages install services (dbus, containerd, the registry): none may start on this host, whose
  # PID 1 is not systemd. Debian's policy-rc.d says so to invoke-rc.d for the install only.
  our_policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    our_policy=/usr/sbin/policy-rc.d
    trap 'rm -f "$our_policy"' EXIT
    printf '#!/bin/sh\nexit 101\n' >"$our_policy" && chmod 0755 "$our_policy"
  fi
  apt-get install -y -qq "${missing[@]}" >/dev/null
  [ -z "$our_policy" ] || rm -f "$our_policy"
  our_policy=
fi
# Docker Engine (dockerd 20.10), a client the tests start with tsrun as its runtime. Its package
# would start a system dockerd through its init script (invoke-rc.d, with no systemd as PID 1):
# a policy-rc.d that forbids starting services stops that for the install, and its recommends
# (cgroupfs-mount's init script, apparmor, needrestart) stay out. The tests start their own dockerd.
if ! dpkg -s docker.io >/dev/null 2>&1; then
  policy=/usr/sbin/policy-rc.d
  made_policy=
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod 755 "$policy" && made_policy=1
  fi
  echo "installing: docker.io (no service started)"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends docker.io >/dev/null
  [ -z "$made_policy" ] || rm -f "$policy"
fi
npm ci --no-audit --no-fund --loglevel=error
scripts/install-cri-tools.sh            # crictl and critest, the real CRI clients (cached per machine)
scripts/install-kubernetes.sh           # Kubernetes v1.34 built from the Go module proxy: kubelet, control plane, e2e_node (cached per machine)
