#include "process.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <vector>

#include "fail.h"
#include "procfs.h"
#include "sync.h"

namespace tsrun {

namespace {

const char* RlimitName(uint32_t r) {
  static const char* names[] = {"RLIMIT_CPU",      "RLIMIT_FSIZE",  "RLIMIT_DATA",    "RLIMIT_STACK", "RLIMIT_CORE",  "RLIMIT_RSS",
                                "RLIMIT_NPROC",    "RLIMIT_NOFILE", "RLIMIT_MEMLOCK", "RLIMIT_AS",    "RLIMIT_LOCKS", "RLIMIT_SIGPENDING",
                                "RLIMIT_MSGQUEUE", "RLIMIT_NICE",   "RLIMIT_RTPRIO",  "RLIMIT_RTTIME"};
  return r < sizeof names / sizeof names[0] ? names[r] : "RLIMIT_?";
}

}  // namespace

void SetHostnames(const Plan& plan) {
  uint64_t t0 = NowMicros();
  if (plan.has_hostname) {
    if (sethostname(plan.hostname.data(), plan.hostname.size()) < 0) FailErrno(Fmt("sethostname %s", plan.hostname.c_str()));
    Event("hostname", plan.hostname, t0);
  }
  if (plan.has_domainname) {
    if (setdomainname(plan.domainname.data(), plan.domainname.size()) < 0) FailErrno(Fmt("setdomainname %s", plan.domainname.c_str()));
    Event("domainname", plan.domainname, t0);
  }
}

void WriteSysctls(const Plan& plan) {
  for (const Sysctl& s : plan.sysctls) {
    uint64_t t0 = NowMicros();
    // Through the runtime's procfs: a mount over the container's /proc/sys cannot take the write.
    if (s.path.compare(0, 10, "/proc/sys/") != 0) Fail(EINVAL, Fmt("sysctl %s: not below /proc/sys", s.path.c_str()));
    if (int err = WriteProcFile(s.path.substr(6), s.value)) Fail(err, Fmt("write %s to %s", s.value.c_str(), s.path.c_str()));
    Event("sysctl", s.path + " = " + s.value, t0);
  }
}

void SetOomScoreAdj(const Plan& plan) {
  if (!plan.has_oom) return;
  uint64_t t0 = NowMicros();
  std::string v = std::to_string(plan.oom_score_adj);
  if (int err = WriteProcFile("self/oom_score_adj", v)) {
    Fail(err, Fmt("set oom_score_adj to %s%s", v.c_str(),
                  err == EACCES || err == EPERM ? " (lowering it needs CAP_SYS_RESOURCE, which this host does not grant)" : ""));
  }
  Event("oom_score_adj", v, t0);
}

void SetRlimits(const Plan& plan) {
  for (const Rlimit& l : plan.rlimits) {
    uint64_t t0 = NowMicros();
    struct rlimit rl = {static_cast<rlim_t>(l.soft), static_cast<rlim_t>(l.hard)};
    if (setrlimit(static_cast<__rlimit_resource>(l.resource), &rl) < 0) {
      int err = errno;
      struct rlimit cur = {};
      getrlimit(static_cast<__rlimit_resource>(l.resource), &cur);
      Fail(err, Fmt("setrlimit %s soft=%llu hard=%llu (current hard limit %llu%s)", RlimitName(l.resource),
                    static_cast<unsigned long long>(l.soft), static_cast<unsigned long long>(l.hard),
                    static_cast<unsigned long long>(cur.rlim_max), err == EPERM ? "; raising a hard limit needs CAP_SYS_RESOURCE" : ""));
    }
    Event("rlimit",
          Fmt("%s %llu/%llu", RlimitName(l.resource), static_cast<unsigned long long>(l.soft), static_cast<unsigned long long>(l.hard)),
          t0);
  }
}

// As runc's fixStdioPermissions: the process's stdio (its terminal too) was made outside the
// container, owned by root; it becomes the process user's, its group kept (the tty group), so a
// uid-1000 shell owns its tty. /dev/null and what is already the user's stay; an owner a user
// namespace cannot map (EINVAL, EPERM) stays too, as runc lets it.
static void FixStdioPermissions(const Plan& plan) {
  for (int fd = 0; fd < 3; fd++) {
    struct stat st;
    if (fstat(fd, &st) < 0 || st.st_uid == plan.uid) continue;
    if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3)) continue;
    if (fchown(fd, plan.uid, st.st_gid) < 0 && errno != EINVAL && errno != EPERM)
      FailErrno(Fmt("chown stdio fd %d to uid %u", fd, plan.uid));
  }
}

void SwitchUser(const Plan& plan) {
  uint64_t t0 = NowMicros();
  FixStdioPermissions(plan);
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) FailErrno("prctl PR_SET_KEEPCAPS");
  std::vector<gid_t> groups(plan.additional_gids.begin(), plan.additional_gids.end());
  if (setgroups(groups.size(), groups.data()) < 0) {
    // A user namespace with setgroups denied can only run with no supplementary groups.
    if (!(errno == EPERM && groups.empty())) FailErrno("setgroups");
  }
  if (setresgid(plan.gid, plan.gid, plan.gid) < 0) FailErrno(Fmt("setresgid %u", plan.gid));
  if (setresuid(plan.uid, plan.uid, plan.uid) < 0) FailErrno(Fmt("setresuid %u", plan.uid));
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) FailErrno("prctl PR_SET_KEEPCAPS");
  if (plan.has_umask) umask(plan.umask);
  Event("user", Fmt("uid=%u gid=%u groups=%zu", plan.uid, plan.gid, groups.size()), t0);
}

std::string EnvValue(const Plan& plan, const std::string& key) {
  for (const std::string& e : plan.env)
    if (e.compare(0, key.size() + 1, key + "=") == 0) return e.substr(key.size() + 1);
  return "";
}

std::string LookupExecutable(const Plan& plan) {
  const std::string& name = plan.args[0];
  if (name.find('/') != std::string::npos) {
    struct stat st;
    if (stat(name.c_str(), &st) < 0) FailErrno(Fmt("exec: %s", name.c_str()));
    if (S_ISDIR(st.st_mode)) Fail(EISDIR, Fmt("exec: %s", name.c_str()));
    return name;
  }
  std::string path = EnvValue(plan, "PATH");
  if (path.empty()) path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  size_t start = 0;
  while (start <= path.size()) {
    size_t colon = path.find(':', start);
    std::string dir = path.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
    if (dir.empty()) dir = ".";
    std::string candidate = dir;
    candidate.append("/").append(name);
    struct stat st;
    if (stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111)) return candidate;
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  Fail(0, Fmt("exec: \"%s\": executable file not found in $PATH", name.c_str()));
}

void CheckCwd(const Plan& plan) {
  struct stat st;
  if (stat(plan.cwd.c_str(), &st) < 0) FailErrno(Fmt("cwd %s", plan.cwd.c_str()));
  if (!S_ISDIR(st.st_mode)) Fail(ENOTDIR, Fmt("cwd %s", plan.cwd.c_str()));
}

bool EnterCwd(const Plan& plan, bool may_be_denied) {
  if (chdir(plan.cwd.c_str()) < 0) {
    if (may_be_denied && (errno == EACCES || errno == EPERM)) return false;
    FailErrno(Fmt("chdir %s", plan.cwd.c_str()));
  }
  char buf[4096];
  // getcwd fails with ENOENT when the directory is outside our root (a leaked host fd).
  if (!getcwd(buf, sizeof buf) || buf[0] != '/') Fail(EPERM, Fmt("cwd %s is outside the container's root", plan.cwd.c_str()));
  return true;
}

int LoadSeccomp(const Plan& plan) {
  if (plan.seccomp_bpf.empty()) return -1;
  uint64_t t0 = NowMicros();
  struct sock_fprog prog;
  prog.len = static_cast<unsigned short>(plan.seccomp_bpf.size() / sizeof(struct sock_filter));
  prog.filter = reinterpret_cast<struct sock_filter*>(const_cast<char*>(plan.seccomp_bpf.data()));
  long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, plan.seccomp_flags, &prog);
  if (rc < 0) FailErrno("load the seccomp filter");
  Event("seccomp", Fmt("%u instructions", prog.len), t0);
  return (plan.seccomp_flags & SECCOMP_FILTER_FLAG_NEW_LISTENER) ? static_cast<int>(rc) : -1;
}

void Exec(const Plan& plan, const std::string& path) {
  sigset_t none;
  sigemptyset(&none);
  for (int s = 1; s < NSIG; s++) signal(s, SIG_DFL);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  std::vector<char*> argv, envp;
  for (const std::string& a : plan.args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const std::string& e : plan.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  execve(path.c_str(), argv.data(), envp.data());
  FailErrno(Fmt("exec %s", path.c_str()));
}

}  // namespace tsrun
