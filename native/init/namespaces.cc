#include "namespaces.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "fail.h"
#include "procfs.h"
#include "sync.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

namespace tsrun {

const char* NamespaceName(uint64_t flag) {
  switch (flag) {
    case CLONE_NEWUSER:
      return "user";
    case CLONE_NEWPID:
      return "pid";
    case CLONE_NEWNS:
      return "mount";
    case CLONE_NEWNET:
      return "network";
    case CLONE_NEWIPC:
      return "ipc";
    case CLONE_NEWUTS:
      return "uts";
    case CLONE_NEWCGROUP:
      return "cgroup";
    case CLONE_NEWTIME:
      return "time";
  }
  return "?";
}

static int JoinOrder(uint32_t type) {
  if (type == CLONE_NEWUSER) return 0;
  if (type == CLONE_NEWNS) return 2;
  return 1;
}

void JoinNamespaces(const Plan& plan) {
  std::vector<std::pair<JoinNs, int>> open_ns;
  for (const JoinNs& j : plan.join) {
    int fd = open(j.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) FailErrno(Fmt("open %s namespace %s", NamespaceName(j.type), j.path.c_str()));
    open_ns.push_back({j, fd});
  }
  std::stable_sort(open_ns.begin(), open_ns.end(),
                   [](const auto& a, const auto& b) { return JoinOrder(a.first.type) < JoinOrder(b.first.type); });
  for (auto& [j, fd] : open_ns) {
    uint64_t t0 = NowMicros();
    if (setns(fd, static_cast<int>(j.type)) < 0) FailErrno(Fmt("setns %s namespace %s", NamespaceName(j.type), j.path.c_str()));
    close(fd);
    // Inside a joined user namespace, become its root (as runc does): files we create then
    // belong to a mapped id, and the kernel refuses unmapped owners (EOVERFLOW).
    if (j.type == CLONE_NEWUSER && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
      FailErrno(Fmt("become root of the user namespace %s (is id 0 mapped?)", j.path.c_str()));
    Event("setns", std::string(NamespaceName(j.type)) + " " + j.path, t0);
  }
}

static void WritePidFile(pid_t pid, const char* file, const std::string& value) {
  std::string rel = std::to_string(pid) + "/" + file;
  if (int err = WriteProcFile(rel, value)) Fail(err, Fmt("write /proc/%s", rel.c_str()));
}

// A map file's lines ("0 100000 65536\n...") on one line of the event stream: "0 100000 65536, ...".
static std::string OneLine(const std::string& map) {
  std::string out;
  for (char c : map) {
    if (c != '\n') out += c;
    else if (!out.empty()) out += ", ";
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == ',')) out.pop_back();
  return out;
}

// An unprivileged runtime may write a map of its own id only: a map of more goes through the
// setuid helper of shadow's uidmap package (`newuidmap PID ID HOSTID COUNT...`), which checks
// the ranges against /etc/subuid (/etc/subgid) and writes the map for us, as runc and crun do.
static void RunMapHelper(const std::string& helper, pid_t pid, const std::string& map) {
  std::vector<std::string> args = {helper, std::to_string(pid)};
  std::string word;
  for (char c : map) {
    if (c == ' ' || c == '\n' || c == '\t') {
      if (!word.empty()) args.push_back(word);
      word.clear();
    } else {
      word += c;
    }
  }
  if (!word.empty()) args.push_back(word);
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int out[2];
  if (pipe2(out, O_CLOEXEC) < 0) FailErrno("pipe for " + helper);
  pid_t child = fork();
  if (child < 0) FailErrno("fork for " + helper);
  if (child == 0) {
    // What it says goes to us (for the error), nothing else of ours goes to it.
    if (dup2(out[1], 1) < 0 || dup2(out[1], 2) < 0) _exit(126);
    syscall(SYS_close_range, 3, ~0U, 0);
    execv(argv[0], argv.data());
    dprintf(2, "exec %s: %s", argv[0], strerror(errno));
    _exit(127);
  }
  close(out[1]);
  std::string said;
  char buf[512];
  ssize_t n;
  while ((n = read(out[0], buf, sizeof buf)) != 0) {
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (said.size() < 4096) said.append(buf, static_cast<size_t>(n));
  }
  close(out[0]);
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
  while (!said.empty() && (said.back() == '\n' || said.back() == ' ')) said.pop_back();
  std::string how = WIFEXITED(status) ? Fmt("exit status %d", WEXITSTATUS(status)) : Fmt("killed by signal %d", WTERMSIG(status));
  Fail(EPERM, Fmt("%s: %s (%s): the host ids of a rootless container must be your own id or ranges given to "
                  "you in /etc/subuid and /etc/subgid",
                  (helper + " " + std::to_string(pid) + " " + map.substr(0, map.find('\n'))).c_str(),
                  said.empty() ? "failed" : said.c_str(), how.c_str()));
}

void WriteIdMaps(const Plan& plan, pid_t pid) {
  uint64_t t0 = NowMicros();
  if (!plan.uid_map.empty()) {
    if (plan.newuidmap.empty()) WritePidFile(pid, "uid_map", plan.uid_map);
    else RunMapHelper(plan.newuidmap, pid, plan.uid_map);
  }
  // Without CAP_SETGID outside, the kernel takes a gid map only once setgroups(2) is off.
  if (plan.setgroups_deny) WritePidFile(pid, "setgroups", "deny");
  if (!plan.gid_map.empty()) {
    if (plan.newgidmap.empty()) WritePidFile(pid, "gid_map", plan.gid_map);
    else RunMapHelper(plan.newgidmap, pid, plan.gid_map);
  }
  std::string how = plan.newuidmap.empty() && plan.newgidmap.empty() ? "" : " (through newuidmap/newgidmap)";
  Event("id_maps",
        "uid_map: " + OneLine(plan.uid_map) + "; gid_map: " + OneLine(plan.gid_map) + how + (plan.setgroups_deny ? " setgroups: deny" : ""),
        t0);
}

void PrepareTimeNamespace(const Plan& plan) {
  if (!(plan.clone_flags & CLONE_NEWTIME)) return;
  uint64_t t0 = NowMicros();
  if (unshare(CLONE_NEWTIME) < 0) FailErrno("unshare the time namespace");
  if (!plan.timens_offsets.empty()) {
    if (int err = WriteProcFile("self/timens_offsets", plan.timens_offsets)) Fail(err, "write /proc/self/timens_offsets");
  }
  Event("namespace", "time " + plan.timens_offsets, t0);
}

}  // namespace tsrun

namespace tsrun {

int MakeUserns(const std::string& uid_map, const std::string& gid_map) {
  int ready[2], done[2];
  if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(done, O_CLOEXEC) < 0) FailErrno("pipe for an idmap user namespace");
  pid_t child = fork();
  if (child < 0) FailErrno("fork for an idmap user namespace");
  if (child == 0) {
    close(ready[0]);
    close(done[1]);  // or the read below never sees EOF
    char c = unshare(CLONE_NEWUSER) == 0 ? 1 : 0;
    if (write(ready[1], &c, 1) != 1) _exit(1);
    (void)!read(done[0], &c, 1);  // wait until the parent has what it needs
    _exit(0);
  }
  close(ready[1]);
  close(done[0]);
  char ok = 0;
  if (read(ready[0], &ok, 1) != 1 || !ok) Fail(0, "unshare a user namespace for an idmapped mount");
  WritePidFile(child, "uid_map", uid_map);
  WritePidFile(child, "gid_map", gid_map);
  // A magic link, so not through OpenProcFile: the runtime's own procfs, in its own namespaces.
  std::string ns = std::to_string(child) + "/ns/user";
  int fd = openat(ProcfsFd(), ns.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) FailErrno("open /proc/" + ns);
  close(done[1]);
  close(ready[0]);
  waitpid(child, nullptr, 0);
  return fd;
}

}  // namespace tsrun
