#!/bin/sh
# Self-test of the v2 lane guest: bash test/v2-lane/run.sh -- sh test/v2-lane/selftest.sh
set -u
t() { s=$(date +%s.%N); "$@"; e=$(date +%s.%N); echo "  took $(awk -v a=$s -v b=$e 'BEGIN{printf "%.2f", b-a}')s: $*"; }
echo "== node startup (cold, then warm x3)"
t node -e 0; t node -e 0; t node -e 0; t node -e 0
echo "== node loads the project's addon over 9p"
t node -e 'const p=require("path");const f=require("fs").readdirSync("build/Release").filter(x=>x.endsWith(".node"));for(const x of f){require(p.resolve("build/Release",x));console.log("loaded",x)}'
echo "== mount/propagation"; grep -E ' / | /work/main | /sys/fs/cgroup ' /proc/self/mountinfo
echo "== overlayfs"
mkdir -p /tmp/o/l /tmp/o/u /tmp/o/w /tmp/o/m && echo lower > /tmp/o/l/f && mount -t overlay -o lowerdir=/tmp/o/l,upperdir=/tmp/o/u,workdir=/tmp/o/w overlay /tmp/o/m && echo upper >> /tmp/o/m/f && cat /tmp/o/m/f && ls /tmp/o/u && umount /tmp/o/m && echo overlay-ok
echo "== overlay with a lower dir from the 9p root"
mkdir -p /tmp/p/u /tmp/p/w /tmp/p/m && mount -t overlay -o lowerdir=/usr/share/doc,upperdir=/tmp/p/u,workdir=/tmp/p/w overlay /tmp/p/m && ls /tmp/p/m | head -2 && umount /tmp/p/m && echo overlay9p-ok
echo "== namespaces"
unshare -fpm --mount-proc sh -c 'echo "pid in ns: $$"; ps -e | wc -l' && echo pidns-ok
unshare -Ur sh -c 'id -u; cat /proc/self/uid_map' && echo userns-ok
unshare -U -r -m -p -f --mount-proc sh -c 'mount -t tmpfs x /mnt && echo "userns+mount ok $$"'
unshare -n sh -c 'ip link' && echo netns-ok
unshare -iu --cgroup sh -c 'hostname inner; hostname; cat /proc/self/cgroup' && echo ipc-uts-cgroupns-ok
echo "== cgroup v2 limits"
mkdir /sys/fs/cgroup/t && cd /sys/fs/cgroup/t && echo 20000000 > memory.max && echo 10 > pids.max && echo "50000 100000" > cpu.max && cat memory.max pids.max cpu.max && ls io.max io.weight 2>&1 | tr '\n' ' '; echo
echo "+memory +pids +cpu +io" > cgroup.subtree_control && cat cgroup.subtree_control
mkdir c && sh -c 'echo $$ > /sys/fs/cgroup/t/c/cgroup.procs; cat /proc/self/cgroup; for i in $(seq 20); do sleep 1 & done; wait' 2>&1 | tail -2
cat c/pids.events
echo 5000000 > c/memory.max; sh -c 'echo $$ > /sys/fs/cgroup/t/c/cgroup.procs; exec node -e "const a=[];for(;;)a.push(Buffer.alloc(1e6,1))"' ; echo "oom rc=$?"; cat c/memory.events
cd /; rmdir /sys/fs/cgroup/t/c /sys/fs/cgroup/t && echo rmdir-ok
echo "== misc"; ls -la /dev/null /dev/zero /dev/ptmx /dev/pts /dev/shm /dev/fd | head; df -h / /tmp /run /work/main | cat; free -m; cat /proc/cmdline
touch /work/main/test/v2-lane/.probe && ls -ln /work/main/test/v2-lane/.probe && rm /work/main/test/v2-lane/.probe
