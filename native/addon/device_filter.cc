#include "device_filter.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace tsrun {

namespace {

bpf_insn Insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn i = {};
  i.code = code;
  i.dst_reg = dst;
  i.src_reg = src;
  i.off = off;
  i.imm = imm;
  return i;
}

long Bpf(int cmd, bpf_attr* attr) { return syscall(SYS_bpf, cmd, attr, sizeof *attr); }

std::string Err(const char* what) { return std::string(what) + ": " + strerror(errno); }

// r2 = device type, r3 = requested access, r4 = major, r5 = minor. Rules are checked last to
// first and the first match decides, so a later rule overrides an earlier one (as writes to
// the v1 devices.allow/deny files do). No match: deny.
std::vector<bpf_insn> Program(const std::vector<DeviceRuleIn>& rules) {
  std::vector<bpf_insn> p = {
      Insn(BPF_LDX | BPF_W | BPF_MEM, 2, 1, 0, 0), Insn(BPF_ALU | BPF_AND | BPF_K, 2, 0, 0, 0xFFFF),
      Insn(BPF_LDX | BPF_W | BPF_MEM, 3, 1, 0, 0), Insn(BPF_ALU | BPF_RSH | BPF_K, 3, 0, 0, 16),
      Insn(BPF_LDX | BPF_W | BPF_MEM, 4, 1, 4, 0), Insn(BPF_LDX | BPF_W | BPF_MEM, 5, 1, 8, 0),
  };
  bool matched_all = false;
  for (auto it = rules.rbegin(); it != rules.rend() && !matched_all; ++it) {
    std::vector<bpf_insn> checks;
    if (it->type == 'c' || it->type == 'b')
      checks.push_back(Insn(BPF_JMP | BPF_JNE | BPF_K, 2, 0, 0, it->type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK));
    int mask = 0;
    for (char c : it->access) mask |= c == 'r' ? BPF_DEVCG_ACC_READ : c == 'w' ? BPF_DEVCG_ACC_WRITE : c == 'm' ? BPF_DEVCG_ACC_MKNOD : 0;
    if (mask != (BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD)) {
      // The requested access must be within the rule's: (r3 & ~mask) == 0.
      checks.push_back(Insn(BPF_ALU | BPF_MOV | BPF_X, 1, 3, 0, 0));
      checks.push_back(Insn(BPF_ALU | BPF_AND | BPF_K, 1, 0, 0, ~mask));
      checks.push_back(Insn(BPF_JMP | BPF_JNE | BPF_K, 1, 0, 0, 0));
    }
    if (it->major >= 0) checks.push_back(Insn(BPF_JMP | BPF_JNE | BPF_K, 4, 0, 0, static_cast<int32_t>(it->major)));
    if (it->minor >= 0) checks.push_back(Insn(BPF_JMP | BPF_JNE | BPF_K, 5, 0, 0, static_cast<int32_t>(it->minor)));
    // Each check jumps past this block (to the next rule) on mismatch.
    int16_t n = static_cast<int16_t>(checks.size());
    for (int16_t i = 0; i < n; i++) {
      if (BPF_CLASS(checks[i].code) == BPF_JMP) checks[i].off = static_cast<int16_t>(n - i - 1 + 2);
      p.push_back(checks[i]);
    }
    p.push_back(Insn(BPF_ALU | BPF_MOV | BPF_K, 0, 0, 0, it->allow ? 1 : 0));
    p.push_back(Insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
    // A rule that matches everything decides every access: what follows would be
    // unreachable, which the verifier refuses.
    matched_all = checks.empty();
  }
  if (!matched_all) {
    p.push_back(Insn(BPF_ALU | BPF_MOV | BPF_K, 0, 0, 0, 0));
    p.push_back(Insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
  }
  return p;
}

}  // namespace

std::string AttachDeviceFilter(const std::string& cgroup_dir, const std::vector<DeviceRuleIn>& rules) {
  std::vector<bpf_insn> prog = Program(rules);
  bpf_attr load = {};
  load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  load.insns = reinterpret_cast<uint64_t>(prog.data());
  load.insn_cnt = static_cast<uint32_t>(prog.size());
  load.license = reinterpret_cast<uint64_t>("Apache");
  int prog_fd = static_cast<int>(Bpf(BPF_PROG_LOAD, &load));
  if (prog_fd < 0) {
    // Load again with the verifier's log, only to explain the failure (a log that does not
    // fit its buffer would itself fail the load on some kernels).
    std::string error = Err("load the device eBPF program");
    static char log[65536];
    log[0] = 0;
    load.log_buf = reinterpret_cast<uint64_t>(log);
    load.log_size = sizeof log;
    load.log_level = 1;
    int again = static_cast<int>(Bpf(BPF_PROG_LOAD, &load));
    if (again >= 0) close(again);
    return error + (log[0] ? std::string(" (verifier: ") + log + ")" : "");
  }
  int cg = open(cgroup_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cg < 0) {
    close(prog_fd);
    return Err(("open " + cgroup_dir).c_str());
  }
  // Programs attached before (an earlier create or update) are replaced.
  uint32_t ids[64] = {};
  bpf_attr query = {};
  query.query.target_fd = static_cast<uint32_t>(cg);
  query.query.attach_type = BPF_CGROUP_DEVICE;
  query.query.prog_ids = reinterpret_cast<uint64_t>(ids);
  query.query.prog_cnt = 64;
  uint32_t old_count = Bpf(BPF_PROG_QUERY, &query) == 0 ? query.query.prog_cnt : 0;

  bpf_attr attach = {};
  attach.target_fd = static_cast<uint32_t>(cg);
  attach.attach_bpf_fd = static_cast<uint32_t>(prog_fd);
  attach.attach_type = BPF_CGROUP_DEVICE;
  attach.attach_flags = BPF_F_ALLOW_MULTI;
  std::string error;
  if (Bpf(BPF_PROG_ATTACH, &attach) < 0) error = Err(("attach the device eBPF program to " + cgroup_dir).c_str());
  for (uint32_t i = 0; error.empty() && i < old_count; i++) {
    bpf_attr get = {};
    get.prog_id = ids[i];
    int old_fd = static_cast<int>(Bpf(BPF_PROG_GET_FD_BY_ID, &get));
    if (old_fd < 0) continue;
    bpf_attr detach = {};
    detach.target_fd = static_cast<uint32_t>(cg);
    detach.attach_bpf_fd = static_cast<uint32_t>(old_fd);
    detach.attach_type = BPF_CGROUP_DEVICE;
    if (Bpf(BPF_PROG_DETACH, &detach) < 0) error = Err("detach the previous device eBPF program");
    close(old_fd);
  }
  close(cg);
  close(prog_fd);
  return error;
}

}  // namespace tsrun
