// The container's filesystem view: mounts in order, device nodes, pivot_root, and what is
// done after it (read-only root, masked and read-only paths, propagation).
#pragma once
#include <string>

#include "plan.h"

namespace tsrun {

// Opened before pivot_root and used after it; both are close-on-exec and closed before execve.
struct HostHandles {
  int proc_fd = -1;   // the host's /proc, to reopen the exec fifo
  int fifo_fd = -1;   // O_PATH fd of the exec fifo, opened by the runtime stage (real root)
};

// In the runtime stage, as real root (mount_setattr needs the filesystem's own user namespace):
// a detached, idmapped copy of the source tree that the init later moves into place.
void PrepareIdmappedMount(MountOp* m);

// Everything up to and including pivot_root. Runs createContainer hooks before pivot_root.
void SetupRootfs(const Plan& plan, const std::string& state_json, HostHandles* host);
// Runs after pivot_root, inside the container's root.
void FinalizeRootfs(const Plan& plan);

}  // namespace tsrun
