#include "seccomp.h"

#include <errno.h>
#include <seccomp.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>

namespace tsrun {

namespace {

bool Action(const std::string& name, bool has_errno, uint32_t errno_ret, uint32_t* out) {
  uint32_t e = has_errno ? errno_ret : EPERM;
  if (name == "SCMP_ACT_KILL" || name == "SCMP_ACT_KILL_THREAD") *out = SCMP_ACT_KILL_THREAD;
  else if (name == "SCMP_ACT_KILL_PROCESS") *out = SCMP_ACT_KILL_PROCESS;
  else if (name == "SCMP_ACT_TRAP") *out = SCMP_ACT_TRAP;
  else if (name == "SCMP_ACT_ERRNO") *out = SCMP_ACT_ERRNO(e);
  else if (name == "SCMP_ACT_TRACE") *out = SCMP_ACT_TRACE(e);
  else if (name == "SCMP_ACT_ALLOW") *out = SCMP_ACT_ALLOW;
  else if (name == "SCMP_ACT_LOG") *out = SCMP_ACT_LOG;
  else if (name == "SCMP_ACT_NOTIFY") *out = SCMP_ACT_NOTIFY;
  else return false;
  return true;
}

bool Op(const std::string& name, scmp_compare* out) {
  static const std::pair<const char*, scmp_compare> ops[] = {{"SCMP_CMP_NE", SCMP_CMP_NE},
                                                             {"SCMP_CMP_LT", SCMP_CMP_LT},
                                                             {"SCMP_CMP_LE", SCMP_CMP_LE},
                                                             {"SCMP_CMP_EQ", SCMP_CMP_EQ},
                                                             {"SCMP_CMP_GE", SCMP_CMP_GE},
                                                             {"SCMP_CMP_GT", SCMP_CMP_GT},
                                                             {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ}};
  for (auto& [n, v] : ops)
    if (name == n) {
      *out = v;
      return true;
    }
  return false;
}

std::string Errno(const char* what, int rc) { return std::string(what) + ": " + strerror(-rc); }

}  // namespace

SeccompOut CompileSeccomp(const SeccompProfileIn& p) {
  SeccompOut out;
  uint32_t def;
  if (!Action(p.default_action, p.has_default_errno, p.default_errno, &def)) {
    out.error = "defaultAction: unknown action " + p.default_action;
    return out;
  }
  scmp_filter_ctx ctx = seccomp_init(def);
  if (!ctx) {
    out.error = "seccomp_init failed";
    return out;
  }
  // Without this, a filter compiled for x86_64 kills x32 callers instead of applying the default.
  seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
  for (const std::string& arch : p.architectures) {
    std::string name = arch.rfind("SCMP_ARCH_", 0) == 0 ? arch.substr(10) : arch;
    std::transform(name.begin(), name.end(), name.begin(), ::tolower);
    uint32_t token = seccomp_arch_resolve_name(name.c_str());
    if (!token) {
      out.error = "architectures: unknown architecture " + arch;
      break;
    }
    int rc = seccomp_arch_add(ctx, token);
    if (rc < 0 && rc != -EEXIST) {
      out.error = Errno(("architectures: add " + arch).c_str(), rc);
      break;
    }
  }
  for (size_t i = 0; out.error.empty() && i < p.rules.size(); i++) {
    const SeccompRuleIn& r = p.rules[i];
    uint32_t act;
    if (!Action(r.action, r.has_errno, r.errno_ret, &act)) {
      out.error = "syscalls[" + std::to_string(i) + "].action: unknown action " + r.action;
      break;
    }
    if (act == def) continue;  // libseccomp refuses a rule that repeats the default
    std::vector<scmp_arg_cmp> cmps;
    for (const SeccompArgIn& a : r.args) {
      scmp_compare op;
      if (!Op(a.op, &op) || a.index > 5) {
        out.error = "syscalls[" + std::to_string(i) + "].args: bad index or op " + a.op;
        break;
      }
      cmps.push_back(scmp_arg_cmp{a.index, op, a.value, a.value_two});
    }
    // libseccomp refuses two comparisons of one argument in a rule (EINVAL): then each
    // condition becomes a rule of its own, OR'd, as runc does. Otherwise they are AND'd.
    bool arg_twice = false;
    for (size_t a = 0; a < cmps.size(); a++)
      for (size_t b = a + 1; b < cmps.size(); b++) arg_twice |= cmps[a].arg == cmps[b].arg;
    std::vector<std::vector<scmp_arg_cmp>> sets;
    if (arg_twice)
      for (const scmp_arg_cmp& c : cmps) sets.push_back({c});
    else sets.push_back(cmps);
    for (const std::string& name : r.names) {
      if (!out.error.empty()) break;
      int nr = seccomp_syscall_resolve_name(name.c_str());
      if (nr == __NR_SCMP_ERROR) {
        out.unknown.push_back(name);
        continue;
      }
      for (const std::vector<scmp_arg_cmp>& set : sets) {
        int rc = seccomp_rule_add_array(ctx, act, nr, static_cast<unsigned>(set.size()), set.data());
        if (rc < 0) {
          out.error = Errno(("syscalls[" + std::to_string(i) + "]: rule for " + name).c_str(), rc);
          break;
        }
      }
    }
  }
  if (out.error.empty()) {
    int fd = memfd_create("seccomp-bpf", MFD_CLOEXEC);
    int rc = fd < 0 ? -errno : seccomp_export_bpf(ctx, fd);
    if (rc < 0) {
      out.error = Errno("export the seccomp filter", rc);
    } else {
      off_t size = lseek(fd, 0, SEEK_END);
      out.bpf.resize(static_cast<size_t>(size));
      if (pread(fd, &out.bpf[0], out.bpf.size(), 0) != size) out.error = "read the exported seccomp filter";
    }
    if (fd >= 0) close(fd);
  }
  seccomp_release(ctx);
  return out;
}

}  // namespace tsrun
