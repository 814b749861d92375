// The container's filesystem view: mounts in order, device nodes, pivot_root, and what is
// done after it (read-only root, masked and read-only paths, propagation).
#pragma once
#include <string>

#include "plan.h"

namespace tsrun {

// Opened before pivot_root and used after it; close-on-exec and closed before execve (as is the
// runtime's procfs, procfs.h, through which the fifo is reopened).
struct HostHandles {
  int fifo_fd = -1;  // O_PATH fd of the exec fifo, opened by the runtime stage (real root)
};

// In the runtime stage, as real root (mount_setattr needs the filesystem's own user namespace):
// a detached, idmapped copy of the source tree that the init later moves into place.
void PrepareIdmappedMount(MountOp* m);

// In a new user namespace the init cannot reach a bind source that its root may not (a host
// directory only host root enters). The runtime stage, still real root, joins the init's fresh
// mount namespace, opens each such source there (O_PATH) and passes the fds over `sock`; the init
// binds them through /proc/self/fd, as runc's nsexec passes its "mount sources". Opened in the
// init's namespace, the mounts keep the locks that namespace puts on host mount flags.
bool NeedsSourceFd(const Plan& plan, const MountOp& m);
void SendMountSources(const Plan& plan, pid_t init, int sock);
void ReceiveMountSources(Plan* plan, int sock);

// Bind-mounts what src_fd is onto `path` (relative to dirfd; "" for dirfd itself) with
// open_tree + move_mount: no /proc/self/fd path is resolved in the container's /proc, which a
// mount there could redirect (the CVE-2025-52881 and CVE-2025-52565 classes).
void BindFdOnto(int src_fd, int dirfd, const std::string& path, const std::string& what);

// Everything up to and including pivot_root. Runs createContainer hooks before pivot_root.
void SetupRootfs(const Plan& plan, const std::string& state_json);
// Runs after pivot_root, inside the container's root.
void FinalizeRootfs(const Plan& plan);

}  // namespace tsrun
