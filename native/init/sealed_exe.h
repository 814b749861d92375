// CVE-2019-5736: a process in the container must never reach the runtime's binary for writing
// through /proc/PID/exe. The init re-executes itself from a sealed, read-only memfd copy.
#pragma once

namespace tsrun {

// Returns if already running from a sealed memfd; otherwise copies itself and re-executes.
void EnsureSealedSelf(char** argv, char** envp);

}  // namespace tsrun
