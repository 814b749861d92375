// The container's init, started by the monitor for the CRI server's in-process create.
#pragma once
#include <sys/types.h>

#include <string>

namespace monitor {

// fork + exec of the native init binary with `init_sync` as its fd 3 (the server holds the
// other end and speaks the sync protocol) and `in`, `out`, `err` as fds 0-2. Its first stage
// exits once it has reported the init's pid, and the init, reparented to us (a subreaper),
// becomes our child. -1 with errno on failure.
pid_t SpawnInit(const std::string& binary, int init_sync, int in, int out, int err);

}  // namespace monitor
