#include "rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <vector>

#include "console.h"
#include "fail.h"
#include "hooks.h"
#include "namespaces.h"
#include "resolve.h"
#include "sync.h"

namespace tsrun {

namespace {

constexpr unsigned long kPropagationBits = MS_SHARED | MS_SLAVE | MS_PRIVATE | MS_UNBINDABLE;

// Flags the kernel keeps locked on a bind mount: a remount has to repeat them or it fails with EPERM.
unsigned long LockedFlags(const std::string& path) {
  struct statvfs st;
  if (statvfs(path.c_str(), &st) < 0) return 0;
  unsigned long f = 0;
  if (st.f_flag & ST_NOSUID) f |= MS_NOSUID;
  if (st.f_flag & ST_NODEV) f |= MS_NODEV;
  if (st.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
  if (st.f_flag & ST_RDONLY) f |= MS_RDONLY;
  if (st.f_flag & ST_NOATIME) f |= MS_NOATIME;
  if (st.f_flag & ST_NODIRATIME) f |= MS_NODIRATIME;
  if (st.f_flag & ST_RELATIME) f |= MS_RELATIME;
  return f;
}

void ApplyPropagation(const std::string& target, uint64_t propagation, const std::string& dest) {
  unsigned long rec = propagation & MS_REC;
  for (unsigned long bit : {MS_SHARED, MS_SLAVE, MS_PRIVATE, MS_UNBINDABLE}) {
    if (!(propagation & bit)) continue;
    if (mount(nullptr, target.c_str(), nullptr, bit | rec, nullptr) < 0) FailErrno(Fmt("set propagation of %s", dest.c_str()));
  }
}

// The recursive options (rro, rnosuid, ...): MS_REMOUNT changes one mount, so a read-only rbind
// would leave the mounts below it writable; mount_setattr(AT_RECURSIVE) changes the whole tree.
void ApplyRecursiveAttr(int fd, const MountOp& m) {
  struct mount_attr attr = {};
  attr.attr_set = m.attr_set;
  attr.attr_clr = m.attr_clr;
  if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) == 0) return;
  int err = errno;
  // Never go on with a mount the config asked to be (say) read-only and is not.
  if (err == ENOSYS)
    Fail(err, Fmt("recursive mount options (rro, rnosuid, ...) of %s need mount_setattr(2), which this kernel "
                  "does not have (Linux 5.12 or later)",
                  m.dest.c_str()));
  if (err == EINVAL && (m.attr_set | m.attr_clr) & MOUNT_ATTR_NOSYMFOLLOW)
    Fail(err, Fmt("recursive mount options of %s: rnosymfollow/rsymfollow need Linux 5.14 or later", m.dest.c_str()));
  Fail(err, Fmt("apply the recursive mount options of %s (mount_setattr set %#llx clear %#llx, AT_RECURSIVE)", m.dest.c_str(),
                static_cast<unsigned long long>(m.attr_set), static_cast<unsigned long long>(m.attr_clr)));
}

void DoSymlink(int root_fd, const MountOp& m) {
  std::string parent, name;
  SplitPath(m.dest, &parent, &name);
  int parent_fd = MkdirAllInRoot(root_fd, parent, 0755);
  struct stat st;
  // Replace a file or link in the way (e.g. /dev/ptmx becomes a link to pts/ptmx); keep directories.
  if (fstatat(parent_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode)) unlinkat(parent_fd, name.c_str(), 0);
  if (symlinkat(m.source.c_str(), parent_fd, name.c_str()) < 0 && errno != EEXIST)
    FailErrno(Fmt("symlink %s -> %s", m.dest.c_str(), m.source.c_str()));
  close(parent_fd);
}

bool UnderProc(const std::string& dest) { return dest == "/proc" || dest.compare(0, 6, "/proc/") == 0; }

// A mount target resolved inside the rootfs may still land in the container's procfs: an image's
// symlink (/data -> /proc/sys/kernel) does that once /proc is mounted. A volume there would cover
// the files the kernel and this init trust (cap_last_cap, sysctls, /proc/self/...): a container
// escape (the CVE-2025-52881 class). runc refuses any destination that resolves inside /proc; so
// do we, unless the config itself names a path below /proc (lxcfs's use).
void RefuseRedirectIntoProc(int fd, const std::string& source, const std::string& dest) {
  struct statfs sfs;
  if (fstatfs(fd, &sfs) < 0) FailErrno(Fmt("statfs the mount target %s", dest.c_str()));
  if (sfs.f_type == PROC_SUPER_MAGIC && !UnderProc(dest))
    Fail(EPERM, Fmt("mount %s on %s: the destination resolves into /proc through a symlink in the rootfs; refusing to mount over procfs "
                    "(fix the image's link, or choose another destination)",
                    source.c_str(), dest.c_str()));
}

void DoMount(int root_fd, const MountOp& m) {
  uint64_t t0 = NowMicros();
  bool bind = m.flags & MS_BIND;
  bool directory = true;
  // A source passed as an fd is reached through it (see SendMountSources).
  std::string source = m.source_fd >= 0 ? Fmt("/proc/self/fd/%d", m.source_fd) : m.source;
  if (bind) {
    struct stat st;
    if ((m.source_fd >= 0 ? fstat(m.source_fd, &st) : stat(m.source.c_str(), &st)) < 0)
      FailErrno(Fmt("bind mount source %s", m.source.c_str()));
    directory = S_ISDIR(st.st_mode);
  }
  int fd = MakeTargetInRoot(root_fd, m.dest, directory);
  RefuseRedirectIntoProc(fd, m.source, m.dest);
  std::string target = FdPath(fd);
  unsigned long flags = m.flags & ~kPropagationBits;
  // A read-only tmpfs (a read-only /dev) is filled first, with mounts and device nodes: it goes
  // read-only in FinalizeRootfs, as runc delays it.
  if (!bind && m.type == "tmpfs") flags &= ~static_cast<unsigned long>(MS_RDONLY);
  if (bind && m.idmap_tree_fd >= 0) {
    if (syscall(SYS_move_mount, m.idmap_tree_fd, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
      FailErrno(Fmt("move the idmapped mount of %s onto %s", m.source.c_str(), m.dest.c_str()));
  } else if (bind) {
    if (mount(source.c_str(), target.c_str(), nullptr, MS_BIND | (flags & MS_REC), nullptr) < 0)
      FailErrno(Fmt("bind mount %s on %s", m.source.c_str(), m.dest.c_str()));
  } else if (mount(m.source.c_str(), target.c_str(), m.type.c_str(), flags, m.data.empty() ? nullptr : m.data.c_str()) < 0) {
    int err = errno;
    // sysfs cannot be mounted from a user namespace that does not own the network namespace:
    // fall back to a recursive bind of the host's /sys, as runc does. Nor cgroup2 from a
    // user namespace (the kernel's cgroup2 superblock belongs to the host's: EBUSY): the
    // container's own cgroup directory, which the source names, is bound instead, as runc and
    // crun do for rootless containers.
    bool sysfs = m.type == "sysfs", cgroup2 = m.type == "cgroup2" && !m.source.empty() && m.source[0] == '/';
    if ((!sysfs && !cgroup2) || (err != EPERM && err != EBUSY))
      Fail(err, Fmt("mount %s (%s) on %s", m.source.c_str(), m.type.c_str(), m.dest.c_str()));
    const char* from = sysfs ? "/sys" : m.source.c_str();
    if (mount(from, target.c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0) FailErrno(Fmt("bind mount %s on %s", from, m.dest.c_str()));
    bind = true;
  }
  close(fd);
  // Re-resolve: the fd still points below the new mount, the path now reaches the mount itself.
  fd = OpenInRoot(root_fd, m.dest, O_PATH);
  if (fd < 0) FailErrno(Fmt("reopen %s after mounting", m.dest.c_str()));
  target = FdPath(fd);
  unsigned long extra = flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
  if (bind && extra) {
    if (mount(nullptr, target.c_str(), nullptr, MS_REMOUNT | MS_BIND | extra | LockedFlags(target), nullptr) < 0)
      FailErrno(Fmt("remount %s with its options", m.dest.c_str()));
  }
  if (m.has_attr) ApplyRecursiveAttr(fd, m);
  ApplyPropagation(target, m.propagation, m.dest);
  close(fd);
  if (m.idmap_tree_fd >= 0) close(m.idmap_tree_fd);
  if (m.source_fd >= 0) close(m.source_fd);
  Event("mount",
        m.type + " " + m.source + " -> " + m.dest + (m.data.empty() ? "" : " (" + m.data + ")") +
            (m.idmap_tree_fd >= 0 ? " idmapped" : "") + (m.has_attr ? " recursive-attrs" : ""),
        t0);
}

void MakeDevice(int root_fd, const Device& d) {
  uint64_t t0 = NowMicros();
  std::string parent, name;
  SplitPath(d.path, &parent, &name);
  int parent_fd = MkdirAllInRoot(root_fd, parent, 0755);
  std::string how = "mknod";
  if (mknodat(parent_fd, name.c_str(), d.type | (d.mode & 07777), makedev(d.major, d.minor)) == 0) {
    if (fchownat(parent_fd, name.c_str(), d.uid, d.gid, AT_SYMLINK_NOFOLLOW) < 0) FailErrno(Fmt("chown device %s", d.path.c_str()));
    if (fchmodat(parent_fd, name.c_str(), d.mode & 07777, 0) < 0) FailErrno(Fmt("chmod device %s", d.path.c_str()));
  } else if (errno == EEXIST) {
    how = "kept existing";
  } else if (errno == EPERM) {
    // In a user namespace mknod is not allowed: bind the host's node instead.
    how = "bind from host";
    int fd = MakeTargetInRoot(root_fd, d.path, false);
    RefuseRedirectIntoProc(fd, d.path, d.path);
    if (mount(d.path.c_str(), FdPath(fd).c_str(), nullptr, MS_BIND, nullptr) < 0) FailErrno(Fmt("bind mount device %s", d.path.c_str()));
    close(fd);
  } else {
    FailErrno(Fmt("mknod %s", d.path.c_str()));
  }
  close(parent_fd);
  Event("device", d.path + " " + std::to_string(d.major) + ":" + std::to_string(d.minor) + " " + how, t0);
}

// The mount point that holds `path` (the longest mount point that is a prefix of it).
std::string MountPointOf(const std::string& path) {
  std::string best = "/";
  FILE* f = fopen("/proc/self/mountinfo", "re");
  if (!f) return best;
  char* line = nullptr;
  size_t cap = 0;
  while (getline(&line, &cap, f) > 0) {
    char point[4096];
    if (sscanf(line, "%*s %*s %*s %*s %4095s", point) != 1) continue;
    std::string mp = point;
    bool prefix = path == mp || (path.compare(0, mp.size(), mp) == 0 && (mp == "/" || path[mp.size()] == '/'));
    if (prefix && mp.size() >= best.size()) best = mp;
  }
  free(line);
  fclose(f);
  return best;
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string Unescape(const char* s) {
  std::string out;
  for (; *s; s++) {
    if (s[0] == '\\' && s[1] >= '0' && s[1] <= '7' && s[2] && s[3]) {
      out += static_cast<char>((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
      s += 3;
    } else {
      out += *s;
    }
  }
  return out;
}

bool Below(const std::string& path, const std::string& dir) {
  return path == dir || (path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/');
}

// --no-pivot keeps the host's mounts in the namespace, under the moved rootfs: out of reach by
// path, but the kernel lets a nested user namespace mount a fresh procfs or sysfs as long as
// one is fully visible somewhere in the mount namespace (mount_too_revealing), and the host's
// are. So, as runc does, every full procfs and sysfs mount outside the rootfs goes first
// (detached; one that cannot be, in a user namespace, is covered with a tmpfs).
void HideHostProcAndSys(const std::string& rootfs) {
  uint64_t t0 = NowMicros();
  std::vector<std::string> targets;
  FILE* f = fopen("/proc/self/mountinfo", "re");
  if (!f) FailErrno("open /proc/self/mountinfo");
  char* line = nullptr;
  size_t cap = 0;
  while (getline(&line, &cap, f) > 0) {
    char root[4096], point[4096], fstype[256];
    const char* sep = strstr(line, " - ");
    if (!sep || sscanf(line, "%*s %*s %*s %4095s %4095s", root, point) != 2 || sscanf(sep + 3, "%255s", fstype) != 1) continue;
    std::string mp = Unescape(point);
    if (strcmp(root, "/") != 0 || (strcmp(fstype, "proc") != 0 && strcmp(fstype, "sysfs") != 0) || Below(mp, rootfs)) continue;
    targets.push_back(mp);
  }
  free(line);
  fclose(f);
  for (const std::string& mp : targets) {
    // Unmounting must not reach the host: a slave first (a parent already gone: ENOENT, done).
    if (mount(nullptr, mp.c_str(), nullptr, MS_SLAVE | MS_REC, nullptr) < 0) {
      if (errno == ENOENT) continue;
      FailErrno(Fmt("make %s a slave before hiding it", mp.c_str()));
    }
    if (umount2(mp.c_str(), MNT_DETACH) == 0) continue;
    if (errno != EINVAL && errno != EPERM) FailErrno(Fmt("unmount the host's %s", mp.c_str()));
    if (mount("tmpfs", mp.c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0") < 0)
      FailErrno(Fmt("cover the host's %s", mp.c_str()));
  }
  Event("hide_host_proc_sys", std::to_string(targets.size()) + " host procfs/sysfs mounts", t0);
}

void PivotRoot(const Plan& plan) {
  uint64_t t0 = NowMicros();
  if (chdir(plan.rootfs.c_str()) < 0) FailErrno(Fmt("chdir %s", plan.rootfs.c_str()));
  if (!HasMountNamespace(plan)) {
    // The runtime's namespace: a chroot, and nothing of the host's is moved or unmounted.
    if (chroot(".") < 0) FailErrno("chroot");
  } else if (plan.no_pivot) {
    HideHostProcAndSys(plan.rootfs);
    if (mount(plan.rootfs.c_str(), "/", nullptr, MS_MOVE, nullptr) < 0) FailErrno("move the rootfs to /");
    if (chroot(".") < 0) FailErrno("chroot");
  } else {
    int old_root = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
    if (old_root < 0) FailErrno("open /");
    // pivot_root(".", ".") stacks the old root under the new one; detach it right away.
    if (syscall(SYS_pivot_root, ".", ".") < 0) FailErrno(Fmt("pivot_root %s", plan.rootfs.c_str()));
    if (fchdir(old_root) < 0) FailErrno("fchdir to the old root");
    if (mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr) < 0) FailErrno("make the old root a slave");
    if (umount2(".", MNT_DETACH) < 0) FailErrno("unmount the old root");
    close(old_root);
  }
  if (chdir("/") < 0) FailErrno("chdir /");
  Event(plan.no_pivot || !HasMountNamespace(plan) ? "chroot" : "pivot_root", plan.rootfs, t0);
}

}  // namespace

void BindFdOnto(int src_fd, int dirfd, const std::string& path, const std::string& what) {
  int tree = static_cast<int>(syscall(SYS_open_tree, src_fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH));
  if (tree < 0) FailErrno(what + " (open_tree)");
  unsigned flags = MOVE_MOUNT_F_EMPTY_PATH | (path.empty() ? MOVE_MOUNT_T_EMPTY_PATH : 0);
  if (syscall(SYS_move_mount, tree, "", dirfd, path.c_str(), flags) < 0) FailErrno(what);
  close(tree);
}

void PrepareIdmappedMount(MountOp* m) {
  uint64_t t0 = NowMicros();
  int userns = MakeUserns(m->uid_map, m->gid_map);
  unsigned tree_flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | ((m->flags & MS_REC) ? AT_RECURSIVE : 0);
  int tree = static_cast<int>(syscall(SYS_open_tree, AT_FDCWD, m->source.c_str(), tree_flags));
  if (tree < 0) FailErrno(Fmt("open_tree %s for an idmapped mount", m->source.c_str()));
  struct mount_attr attr = {};
  attr.attr_set = MOUNT_ATTR_IDMAP;
  attr.userns_fd = static_cast<uint64_t>(userns);
  if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | ((m->flags & MS_REC) ? AT_RECURSIVE : 0), &attr, sizeof attr) < 0)
    FailErrno(Fmt("idmap the mount of %s (does its filesystem support idmapped mounts?)", m->source.c_str()));
  close(userns);
  m->idmap_tree_fd = tree;
  Event("idmap", m->source + " uid_map: " + m->uid_map, t0);
}

bool NeedsSourceFd(const Plan& plan, const MountOp& m) {
  constexpr uint64_t kNew = CLONE_NEWUSER | CLONE_NEWNS;
  return !plan.unprivileged && (plan.clone_flags & kNew) == kNew && m.kind == kMountFs && (m.flags & MS_BIND) && m.uid_map.empty();
}

void SendMountSources(const Plan& plan, pid_t init, int sock) {
  uint64_t t0 = NowMicros();
  int own = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
  std::string theirs_path = Fmt("/proc/%d/ns/mnt", init);
  int theirs = open(theirs_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (own < 0 || theirs < 0 || setns(theirs, CLONE_NEWNS) < 0) {
    int err = errno;
    kill(init, SIGKILL);
    Fail(err, "join the container's mount namespace to open its bind mount sources");
  }
  int sent = 0;
  for (const MountOp& m : plan.mounts) {
    if (!NeedsSourceFd(plan, m)) continue;
    int fd = open(m.source.c_str(), O_PATH | O_CLOEXEC);
    if (fd < 0) {
      int err = errno;
      kill(init, SIGKILL);
      Fail(err, Fmt("bind mount source %s", m.source.c_str()));
    }
    SendFd(sock, fd, "m");
    close(fd);
    sent++;
  }
  if (setns(own, CLONE_NEWNS) < 0) FailErrno("return to the runtime's mount namespace");
  close(own);
  close(theirs);
  Event("mount_sources", std::to_string(sent) + " bind sources opened as real root", t0);
}

void ReceiveMountSources(Plan* plan, int sock) {
  for (MountOp& m : plan->mounts) {
    if (!NeedsSourceFd(*plan, m)) continue;
    m.source_fd = RecvFd(sock);
    // The runtime stage failed (and said why): nothing more to do here.
    if (m.source_fd < 0) _exit(1);
  }
}

void SetupRootfs(const Plan& plan, const std::string& state_json) {
  uint64_t t0 = NowMicros();
  bool own_ns = HasMountNamespace(plan);
  // Nothing we mount may propagate back to the host, unless rootfsPropagation asks for it (as
  // runc: a bidirectional volume needs "/" to stay shared with the host's peer groups). In the
  // runtime's own namespace "/" is left as it is: the rootfs bind below is made private instead.
  if (own_ns && (plan.root_propagation & MS_SHARED)) {
    if (mount(nullptr, "/", nullptr, plan.root_propagation, nullptr) < 0) FailErrno("make / shared (rootfsPropagation)");
    // pivot_root refuses a shared parent mount: the mount holding the rootfs becomes private.
    std::string holder = MountPointOf(plan.rootfs);
    if (mount(nullptr, holder.c_str(), nullptr, MS_PRIVATE, nullptr) < 0) FailErrno(Fmt("make %s private", holder.c_str()));
  } else if (own_ns && mount(nullptr, "/", nullptr, MS_SLAVE | MS_REC, nullptr) < 0) {
    FailErrno("make / a recursive slave");
  }
  if (mount(plan.rootfs.c_str(), plan.rootfs.c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0)
    FailErrno(Fmt("bind mount the rootfs %s on itself", plan.rootfs.c_str()));
  if (mount(nullptr, plan.rootfs.c_str(), nullptr, MS_PRIVATE | (own_ns ? 0 : MS_REC), nullptr) < 0)
    FailErrno(Fmt("make the rootfs %s private", plan.rootfs.c_str()));
  Event("rootfs", plan.rootfs, t0);

  int root_fd = open(plan.rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0) FailErrno(Fmt("open the rootfs %s", plan.rootfs.c_str()));
  for (const MountOp& m : plan.mounts)
    if (m.kind == kMountFs) DoMount(root_fd, m);
  for (const Device& d : plan.devices) MakeDevice(root_fd, d);
  for (const MountOp& m : plan.mounts)
    if (m.kind == kSymlink) DoSymlink(root_fd, m);
  close(root_fd);

  // createContainer hooks run in the container's root directory, as runc runs them.
  if (chdir(plan.rootfs.c_str()) < 0) FailErrno(Fmt("chdir %s", plan.rootfs.c_str()));
  RunHooks(plan, kCreateContainer, state_json);
  PivotRoot(plan);
}

// What masks a file: the container's /dev/null, which tsrun made in its /dev tmpfs unless the
// config mounts none. Then it is the image's, and an image may ship it as a symlink to a host
// file such as /proc/sys/kernel/core_pattern (the CVE-2025-31133 class): it is opened without
// following links, must be the null device itself, and is mounted through that fd, so nothing
// can swap it in between.
static int OpenNullDevice() {
  int fd = open("/dev/null", O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) FailErrno("open /dev/null to mask paths with");
  struct stat st;
  if (fstat(fd, &st) < 0) FailErrno("stat /dev/null");
  if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
    Fail(EINVAL,
         "/dev/null in the container is not the null device (char 1:3): refusing to mask paths with it (mount a tmpfs on /dev, or fix the "
         "image's /dev/null)");
  return fd;
}

void FinalizeRootfs(const Plan& plan) {
  for (const MountOp& m : plan.mounts) {
    if (m.kind != kMountFs || m.type != "tmpfs" || !(m.flags & MS_RDONLY) || (m.flags & MS_BIND)) continue;
    if (mount(nullptr, m.dest.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | LockedFlags(m.dest), nullptr) < 0)
      FailErrno(Fmt("remount %s read-only", m.dest.c_str()));
  }
  for (const std::string& p : plan.readonly) {
    uint64_t t0 = NowMicros();
    if (mount(p.c_str(), p.c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0) {
      if (errno == ENOENT) continue;
      FailErrno(Fmt("bind mount readonly path %s", p.c_str()));
    }
    unsigned long flags = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | LockedFlags(p);
    if (mount(nullptr, p.c_str(), nullptr, flags, nullptr) < 0) FailErrno(Fmt("remount %s read-only", p.c_str()));
    Event("readonly_path", p, t0);
  }
  int null_fd = -1;
  for (const std::string& p : plan.masked) {
    uint64_t t0 = NowMicros();
    struct stat st;
    if (stat(p.c_str(), &st) < 0) {
      if (errno == ENOENT) continue;
      FailErrno(Fmt("stat masked path %s", p.c_str()));
    }
    if (S_ISDIR(st.st_mode)) {
      if (mount("tmpfs", p.c_str(), "tmpfs", MS_RDONLY, nullptr) < 0) FailErrno(Fmt("mask %s", p.c_str()));
    } else {
      if (null_fd < 0) null_fd = OpenNullDevice();
      BindFdOnto(null_fd, AT_FDCWD, p, Fmt("mask %s", p.c_str()));
    }
    Event("masked_path", p, t0);
  }
  if (null_fd >= 0) close(null_fd);
  if (plan.root_readonly) {
    uint64_t t0 = NowMicros();
    if (mount(nullptr, "/", nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | LockedFlags("/"), nullptr) < 0) FailErrno("remount / read-only");
    Event("readonly_root", "/", t0);
  }
  if (plan.root_propagation) ApplyPropagation("/", plan.root_propagation, "/");
}

}  // namespace tsrun
