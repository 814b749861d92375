#!/bin/sh
# Self-test of the v2 lane's guest. Run it through the lane:
#   bash test/v2-lane/run.sh -- sh test/v2-lane/selftest.sh
# Prints what it checks and exits non-zero if any check failed.
# Works only in the lane's guest (it refuses to run elsewhere: it writes to /sys/fs/cgroup).
set -u
[ "$(hostname)" = v2-lane ] || { echo "selftest.sh: run me inside the v2 lane (run.sh)" >&2; exit 2; }

fails=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }
check() { # description command...
  d=$1; shift
  if out=$("$@" 2>&1); then ok "$d"; else bad "$d: $out"; fi
}
timed() {
  s=$(date +%s.%N); "$@" >/dev/null 2>&1; r=$?; e=$(date +%s.%N)
  echo "     $(awk -v a="$s" -v b="$e" 'BEGIN{printf "%.2f", b-a}')s: $*"
  return $r
}

echo "== node startup, first (cold caches) then warm"
timed node -e 0; timed node -e 0; timed node -e 0

echo "== cgroup v2"
grep -q ' /sys/fs/cgroup cgroup2 ' /proc/mounts && ok "cgroup2 on /sys/fs/cgroup" || bad "cgroup2 not mounted"
if grep -q ' cgroup ' /proc/mounts; then bad "a cgroup v1 hierarchy is mounted"; else ok "no cgroup v1 mount"; fi
echo "     controllers:     $(cat /sys/fs/cgroup/cgroup.controllers)"
echo "     subtree_control: $(cat /sys/fs/cgroup/cgroup.subtree_control)"
for c in memory pids cpu io cpuset; do
  grep -qw $c /sys/fs/cgroup/cgroup.subtree_control && ok "controller $c enabled" || bad "controller $c not enabled"
done
T=/sys/fs/cgroup/v2-lane-selftest
mkdir $T && echo 20000000 >$T/memory.max && [ "$(cat $T/memory.max)" = 19996672 ] && ok "memory.max" || bad "memory.max"
echo 10 >$T/pids.max && [ "$(cat $T/pids.max)" = 10 ] && ok "pids.max" || bad "pids.max"
echo "50000 100000" >$T/cpu.max && [ "$(cat $T/cpu.max)" = "50000 100000" ] && ok "cpu.max" || bad "cpu.max"
[ -e $T/io.max ] && ok "io.max exists" || bad "io.max missing"
echo "+memory +pids +cpu +io" >$T/cgroup.subtree_control && ok "nested subtree_control" || bad "nested subtree_control"
mkdir $T/c
sh -c "echo \$\$ >$T/c/cgroup.procs; for i in 1 2 3 4 5 6 7 8 9 10 11 12; do sleep 1 & done; wait" >/dev/null 2>&1
grep -q '^max [1-9]' $T/c/pids.events && ok "pids.max enforced" || bad "pids.max not enforced"
# dd's 64 MiB buffer: killed at once. (A node process under a tight memory.max
# tends to thrash on its own 9p-backed text pages for minutes instead.)
echo 8000000 >$T/c/memory.max
sh -c "echo \$\$ >$T/c/cgroup.procs; exec dd if=/dev/zero of=/dev/null bs=64M count=1" >/dev/null 2>&1
grep -q '^oom_kill [1-9]' $T/c/memory.events && ok "memory.max enforced (OOM kill)" || bad "memory.max not enforced"
i=0; until rmdir $T/c $T 2>/dev/null; do i=$((i + 1)); [ $i -lt 50 ] || break; sleep 0.2; done
[ ! -e $T ] && ok "rmdir cgroups" || bad "rmdir cgroups: $(cat $T/c/cgroup.procs 2>&1)"

echo "== node"
check "node runs" node -e 'process.exit(6*7 === 42 ? 0 : 1)'
if ls build/Release/*.node >/dev/null 2>&1; then
  check "project's native addon loads over 9p" node -e 'const p=require("path");for(const x of require("fs").readdirSync("build/Release").filter(x=>x.endsWith(".node")))require(p.resolve("build/Release",x))'
fi

echo "== filesystems"
check "project dir is writable" sh -c 'f=test/v2-lane/.selftest.$$; echo x >$f && [ "$(cat $f)" = x ] && rm $f'
check "root (overlay) is writable" sh -c 'echo x >/etc/v2-lane-selftest && rm /etc/v2-lane-selftest'
check "overlayfs mount" sh -c 'd=$(mktemp -d); mkdir $d/l $d/u $d/w $d/m; echo a >$d/l/f;
  mount -t overlay -o lowerdir=$d/l,upperdir=$d/u,workdir=$d/w overlay $d/m && echo b >>$d/m/f &&
  [ "$(cat $d/u/f)" = "a
b" ] && umount $d/m'
check "overlayfs with a lower dir on the 9p root" sh -c 'd=$(mktemp -d); mkdir $d/u $d/w $d/m;
  mount -t overlay -o lowerdir=/usr/share/doc,upperdir=$d/u,workdir=$d/w overlay $d/m && ls $d/m >/dev/null && umount $d/m'
check "/dev/shm, /dev/null, /dev/fd" sh -c 'echo x >/dev/shm/t && rm /dev/shm/t && echo >/dev/null && [ -e /dev/fd/0 ]'
check "pty allocation" sh -c 'script -qc true /dev/null </dev/null || python3 -c "import pty,os; pty.openpty()"'

echo "== namespaces"
check "pid+mount ns (unshare -fpm --mount-proc)" unshare -fpm --mount-proc sh -c '[ $$ = 1 ] && [ $(ls -d /proc/[0-9]* | wc -l) -le 3 ]'
check "user ns (unshare -Ur)" unshare -Ur sh -c '[ "$(id -u)" = 0 ] && grep -q "0 *0 *1" /proc/self/uid_map'
check "user+mount+pid ns, tmpfs mount inside" unshare -Urmpf --mount-proc sh -c 'mount -t tmpfs x /mnt'
check "net ns" unshare -n ip link show lo
check "ipc+uts+cgroup ns" unshare -iu --cgroup sh -c 'hostname inner && [ "$(hostname)" = inner ] && [ "$(cat /proc/self/cgroup)" = "0::/" ]'
check "pivot_root in a new mount ns" unshare -m sh -c 'd=$(mktemp -d); mount -t tmpfs x $d && mkdir $d/old &&
  mount --make-rprivate / && cd $d && pivot_root . old'

echo "== summary: $fails failed"
[ $fails = 0 ]
