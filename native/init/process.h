// The process's own settings: hostname, sysctls, rlimits, oom score, identity, the
// executable lookup, and the last steps before execve.
#pragma once
#include <string>

#include "plan.h"

namespace tsrun {

void SetHostnames(const Plan& plan);
void WriteSysctls(const Plan& plan);
void SetOomScoreAdj(const Plan& plan);
void SetRlimits(const Plan& plan);
// setgroups/setresgid/setresuid keeping capabilities, so ApplyCapabilities can set them after.
void SwitchUser(const Plan& plan);
// Resolves args[0] through the container's PATH; fails like runc when it is missing.
std::string LookupExecutable(const Plan& plan);
// Checks that cwd exists in the container (before READY, so create fails early).
void CheckCwd(const Plan& plan);
// chdir to process.cwd, refusing a cwd outside the container's root (CVE-2024-21626: a leaked
// fd through /proc/self/fd). With may_be_denied, EACCES/EPERM returns false instead of failing.
bool EnterCwd(const Plan& plan, bool may_be_denied);
// Returns the notify listener fd when the filter has SCMP_ACT_NOTIFY rules, else -1.
int LoadSeccomp(const Plan& plan);
// Restores default signal dispositions and an empty mask, then execve.
[[noreturn]] void Exec(const Plan& plan, const std::string& path);
// The value of a variable in the container's environment, or "".
std::string EnvValue(const Plan& plan, const std::string& key);

}  // namespace tsrun
