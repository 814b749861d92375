#include "resolve.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fail.h"

namespace tsrun {

int OpenInRoot(int root_fd, const std::string& path, int flags) {
  struct open_how how = {};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  std::string rel = path;
  while (!rel.empty() && rel[0] == '/') rel.erase(0, 1);
  if (rel.empty()) rel = ".";
  for (;;) {
    long fd = syscall(SYS_openat2, root_fd, rel.c_str(), &how, sizeof how);
    if (fd >= 0 || errno != EAGAIN) return static_cast<int>(fd);  // EAGAIN: a rename raced; retry
  }
}

void SplitPath(const std::string& path, std::string* parent, std::string* name) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  size_t slash = p.rfind('/');
  if (slash == std::string::npos) {
    *parent = "/";
    *name = p;
  } else {
    *parent = slash == 0 ? "/" : p.substr(0, slash);
    *name = p.substr(slash + 1);
  }
}

std::string FdPath(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

static int MkdirAllDepth(int root_fd, const std::string& path, mode_t mode, int depth);

int MkdirAllInRoot(int root_fd, const std::string& path, mode_t mode) { return MkdirAllDepth(root_fd, path, mode, 0); }

static int MkdirAllDepth(int root_fd, const std::string& path, mode_t mode, int depth) {
  if (depth > 40) Fail(ELOOP, Fmt("mkdir %s in the rootfs", path.c_str()));
  int fd = OpenInRoot(root_fd, path, O_PATH | O_DIRECTORY);
  if (fd >= 0) return fd;
  if (errno != ENOENT) FailErrno(Fmt("open %s in the rootfs", path.c_str()));
  std::string parent, name;
  SplitPath(path, &parent, &name);
  if (name.empty() || name == "." || name == "..") Fail(EINVAL, Fmt("mkdir %s in the rootfs", path.c_str()));
  int parent_fd = MkdirAllDepth(root_fd, parent, mode, depth + 1);
  if (mkdirat(parent_fd, name.c_str(), mode) < 0 && errno != EEXIST) FailErrno(Fmt("mkdir %s in the rootfs", path.c_str()));
  // A dangling symlink is in the way: make its target, resolved inside the rootfs (as runc's
  // securejoin does), so the mount lands where the link points within the container.
  char link[4096];
  ssize_t n = readlinkat(parent_fd, name.c_str(), link, sizeof link - 1);
  close(parent_fd);
  if (n > 0) {
    link[n] = 0;
    std::string target = link[0] == '/' ? std::string(link) : (parent == "/" ? "" : parent) + "/" + link;
    close(MkdirAllDepth(root_fd, target, mode, depth + 1));
  }
  fd = OpenInRoot(root_fd, path, O_PATH | O_DIRECTORY);
  if (fd < 0) FailErrno(Fmt("open %s in the rootfs (a dangling symlink or not a directory?)", path.c_str()));
  return fd;
}

int MakeTargetInRoot(int root_fd, const std::string& path, bool directory) {
  if (directory) return MkdirAllInRoot(root_fd, path, 0755);
  int fd = OpenInRoot(root_fd, path, O_PATH);
  if (fd >= 0) return fd;
  if (errno != ENOENT) FailErrno(Fmt("open %s in the rootfs", path.c_str()));
  std::string parent, name;
  SplitPath(path, &parent, &name);
  int parent_fd = MkdirAllInRoot(root_fd, parent, 0755);
  int created = openat(parent_fd, name.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (created < 0 && errno != EEXIST) FailErrno(Fmt("create %s in the rootfs", path.c_str()));
  if (created >= 0) close(created);
  close(parent_fd);
  fd = OpenInRoot(root_fd, path, O_PATH);
  if (fd < 0) FailErrno(Fmt("open %s in the rootfs", path.c_str()));
  return fd;
}

}  // namespace tsrun
