#!/usr/bin/env bash
# Run a command inside a qemu (TCG) guest that has a pure cgroup v2 hierarchy.
#
#   bash test/v2-lane/run.sh [options] -- COMMAND ARGS...
#
# Options:
#   --timeout SECONDS   whole run, boot included (default 900, or $TSRUN_V2_LANE_TIMEOUT)
#   --mem MIB           guest memory (default 4096)
#   --cpus N            guest vCPUs (default 2)
#   --env NAME=VALUE    export a variable to the command (repeatable)
#   --quiet             do not stream the guest console (it is still shown on failure)
#   --init systemd      boot the host's systemd as the guest's PID 1 (with dbus), the command
#                       running as a service; default: a busybox shell as PID 1
#   --cgroup hybrid     (with --init systemd) cgroup v1 controllers and a controller-less
#                       cgroup2, as systemd mounts them with unified_cgroup_hierarchy=0
#   --prepare-only      install/cache everything, boot nothing
#
# The guest sees the host's / read-only through 9p with a tmpfs overlay on top
# (so node, compilers, etc. are the host's), and the project directory
# read-write at the same path. The command runs as root in the project
# directory (or in the current directory if that lies inside the project).
# Exit status: the command's; 124 on timeout; 125 if the guest did not boot,
# its setup failed or it died before the command finished. See README.md.
set -euo pipefail

V2_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=prepare.sh
source "$V2_HERE/prepare.sh"

timeout=${TSRUN_V2_LANE_TIMEOUT:-900}
mem=4096
cpus=2
quiet=0
prepare_only=0
init=busybox
cgroup=v2
extra_env=()
usage() { sed -n '2,19s/^# \{0,1\}//p' "$V2_HERE/run.sh" >&2; exit 2; }
while (($#)); do
  case $1 in
    --timeout) timeout=${2:?}; shift 2 ;;
    --timeout=*) timeout=${1#*=}; shift ;;
    --mem) mem=${2:?}; shift 2 ;;
    --cpus) cpus=${2:?}; shift 2 ;;
    --env) extra_env+=("${2:?}"); shift 2 ;;
    --quiet) quiet=1; shift ;;
    --init) init=${2:?}; shift 2 ;;
    --init=*) init=${1#*=}; shift ;;
    --cgroup) cgroup=${2:?}; shift 2 ;;
    --cgroup=*) cgroup=${1#*=}; shift ;;
    --prepare-only) prepare_only=1; shift ;;
    --) shift; break ;;
    -h|--help) usage ;;
    -*) echo "[v2-lane] unknown option $1" >&2; usage ;;
    *) break ;;
  esac
done
[[ $timeout =~ ^[0-9]+$ && $timeout -gt 0 ]] || v2_die "bad --timeout: $timeout"
[[ $mem =~ ^[0-9]+$ && $cpus =~ ^[0-9]+$ ]] || v2_die "bad --mem/--cpus"
if ((prepare_only == 0 && $# == 0)); then usage; fi
[[ $init == busybox || $init == systemd ]] || v2_die "bad --init: $init (busybox or systemd)"
[[ $cgroup == v2 || ( $cgroup == hybrid && $init == systemd ) ]] || v2_die "bad --cgroup: $cgroup (v2, or hybrid with --init systemd)"
if [[ $init == systemd && ! -x /lib/systemd/systemd ]]; then
  v2_die "--init systemd needs the host's systemd (/lib/systemd/systemd): apt-get install systemd dbus (scripts/install.sh does)"
fi

project=${TSRUN_V2_LANE_PROJECT_DIR:-$(git -C "$V2_HERE" rev-parse --show-toplevel 2>/dev/null || (cd "$V2_HERE/../.." && pwd))}
project=$(cd "$project" && pwd -P)
# 9p mount tags/options and the guest's shell config cannot take odd paths.
[[ $project != / && $project =~ ^/[A-Za-z0-9._/+-]+$ ]] || v2_die "unsupported project dir: '$project'"

t0=$(date +%s.%N)
v2_prepare
t_prep=$(date +%s.%N)
if ((prepare_only)); then
  v2_log "ready: kernel $V2_KVER (${V2_VMLINUX:-$V2_BZIMAGE}), initramfs $V2_INITRD"
  exit 0
fi

ctl=$(mktemp -d /tmp/tsrun-v2-lane.XXXXXX)
qpid=
tpid=
stop_qemu() {
  if [[ -n $qpid ]] && kill -0 "$qpid" 2>/dev/null; then
    kill -TERM "$qpid" 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$qpid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$qpid" 2>/dev/null || true
  fi
  if [[ -n $qpid ]]; then wait "$qpid" 2>/dev/null || true; fi
  qpid=
  if [[ -n $tpid ]]; then kill "$tpid" 2>/dev/null || true; wait "$tpid" 2>/dev/null || true; fi
  tpid=
}
cleanup() {
  local rc=$?
  stop_qemu
  rm -rf "$ctl"
  exit "$rc"
}
trap cleanup EXIT
trap 'echo "[v2-lane] interrupted" >&2; exit 130' INT
trap 'exit 143' TERM

sq() { local s=${1//\'/\'\\\'\'}; printf "'%s'" "$s"; }

cwd=$(pwd -P)
[[ $cwd == "$project" || $cwd == "$project"/* ]] || cwd=$project
{
  printf 'V2_PROJECT=%s\n' "$(sq "$project")"
  printf 'V2_CWD=%s\n' "$(sq "$cwd")"
  printf 'V2_PROJECT_CACHE=%s\n' "$(sq "${TSRUN_V2_LANE_PROJECT_CACHE:-mmap}")"
  printf 'V2_INIT=%s\n' "$init"
  printf 'V2_CGROUP=%s\n' "$cgroup"
} >"$ctl/config"
{
  for v in CI TERM LANG LC_ALL TZ NODE_OPTIONS DEBUG; do
    [[ -n ${!v+x} ]] && printf 'export %s=%s\n' "$v" "$(sq "${!v}")"
  done
  for kv in ${extra_env[@]+"${extra_env[@]}"}; do
    [[ $kv == *=* && ${kv%%=*} =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || v2_die "bad --env: $kv"
    printf 'export %s=%s\n' "${kv%%=*}" "$(sq "${kv#*=}")"
  done
} >"$ctl/env"
{
  printf 'exec'
  for a in "$@"; do printf ' %s' "$(sq "$a")"; done
  printf '\n'
} >"$ctl/cmd"
printf '%s\n' "$*" >"$ctl/cmd.txt"

cgroup_args="cgroup_no_v1=all systemd.unified_cgroup_hierarchy=1"
[[ $cgroup == hybrid ]] && cgroup_args="systemd.unified_cgroup_hierarchy=0 systemd.legacy_systemd_cgroup_controller=0"
append="console=ttyS0 quiet loglevel=3 panic=-1 rdinit=/init $cgroup_args mitigations=off 8250.nr_uarts=1 ${TSRUN_V2_LANE_APPEND:-}"
# systemd as PID 1: only the lane's target, nothing on the console but the command's output.
[[ $init == systemd ]] && append+=" systemd.unit=v2-lane.target systemd.show_status=0 systemd.log_level=warning systemd.log_target=console"

bios=${TSRUN_V2_LANE_BIOS-/usr/share/qemu/qboot.rom} # qboot: a much shorter firmware stage than SeaBIOS
[[ -n $bios && ! -e $bios ]] && bios=
pdeath=()
setpriv --help 2>/dev/null | grep -q -- --pdeathsig && pdeath=(setpriv --pdeathsig KILL)

deadline=$(($(date +%s) + timeout))
result= # ok | timeout | noinit | died

# boot KERNEL: run the guest once; sets result.
boot() {
  local kernel=$1
  local qemu=(
    qemu-system-x86_64
    -name tsrun-v2-lane
    -machine "${TSRUN_V2_LANE_MACHINE:-q35}"
    -accel tcg,thread=multi,tb-size=512
    -cpu "${TSRUN_V2_LANE_CPU:-max}" -smp "$cpus" -m "$mem"
    -nodefaults -nographic -monitor none -no-reboot
    -chardev "file,id=con0,path=$ctl/console.log" -serial chardev:con0
    ${bios:+-bios "$bios"}
    -kernel "$kernel" -initrd "$V2_INITRD" -append "$append"
    -device virtio-rng-pci
    -virtfs "local,path=/,mount_tag=hostroot,security_model=passthrough,readonly=on,multidevs=remap"
    -virtfs "local,path=$project,mount_tag=project,security_model=passthrough,multidevs=remap"
    -virtfs "local,path=$ctl,mount_tag=ctl,security_model=passthrough"
  )
  : >"$ctl/console.log"
  rm -f "$ctl/qemu.log"
  v2_log "booting $V2_KVER ($(basename "$kernel")), $cpus vCPU, $mem MiB, timeout ${timeout}s, project $project"
  ${pdeath[@]+"${pdeath[@]}"} "${qemu[@]}" </dev/null >"$ctl/qemu.log" 2>&1 &
  qpid=$!
  if ((quiet == 0)); then
    tail -n +1 -f -s 0.2 --pid="$qpid" "$ctl/console.log" &
    tpid=$!
  fi
  local started now noinit_after
  started=$(date +%s)
  # A PVH boot that does not work shows nothing at all: give up on it early.
  noinit_after=${TSRUN_V2_LANE_INIT_WAIT:-120}
  result=
  while kill -0 "$qpid" 2>/dev/null; do
    now=$(date +%s)
    if ((now >= deadline)); then result=timeout; break; fi
    if [[ $kernel == "$V2_VMLINUX" ]] && ((now - started >= noinit_after)) \
       && ! grep -q '^\[v2-lane\] stage 1' "$ctl/console.log"; then
      result=noinit
      break
    fi
    sleep 0.2
  done
  local tail_pid=$tpid
  tpid=
  stop_qemu
  if [[ -n $tail_pid ]]; then wait "$tail_pid" 2>/dev/null || true; fi
  if [[ -z $result ]]; then
    if [[ -s $ctl/exit ]]; then
      result=ok
    elif grep -q '^\[v2-lane\] stage 1' "$ctl/console.log"; then
      result=died
    else
      result=noinit
    fi
  fi
}

kernel=${V2_VMLINUX:-$V2_BZIMAGE}
[[ ${TSRUN_V2_LANE_BZIMAGE:-0} == 1 || -e $V2_KDIR/.pvh-broken ]] && kernel=$V2_BZIMAGE
boot "$kernel"
if [[ $result == noinit && $kernel == "$V2_VMLINUX" ]]; then
  v2_log "the ELF vmlinux (PVH) boot did not reach the initramfs; falling back to the bzImage from now on"
  [[ -s $ctl/qemu.log ]] && sed 's/^/[v2-lane] qemu: /' "$ctl/qemu.log" >&2
  touch "$V2_KDIR/.pvh-broken" 2>/dev/null || true
  kernel=$V2_BZIMAGE
  boot "$kernel"
fi
t_end=$(date +%s.%N)

timing() {
  local boot='?' cmd='?'
  [[ -s $ctl/booted ]] && boot=$(<"$ctl/booted")
  [[ -s $ctl/done && -s $ctl/booted ]] && cmd=$(awk -v a="$(<"$ctl/booted")" -v b="$(<"$ctl/done")" 'BEGIN{printf "%.1f", b-a}')
  awk -v p="$t0" -v q="$t_prep" -v e="$t_end" -v bo="$boot" -v c="$cmd" \
    'BEGIN{printf "[v2-lane] timing: prepare %.1fs, guest ready at uptime %ss, command %ss, total %.1fs\n", q-p, bo, c, e-p}' >&2
}
show_failure() {
  if ((quiet)); then
    echo "----- guest console (last 60 lines) -----" >&2
    tail -n 60 "$ctl/console.log" >&2 || true
  fi
  if [[ -s $ctl/qemu.log ]]; then
    echo "----- qemu output -----" >&2
    cat "$ctl/qemu.log" >&2
  fi
}

timing
case $result in
  ok)
    rc=$(<"$ctl/exit")
    [[ $rc =~ ^[0-9]+$ ]] || { echo "[v2-lane] error: bad exit status '$rc' from the guest" >&2; exit 125; }
    exit "$rc"
    ;;
  timeout)
    if [[ -s $ctl/booted ]]; then
      echo "[v2-lane] error: TIMEOUT after ${timeout}s: the command did not finish; guest killed" >&2
    else
      echo "[v2-lane] error: TIMEOUT after ${timeout}s: the guest did not finish booting; guest killed" >&2
    fi
    show_failure
    exit 124
    ;;
  died)
    if [[ -s $ctl/booted ]]; then
      echo "[v2-lane] error: the guest stopped before the command finished (kernel panic? out of memory?)" >&2
    else
      echo "[v2-lane] error: the guest's setup failed (see the console output above)" >&2
    fi
    show_failure
    exit 125
    ;;
  *)
    echo "[v2-lane] error: the guest failed to boot (its init never ran)" >&2
    show_failure
    exit 125
    ;;
esac
