// tsrun-init: the native side of container creation. Node spawns it (fork+exec is safe from a
// multi-threaded process), so no JavaScript ever runs in a forked child.
//
// Two stages, named in `ps` by their comm:
//   tsrun:runtime (A)  joins namespaces, clones the init into new ones, writes id maps,
//                      reports the pid; in the foreground it stays to wait (and relay a pty).
//   tsrun:init    (B)  waits to be placed in its cgroups, builds the rootfs, pivots, sets up the
//                      process, reports READY, blocks on the exec fifo until `start`, execs.
// The sync protocol is described in sync.h, the plan in plan.h.
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "caps.h"
#include "console.h"
#include "fail.h"
#include "hooks.h"
#include "namespaces.h"
#include "plan.h"
#include "process.h"
#include "procfs.h"
#include "rootfs.h"
#include "sealed_exe.h"
#include "sync.h"

using namespace tsrun;

namespace {

constexpr uint32_t kModeCreate = 1;

// clone3(2), for CLONE_INTO_CGROUP (glibc has no wrapper; the struct is the kernel's v2 layout).
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef SYS_clone3
#define SYS_clone3 435
#endif
struct CloneArgs {
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};

// Forks (with `flags` for new namespaces), the child born in the cgroup v2 directory `cgroup_fd`
// when one is given: no cgroup.procs write, so no wait for an RCU grace period.
pid_t CloneInto(uint64_t flags, int cgroup_fd) {
  if (cgroup_fd < 0) return static_cast<pid_t>(syscall(SYS_clone, flags | SIGCHLD, nullptr, nullptr, nullptr, nullptr));
  CloneArgs args{};
  args.flags = flags | CLONE_INTO_CGROUP;
  args.exit_signal = SIGCHLD;
  args.cgroup = static_cast<uint64_t>(cgroup_fd);
  return static_cast<pid_t>(syscall(SYS_clone3, &args, sizeof(args)));
}

// B's first act: it moves itself into each cgroup v1 hierarchy by writing "0" to `tasks`. A
// thread that moves itself needs no global lock (Linux 6.0+), where a write of its pid to
// cgroup.procs by the runtime waits for an RCU grace period (~12 ms here). Then it tells the
// runtime, which skips its own cgroup.procs writes.
// The `tasks` files are opened by A before it joins any namespace (the host's paths, and the
// kernel checks the opener's credentials and cgroup namespace), close-on-exec.
std::vector<int> OpenCgroupTasks(const Plan& plan) {
  std::vector<int> fds;
  for (const std::string& dir : plan.cgroup_tasks) {
    std::string file = dir + "/tasks";
    int fd = open(file.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) FailErrno(Fmt("open %s", file.c_str()));
    fds.push_back(fd);
  }
  return fds;
}

void JoinOwnCgroups(const Plan& plan, const std::vector<int>& task_fds) {
  if (!plan.SelfJoins()) return;
  for (size_t i = 0; i < task_fds.size(); i++) {
    if (write(task_fds[i], "0", 1) != 1) FailErrno(Fmt("join the cgroup %s", plan.cgroup_tasks[i].c_str()));
    close(task_fds[i]);
  }
  if (!WriteFrame(g_sync_fd, kJoinedFrame, "")) _exit(1);
}

void BecomeNamespaceRoot() {
  if (setresgid(0, 0, 0) < 0) FailErrno("setresgid 0 in the user namespace");
  if (setresuid(0, 0, 0) < 0) FailErrno("setresuid 0 in the user namespace");
}

// Opens the exec fifo for writing: blocks until `tsrun start` opens it for reading.
void WaitForStart(const HostHandles& host) {
  std::string rel = "self/fd/" + std::to_string(host.fifo_fd);
  int fd = openat(ProcfsFd(), rel.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) FailErrno("open the exec fifo");
  if (write(fd, "0", 1) != 1) FailErrno("write the exec fifo");
  close(fd);
}

// SCMP_ACT_NOTIFY: hand the listener fd to the agent at listenerPath, with the state.
void SendListener(const Plan& plan, int sock, int listener_fd, const std::string& state_json) {
  if (listener_fd < 0 || sock < 0) return;
  SendFd(sock, listener_fd, plan.seccomp_listener_prefix + state_json + "}");
  close(listener_fd);
  close(sock);
}

[[noreturn]] void InitMain(const Plan& plan, int console, int fifo_fd, int listener, const std::vector<int>& task_fds) {
  prctl(PR_SET_NAME, "tsrun:init", 0, 0, 0);
  JoinOwnCgroups(plan, task_fds);
  uint32_t type = 0;
  std::string state_json;
  // EOF here: the runtime gave up on us (it reports its own error).
  if (!ReadFrame(g_sync_fd, &type, &state_json) || type != kContinueFrame) _exit(1);
  // Our id maps are written now (see the clone below): nobody may open our /proc files again.
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

  HostHandles host;
  host.fifo_fd = fifo_fd;
  if (plan.exec_root_fd >= 0) {
    // An exec into a container without a mount namespace: its root is a chroot to enter.
    if (fchdir(plan.exec_root_fd) < 0 || chroot(".") < 0) FailErrno("enter the container's root (chroot)");
    close(plan.exec_root_fd);
  }
  if (plan.mode == kModeCreate) {
    if (plan.clone_flags & CLONE_NEWUSER) BecomeNamespaceRoot();
    if (plan.clone_flags & CLONE_NEWCGROUP) {
      uint64_t t0 = NowMicros();
      // After the runtime placed us in our cgroup, so that it becomes the namespace's root.
      if (unshare(CLONE_NEWCGROUP) < 0) FailErrno("unshare the cgroup namespace");
      Event("namespace", "cgroup", t0);
    }
    SetupRootfs(plan, state_json);
    SetHostnames(plan);
    WriteSysctls(plan);
    // Before a read-only /dev or root is made read-only: /dev/console is bound on the pty.
    if (console >= 0) SetupPty(console, true);
    FinalizeRootfs(plan);
  } else if (console >= 0) {
    SetupPty(console, false);
  }
  SetOomScoreAdj(plan);
  SetRlimits(plan);
  CheckCwd(plan);
  // As runc: the cwd is entered while still root, so one that only root may enter works, and
  // once more after the user switch only if root was denied (root squashed on NFS). The
  // executable is looked up from there, as runc's LookPath does.
  bool in_cwd = EnterCwd(plan, true);
  std::string exe = LookupExecutable(plan);
  // Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: load it while we still have it.
  if (!plan.no_new_privs) SendListener(plan, listener, LoadSeccomp(plan), state_json);
  DropBounding(plan);
  SwitchUser(plan);
  if (!in_cwd) EnterCwd(plan, false);
  ApplyCapabilities(plan);
  if (plan.no_new_privs) {
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) FailErrno("prctl PR_SET_NO_NEW_PRIVS");
  }
  if (plan.mode == kModeCreate) {
    WriteFrame(g_sync_fd, kReadyFrame, "");
    close(g_sync_fd);
    g_sync_fd = -1;
    WaitForStart(host);
  }
  CloseProcfs();
  if (host.fifo_fd >= 0) close(host.fifo_fd);
  // As late as possible with no_new_privs, yet before the startContainer hooks: they run under
  // the filter the program gets, as runc runs them.
  if (plan.no_new_privs) SendListener(plan, listener, LoadSeccomp(plan), state_json);
  if (plan.mode == kModeCreate) RunHooks(plan, kStartContainer, state_json);
  Exec(plan, exe);
}

[[noreturn]] void WaitInForeground(pid_t child, int proxy) {
  // Orphans of the container reparent to us, as they would to runc.
  prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  if (proxy >= 0) ProxyPty(proxy);
  for (;;) {
    int status;
    pid_t r = waitpid(-1, &status, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      _exit(255);
    }
    if (r != child) continue;
    if (WIFEXITED(status)) _exit(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) _exit(128 + WTERMSIG(status));
  }
}

}  // namespace

int main(int argc, char** argv, char** envp) {
  (void)argc;
  EnsureSealedSelf(argv, envp);
  // Non-dumpable: nothing in the container may ptrace us or open our /proc files until execve.
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  prctl(PR_SET_NAME, "tsrun:runtime", 0, 0, 0);
  const char* sync_env = getenv("_TSRUN_SYNC_FD");
  if (!sync_env) {
    fprintf(stderr, "tsrun-init: this program is started by tsrun, not by hand\n");
    return 2;
  }
  g_sync_fd = atoi(sync_env);
  unsetenv("_TSRUN_SYNC_FD");
  // Before any namespace is joined or mount made: every /proc file we touch is reached from here.
  OpenProcfs();

  uint32_t type = 0;
  std::string bytes;
  if (!ReadFrame(g_sync_fd, &type, &bytes) || type != kPlanFrame) Fail(0, "no plan received on the sync socket");
  Plan plan = DecodePlan(bytes);
  plan.unprivileged = geteuid() != 0;
  g_events = plan.events;
  for (MountOp& m : plan.mounts)
    if (!m.uid_map.empty()) PrepareIdmappedMount(&m);
  // Every fd past the preserved ones closes on execve; the preserved ones pass through.
  if (syscall(SYS_close_range, 3 + plan.preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC) < 0) FailErrno("close_range");
  for (uint32_t fd = 3; fd < 3 + plan.preserve_fds; fd++) {
    int flags = fcntl(static_cast<int>(fd), F_GETFD);
    if (flags >= 0) fcntl(static_cast<int>(fd), F_SETFD, flags & ~FD_CLOEXEC);
  }

  int console = -1, proxy = -1;
  if (!plan.console_socket.empty()) {
    console = ConnectUnixSocket(plan.console_socket, "console socket");
  } else if (plan.terminal) {
    if (!plan.foreground) Fail(EINVAL, "a terminal needs --console-socket when the container runs detached");
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) FailErrno("socketpair for the pty");
    proxy = sv[0];
    console = sv[1];
  }

  int listener = plan.seccomp_listener.empty() ? -1 : ConnectUnixSocket(plan.seccomp_listener, "seccomp listener");
  // Opened here, as real root: in a user namespace the init may not reach the state dir.
  int fifo_fd = -1;
  if (!plan.exec_fifo.empty()) {
    fifo_fd = open(plan.exec_fifo.c_str(), O_PATH | O_CLOEXEC);
    if (fifo_fd < 0) FailErrno(Fmt("open the exec fifo %s", plan.exec_fifo.c_str()));
  }

  // Opened before joining namespaces: the paths are the host's.
  std::vector<int> task_fds = OpenCgroupTasks(plan);
  int cgroup_fd = -1;
  if (!plan.clone_into_cgroup.empty()) {
    cgroup_fd = open(plan.clone_into_cgroup.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (cgroup_fd < 0) FailErrno(Fmt("open the cgroup %s", plan.clone_into_cgroup.c_str()));
  }
  if (plan.mode != kModeCreate && !plan.rootfs.empty()) {
    plan.exec_root_fd = open(plan.rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (plan.exec_root_fd < 0) FailErrno(Fmt("open the container's root %s", plan.rootfs.c_str()));
  }
  // Bind sources the init's root may not reach: opened for it below, once it exists.
  int sources[2] = {-1, -1};
  bool pass_sources = false;
  for (const MountOp& m : plan.mounts) pass_sources |= plan.mode == kModeCreate && NeedsSourceFd(plan, m);
  if (pass_sources && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sources) < 0) FailErrno("socketpair for the mount sources");

  JoinNamespaces(plan);
  uint64_t t0 = NowMicros();
  pid_t pid;
  if (plan.mode == kModeCreate) {
    PrepareTimeNamespace(plan);
    // The cgroup namespace is made by the init itself once it is in its cgroup; time above.
    uint64_t flags = plan.clone_flags & ~static_cast<uint64_t>(CLONE_NEWCGROUP | 0x80 /* CLONE_NEWTIME */);
    // An unprivileged runtime (rootless) writes the init's id maps itself or through newuidmap,
    // which both need the init's /proc files to be the caller's: they are root's while it is
    // not dumpable. So it is born dumpable, and turns that off once its maps are written (on
    // CONTINUE), as runc's nsexec does.
    bool unprivileged_maps = (plan.clone_flags & CLONE_NEWUSER) && plan.unprivileged;
    if (unprivileged_maps) prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
    pid = CloneInto(flags, cgroup_fd);
    if (unprivileged_maps && pid != 0) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  } else {
    pid = cgroup_fd >= 0 ? CloneInto(0, cgroup_fd) : fork();
  }
  if (cgroup_fd >= 0) close(cgroup_fd);
  if (pid < 0) FailErrno(plan.mode == kModeCreate ? "clone the container init" : "fork the exec process");
  if (pid == 0) {
    if (proxy >= 0) close(proxy);
    if (pass_sources) {
      close(sources[0]);
      ReceiveMountSources(&plan, sources[1]);
      close(sources[1]);
    }
    InitMain(plan, console, fifo_fd, listener, task_fds);
  }
  for (int fd : task_fds) close(fd);
  if (console >= 0) close(console);
  if (listener >= 0) close(listener);
  if (pass_sources) {
    close(sources[1]);
    SendMountSources(plan, pid, sources[0]);
    close(sources[0]);
  }
  std::string made;
  for (uint64_t bit = 1; bit; bit <<= 1)
    if ((plan.clone_flags & bit) && plan.mode == kModeCreate) made += std::string(made.empty() ? "" : " ") + NamespaceName(bit);
  Event("clone", "pid " + std::to_string(pid) + (made.empty() ? "" : " new namespaces: " + made), t0);
  if (plan.mode == kModeCreate && (plan.clone_flags & CLONE_NEWUSER)) WriteIdMaps(plan, pid);
  if (!WriteFrame(g_sync_fd, kPidFrame, std::to_string(pid))) {
    kill(pid, SIGKILL);
    _exit(1);
  }
  close(g_sync_fd);
  g_sync_fd = -1;
  if (!plan.foreground) _exit(0);
  WaitInForeground(pid, proxy);
}
