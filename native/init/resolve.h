// Paths inside the container's root, resolved by the kernel as if the rootfs were "/"
// (openat2 RESOLVE_IN_ROOT): a symlink in the image can never lead a mount or a device
// node out of the rootfs.
#pragma once
#include <sys/types.h>

#include <string>

namespace tsrun {

// O_PATH fd of `path` inside root_fd, or -1 with errno set.
int OpenInRoot(int root_fd, const std::string& path, int flags);
// Makes every missing directory of `path` (mkdir -p) inside root_fd; returns an O_PATH fd of it.
int MkdirAllInRoot(int root_fd, const std::string& path, mode_t mode);
// Makes `path` exist inside root_fd as a directory or an empty file (a mount target);
// returns its O_PATH fd.
int MakeTargetInRoot(int root_fd, const std::string& path, bool directory);
// Splits "/a/b/c" into parent "/a/b" and name "c".
void SplitPath(const std::string& path, std::string* parent, std::string* name);
// "/proc/self/fd/N" for an fd: lets mount(2) act on exactly what was resolved.
std::string FdPath(int fd);

}  // namespace tsrun
