#include "plan.h"

#include <sched.h>

#include <cstring>

#include "fail.h"

namespace tsrun {

namespace {

// A bounds-checked reader over one record's payload.
class Reader {
 public:
  Reader(const char* p, size_t n, uint16_t tag) : p_(p), end_(p + n), tag_(tag) {}
  template <typename T>
  T Int() {
    T v;
    Need(sizeof v);
    memcpy(&v, p_, sizeof v);
    p_ += sizeof v;
    return v;
  }
  std::string Rest() {
    std::string s(p_, end_);
    p_ = end_;
    return s;
  }
  std::string CStr() {
    const char* z = static_cast<const char*>(memchr(p_, '\0', end_ - p_));
    if (!z) Fail(0, Fmt("plan record %u: unterminated string", tag_));
    std::string s(p_, z);
    p_ = z + 1;
    return s;
  }

 private:
  void Need(size_t n) {
    if (static_cast<size_t>(end_ - p_) < n) Fail(0, Fmt("plan record %u: too short", tag_));
  }
  const char* p_;
  const char* end_;
  uint16_t tag_;
};

}  // namespace

Plan DecodePlan(const std::string& bytes) {
  Plan plan;
  if (bytes.size() < 8 || memcmp(bytes.data(), "TSPL", 4) != 0) Fail(0, "plan: bad header");
  uint32_t version;
  memcpy(&version, bytes.data() + 4, 4);
  if (version != 1) Fail(0, Fmt("plan: unsupported version %u", version));
  size_t off = 8;
  while (off < bytes.size()) {
    if (bytes.size() - off < 6) Fail(0, "plan: truncated record header");
    uint16_t tag;
    uint32_t len;
    memcpy(&tag, bytes.data() + off, 2);
    memcpy(&len, bytes.data() + off + 2, 4);
    off += 6;
    if (bytes.size() - off < len) Fail(0, Fmt("plan record %u: truncated", tag));
    Reader r(bytes.data() + off, len, tag);
    off += len;
    switch (tag) {
      case kMode:
        plan.mode = r.Int<uint32_t>();
        break;
      case kForeground:
        plan.foreground = r.Int<uint32_t>();
        break;
      case kCloneFlags:
        plan.clone_flags = r.Int<uint64_t>();
        break;
      case kJoinNs: {
        JoinNs j;
        j.type = r.Int<uint32_t>();
        j.path = r.Rest();
        plan.join.push_back(j);
        break;
      }
      case kUidMap:
        plan.uid_map = r.Rest();
        break;
      case kGidMap:
        plan.gid_map = r.Rest();
        break;
      case kIdMapHelpers:
        plan.newuidmap = r.CStr();
        plan.newgidmap = r.CStr();
        break;
      case kSetgroupsDeny:
        plan.setgroups_deny = r.Int<uint32_t>();
        break;
      case kTimensOffsets:
        plan.timens_offsets = r.Rest();
        break;
      case kRootfs:
        plan.rootfs = r.Rest();
        break;
      case kRootReadonly:
        plan.root_readonly = r.Int<uint32_t>();
        break;
      case kRootPropagation:
        plan.root_propagation = r.Int<uint64_t>();
        break;
      case kMount: {
        MountOp m;
        m.flags = r.Int<uint64_t>();
        m.propagation = r.Int<uint64_t>();
        m.kind = r.Int<uint32_t>();
        m.source = r.CStr();
        m.dest = r.CStr();
        m.type = r.CStr();
        m.data = r.CStr();
        plan.mounts.push_back(m);
        break;
      }
      case kDevice: {
        Device d;
        d.type = r.Int<uint32_t>();
        d.major = r.Int<uint32_t>();
        d.minor = r.Int<uint32_t>();
        d.mode = r.Int<uint32_t>();
        d.uid = r.Int<uint32_t>();
        d.gid = r.Int<uint32_t>();
        d.path = r.Rest();
        plan.devices.push_back(d);
        break;
      }
      case kSetupDev:
        plan.setup_dev = r.Int<uint32_t>();
        break;
      case kMaskedPath:
        plan.masked.push_back(r.Rest());
        break;
      case kReadonlyPath:
        plan.readonly.push_back(r.Rest());
        break;
      case kHostname:
        plan.has_hostname = true;
        plan.hostname = r.Rest();
        break;
      case kDomainname:
        plan.has_domainname = true;
        plan.domainname = r.Rest();
        break;
      case kSysctl: {
        Sysctl s;
        s.path = r.CStr();
        s.value = r.Rest();
        plan.sysctls.push_back(s);
        break;
      }
      case kRlimit: {
        Rlimit l;
        l.resource = r.Int<uint32_t>();
        l.soft = r.Int<uint64_t>();
        l.hard = r.Int<uint64_t>();
        plan.rlimits.push_back(l);
        break;
      }
      case kOomScoreAdj:
        plan.has_oom = true;
        plan.oom_score_adj = r.Int<int32_t>();
        break;
      case kUid:
        plan.uid = r.Int<uint32_t>();
        break;
      case kGid:
        plan.gid = r.Int<uint32_t>();
        break;
      case kAdditionalGid:
        plan.additional_gids.push_back(r.Int<uint32_t>());
        break;
      case kUmask:
        plan.has_umask = true;
        plan.umask = r.Int<uint32_t>();
        break;
      case kCwd:
        plan.cwd = r.Rest();
        break;
      case kEnv:
        plan.env.push_back(r.Rest());
        break;
      case kArg:
        plan.args.push_back(r.Rest());
        break;
      case kTerminal:
        plan.terminal = r.Int<uint32_t>();
        break;
      case kConsoleSocket:
        plan.console_socket = r.Rest();
        break;
      case kNoNewPrivs:
        plan.no_new_privs = r.Int<uint32_t>();
        break;
      case kCaps:
        plan.has_caps = true;
        plan.cap_bounding = r.Int<uint64_t>();
        plan.cap_effective = r.Int<uint64_t>();
        plan.cap_inheritable = r.Int<uint64_t>();
        plan.cap_permitted = r.Int<uint64_t>();
        plan.cap_ambient = r.Int<uint64_t>();
        break;
      case kExecFifo:
        plan.exec_fifo = r.Rest();
        break;
      case kHook: {
        Hook h;
        h.phase = r.Int<uint32_t>();
        h.timeout = r.Int<uint32_t>();
        uint32_t argc = r.Int<uint32_t>(), envc = r.Int<uint32_t>();
        h.path = r.CStr();
        for (uint32_t i = 0; i < argc; i++) h.args.push_back(r.CStr());
        for (uint32_t i = 0; i < envc; i++) h.env.push_back(r.CStr());
        plan.hooks.push_back(h);
        break;
      }
      case kPreserveFds:
        plan.preserve_fds = r.Int<uint32_t>();
        break;
      case kEvents:
        plan.events = r.Int<uint32_t>();
        break;
      case kNoPivot:
        plan.no_pivot = r.Int<uint32_t>();
        break;
      case kSeccompBpf:
        plan.seccomp_bpf = r.Rest();
        break;
      case kSeccompFlags:
        plan.seccomp_flags = r.Int<uint32_t>();
        break;
      case kSeccompListener:
        plan.seccomp_listener = r.Rest();
        break;
      case kSeccompListenerPrefix:
        plan.seccomp_listener_prefix = r.Rest();
        break;
      case kMountIdmap: {
        uint32_t index = r.Int<uint32_t>();
        if (index >= plan.mounts.size()) Fail(0, Fmt("plan: idmap for mount %u, which does not exist", index));
        plan.mounts[index].uid_map = r.CStr();
        plan.mounts[index].gid_map = r.Rest();
        break;
      }
      case kCgroupTasks:
        plan.cgroup_tasks.push_back(r.Rest());
        break;
      case kCloneIntoCgroup:
        plan.clone_into_cgroup = r.Rest();
        break;
      case kMountAttr: {
        uint32_t index = r.Int<uint32_t>();
        if (index >= plan.mounts.size()) Fail(0, Fmt("plan: recursive options for mount %u, which does not exist", index));
        MountOp& m = plan.mounts[index];
        m.has_attr = true;
        m.attr_set = r.Int<uint64_t>();
        m.attr_clr = r.Int<uint64_t>();
        break;
      }
      default:
        Fail(0, Fmt("plan: unknown record tag %u", tag));
    }
  }
  if (plan.mode != 1 && plan.mode != 2) Fail(0, "plan: no mode");
  if (plan.args.empty()) Fail(0, "plan: no process args");
  return plan;
}

bool HasMountNamespace(const Plan& plan) {
  if (plan.clone_flags & CLONE_NEWNS) return true;
  for (const JoinNs& j : plan.join)
    if (j.type == CLONE_NEWNS) return true;
  return false;
}

}  // namespace tsrun
