// What Fail() throws in the fuzz harnesses: a refused input, which is not a finding.
#pragma once
#include <string>

namespace tsrun {
struct FuzzAbort {
  int err;
  std::string what;
};
}  // namespace tsrun
