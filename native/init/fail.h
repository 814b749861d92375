// One error shape for the native stages: errno + a message naming the syscall and path.
// The error goes to the runtime over the sync socket (or stderr when there is none), then the
// stage exits; nothing is reported twice.
#pragma once
#include <string>

namespace tsrun {

[[noreturn]] void Fail(int err, const std::string& what);
// Fail with errno, e.g. FailErrno("mount proc on /proc").
[[noreturn]] void FailErrno(const std::string& what);

// printf-style helper for messages.
std::string Fmt(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

}  // namespace tsrun
