// cgroup v2 device control: an eBPF program (BPF_PROG_TYPE_CGROUP_DEVICE) built from the
// device rules, attached to the container's cgroup, replacing any program attached before.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace tsrun {

struct DeviceRuleIn {
  bool allow;
  char type;           // 'a', 'c' or 'b'
  int64_t major;       // -1: any
  int64_t minor;       // -1: any
  std::string access;  // subset of "rwm"
};

// Returns "" on success, else an error naming the step (errno text included).
std::string AttachDeviceFilter(const std::string& cgroup_dir, const std::vector<DeviceRuleIn>& rules);

}  // namespace tsrun
