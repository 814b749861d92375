#!/usr/bin/env bash
# Host-side provisioning for the cgroup v2 lane (sourced by run.sh, or run alone).
#
# Installs the Debian packages the lane needs, downloads and unpacks a Debian 12
# kernel package once into $V2_CACHE, extracts an ELF vmlinux from its vmlinuz
# (for a direct PVH boot), and builds a small initramfs (static busybox + the
# virtio/9p/overlay modules + guest/init). Everything is cached; later calls
# only re-check and reuse.
#
# On return (when sourced) these are set:
#   V2_KVER      kernel release, e.g. 6.1.0-56-amd64
#   V2_KDIR      unpacked kernel package (boot/, lib/modules/$V2_KVER)
#   V2_VMLINUX   ELF vmlinux (empty if the extraction failed)
#   V2_BZIMAGE   the package's vmlinuz (bzImage)
#   V2_INITRD    the initramfs (uncompressed newc cpio)
set -euo pipefail

V2_HERE=${V2_HERE:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
V2_CACHE=${TSRUN_V2_LANE_CACHE:-/var/cache/tsrun-v2-lane}
# Modules put into the initramfs (their dependencies are added from modules.dep).
V2_INITRD_MODULES=(virtio_pci 9pnet_virtio 9p overlay virtio_rng)

v2_log() { printf '[v2-lane] %s\n' "$*" >&2; }
v2_die() { printf '[v2-lane] error: %s\n' "$*" >&2; exit 1; }

_v2_apt_updated=0
v2_apt_update() {
  if [[ $_v2_apt_updated == 0 ]]; then
    v2_log "apt-get update"
    apt-get update -q >/dev/null 2>&1 || apt-get update -q >/dev/null || v2_die "apt-get update failed"
    _v2_apt_updated=1
  fi
}

v2_ensure_packages() {
  # package -> a file it provides (cheap check that it is really there)
  local -A want=(
    [qemu-system-x86]=/usr/bin/qemu-system-x86_64
    [seabios]=/usr/share/seabios/bios-256k.bin
    [busybox-static]=/bin/busybox
    [cpio]=/usr/bin/cpio
    [xz-utils]=/usr/bin/xz
    [kmod]=/sbin/depmod
    [util-linux]=/usr/bin/unshare
  )
  local missing=() p
  for p in "${!want[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
       || [[ ! -e ${want[$p]} ]]; then
      missing+=("$p")
    fi
  done
  if ((${#missing[@]})); then
    [[ $(id -u) == 0 ]] || v2_die "need root to install: ${missing[*]}"
    v2_apt_update
    v2_log "apt-get install ${missing[*]}"
    local log
    log=$(mktemp)
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >"$log" 2>&1; then
      cat "$log" >&2
      rm -f "$log"
      v2_die "apt-get install ${missing[*]} failed"
    fi
    rm -f "$log"
  fi
  # Debian's busybox-static: the initramfs needs a static binary.
  if LC_ALL=C file -L /bin/busybox 2>/dev/null | grep -q 'dynamically linked'; then
    v2_die "/bin/busybox is not static (install busybox-static)"
  fi
}

# Extract the xz payload of a bzImage into an ELF vmlinux (like the kernel's
# scripts/extract-vmlinux). Returns non-zero if no ELF came out.
v2_extract_vmlinux() {
  local vmlinuz=$1 out=$2 pos
  pos=$(LC_ALL=C grep -abo $'\xfd7zXZ\x00' "$vmlinuz" | head -n1 | cut -d: -f1) || true
  [[ -n $pos ]] || return 1
  # xz complains about the trailing data after the stream: ignore its status.
  tail -c +"$((pos + 1))" "$vmlinuz" | xz -dcq >"$out.tmp" 2>/dev/null || true
  if [[ $(head -c4 "$out.tmp" | od -An -tx1 | tr -d ' \n') == 7f454c46 ]]; then
    mv -f "$out.tmp" "$out"
  else
    rm -f "$out.tmp"
    return 1
  fi
}

v2_ensure_kernel() {
  mkdir -p "$V2_CACHE"
  if [[ -n ${TSRUN_V2_LANE_KERNEL_PKG:-} ]]; then
    V2_KPKG=$TSRUN_V2_LANE_KERNEL_PKG
  elif [[ -s $V2_CACHE/kernel-package ]]; then
    V2_KPKG=$(<"$V2_CACHE/kernel-package")
  else
    # The kernel that Debian 12's linux-image-amd64 metapackage points at, unsigned flavour.
    v2_apt_update
    local signed
    signed=$(apt-cache depends linux-image-amd64 2>/dev/null \
      | awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9].*-amd64$/ { print $2; exit }')
    [[ -n $signed ]] || v2_die "cannot find the kernel package behind linux-image-amd64 (apt-cache depends)"
    V2_KPKG=${signed}-unsigned
    apt-cache show "$V2_KPKG" >/dev/null 2>&1 || V2_KPKG=$signed
    echo "$V2_KPKG" >"$V2_CACHE/kernel-package"
  fi
  V2_KVER=${V2_KPKG#linux-image-}
  V2_KVER=${V2_KVER%-unsigned}
  V2_KDIR=$V2_CACHE/$V2_KPKG
  if [[ ! -e $V2_KDIR/.complete ]]; then
    local tmp
    tmp=$(mktemp -d "$V2_CACHE/download.XXXXXX")
    # apt-get download fetches as the _apt user when it can write there.
    chmod 0755 "$tmp"; chown _apt "$tmp" 2>/dev/null || true
    v2_apt_update
    v2_log "apt-get download $V2_KPKG"
    (cd "$tmp" && apt-get download -q "$V2_KPKG" >/dev/null) || { rm -rf "$tmp"; v2_die "apt-get download $V2_KPKG failed"; }
    rm -rf "$V2_KDIR"
    mkdir -p "$tmp/x"
    dpkg-deb -x "$tmp"/*.deb "$tmp/x"
    # Keep only what the lane uses: vmlinuz, config, modules.
    mkdir -p "$V2_KDIR"
    mv "$tmp/x/boot" "$tmp/x/lib" "$V2_KDIR"/
    rm -rf "$tmp"
    [[ -e $V2_KDIR/boot/vmlinuz-$V2_KVER ]] || v2_die "no boot/vmlinuz-$V2_KVER in $V2_KPKG"
    depmod -b "$V2_KDIR" "$V2_KVER"
    if v2_extract_vmlinux "$V2_KDIR/boot/vmlinuz-$V2_KVER" "$V2_KDIR/vmlinux"; then
      v2_log "extracted ELF vmlinux for PVH boot"
    else
      v2_log "could not extract an ELF vmlinux; will boot the bzImage"
    fi
    touch "$V2_KDIR/.complete"
  fi
  V2_BZIMAGE=$V2_KDIR/boot/vmlinuz-$V2_KVER
  V2_VMLINUX=
  [[ -e $V2_KDIR/vmlinux ]] && V2_VMLINUX=$V2_KDIR/vmlinux
  V2_MODDIR=$V2_KDIR/lib/modules/$V2_KVER
}

# Ordered list (dependencies first) of module files for the initramfs.
v2_module_list() {
  local dep=$V2_MODDIR/modules.dep builtin=$V2_MODDIR/modules.builtin
  local -A seen=()
  local out=()
  _v2_add() {
    local rel=$1 line d
    [[ -n ${seen[$rel]:-} ]] && return 0
    seen[$rel]=1
    line=$(grep -m1 "^${rel}:" "$dep") || v2_die "module $rel not in modules.dep"
    for d in ${line#*:}; do _v2_add "$d"; done
    out+=("$rel")
  }
  local m rel
  for m in "${V2_INITRD_MODULES[@]}"; do
    local re=${m//[-_]/[-_]}
    rel=$(grep -m1 -E "(^|/)${re}\.ko(\.[a-z]+)?:" "$dep" | cut -d: -f1) || true
    if [[ -z $rel ]]; then
      # Built into the kernel: nothing to load.
      grep -qE "(^|/)${re}\.ko$" "$builtin" 2>/dev/null || v2_log "note: module $m is neither a module nor built in"
      continue
    fi
    _v2_add "$rel"
  done
  printf '%s\n' "${out[@]}"
}

v2_ensure_initrd() {
  local mods key f
  mods=$(v2_module_list)
  key=$({
    echo "$V2_KPKG"
    echo "$mods"
    cat "$V2_HERE/guest/init" "$V2_HERE/guest/stage2"
    sha256sum /bin/busybox
  } | sha256sum | cut -c1-16)
  V2_INITRD=$V2_CACHE/initramfs-$key.cpio
  [[ -s $V2_INITRD ]] && return 0
  local root
  root=$(mktemp -d "$V2_CACHE/initrd.XXXXXX")
  mkdir -p "$root"/{bin,dev,proc,sys,lib/modules,etc,mnt/lower,mnt/upper,mnt/ctl,newroot}
  cp /bin/busybox "$root/bin/busybox"
  cp "$V2_HERE/guest/init" "$root/init"
  cp "$V2_HERE/guest/stage2" "$root/stage2"
  chmod 0755 "$root/init" "$root/stage2" "$root/bin/busybox"
  : >"$root/lib/modules/load.order"
  while IFS= read -r f; do
    [[ -n $f ]] || continue
    cp "$V2_MODDIR/$f" "$root/lib/modules/"
    basename "$f" >>"$root/lib/modules/load.order"
  done <<<"$mods"
  printf 'V2_KVER=%s\nV2_MODDIR=%s\n' "$V2_KVER" "$V2_MODDIR" >"$root/etc/v2-lane.conf"
  # The kernel opens /dev/console for /init before devtmpfs is mounted.
  mknod -m 600 "$root/dev/console" c 5 1
  # Uncompressed: unpacking is faster than gunzip under TCG, and it is small.
  (cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet >"$V2_INITRD.tmp")
  rm -rf "$root"
  mv -f "$V2_INITRD.tmp" "$V2_INITRD"
  # Drop initramfs images of older versions of the guest scripts.
  find "$V2_CACHE" -maxdepth 1 -name 'initramfs-*.cpio' ! -path "$V2_INITRD" -mmin +60 -delete 2>/dev/null || true
}

v2_prepare() {
  mkdir -p "$V2_CACHE"
  # Per-run directories of runs that were SIGKILLed (no cleanup trap ran).
  find /tmp -maxdepth 1 -name 'tsrun-v2-lane.*' -type d -mmin +1440 -exec rm -rf {} + 2>/dev/null || true
  exec {_v2_lock}>"$V2_CACHE/.lock"
  flock "$_v2_lock"
  v2_ensure_packages
  v2_ensure_kernel
  v2_ensure_initrd
  flock -u "$_v2_lock"
  exec {_v2_lock}>&-
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  v2_prepare
  printf 'kernel  %s\nvmlinux %s\nbzImage %s\ninitrd  %s\n' "$V2_KVER" "${V2_VMLINUX:-none}" "$V2_BZIMAGE" "$V2_INITRD"
fi
