// The OCI seccomp section compiled with libseccomp into a classic-BPF program, in the runtime
// (parent) process; the container init only loads the bytes.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace tsrun {

struct SeccompArgIn {
  uint32_t index;
  uint64_t value, value_two;
  std::string op;
};
struct SeccompRuleIn {
  std::vector<std::string> names;
  std::string action;
  uint32_t errno_ret;
  bool has_errno;
  std::vector<SeccompArgIn> args;
};
struct SeccompProfileIn {
  std::string default_action;
  uint32_t default_errno;
  bool has_default_errno;
  std::vector<std::string> architectures;
  std::vector<SeccompRuleIn> rules;
};
struct SeccompOut {
  std::string bpf;                   // struct sock_filter[]
  std::vector<std::string> unknown;  // syscall names this libseccomp does not know
  std::string error;                 // non-empty: the profile is invalid
};

SeccompOut CompileSeccomp(const SeccompProfileIn& profile);

}  // namespace tsrun
