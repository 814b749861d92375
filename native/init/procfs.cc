#include "procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fail.h"

namespace tsrun {

namespace {

constexpr ino_t kProcRootIno = 1;  // PROC_ROOT_INO in fs/proc/internal.h
int g_procfs = -1;
int g_last_cap = -1;

bool IsProcfs(int fd) {
  struct statfs sfs;
  return fstatfs(fd, &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC;
}

int ReadLastCap() {
  int fd = OpenProcFile("sys/kernel/cap_last_cap", O_RDONLY);
  char buf[16] = {};
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  char* end = nullptr;
  long v = n > 0 ? strtol(buf, &end, 10) : -1;
  if (n <= 0 || end == buf || v < 0 || v > 63) Fail(0, Fmt("/proc/sys/kernel/cap_last_cap: unexpected value \"%s\"", buf));
  return static_cast<int>(v);
}

}  // namespace

void OpenProcfs() {
  int fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) FailErrno("open the runtime's /proc");
  struct stat st;
  if (fstat(fd, &st) < 0) FailErrno("stat the runtime's /proc");
  if (!IsProcfs(fd) || st.st_ino != kProcRootIno)
    Fail(0, "the runtime's /proc is not the root of a procfs mount (something is mounted over it)");
  g_procfs = fd;
  g_last_cap = ReadLastCap();
}

int ProcfsFd() { return g_procfs; }

void CloseProcfs() {
  if (g_procfs >= 0) close(g_procfs);
  g_procfs = -1;
}

int OpenProcFile(const std::string& rel, int flags) {
  if (g_procfs < 0) Fail(EBADF, Fmt("open /proc/%s: the runtime's procfs is closed", rel.c_str()));
  struct open_how how = {};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC | O_NOFOLLOW);
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS;
  long fd;
  do fd = syscall(SYS_openat2, g_procfs, rel.c_str(), &how, sizeof how);
  while (fd < 0 && errno == EAGAIN);
  if (fd < 0) {
    int err = errno;
    // EXDEV: a mount covers part of the path; ELOOP: a symlink or magic link is in the way.
    Fail(err, Fmt("open /proc/%s%s", rel.c_str(), err == EXDEV ? " (a mount covers it: refusing to go through it)" : ""));
  }
  if (!IsProcfs(static_cast<int>(fd))) Fail(EXDEV, Fmt("/proc/%s is not a procfs file: refusing to use it", rel.c_str()));
  return static_cast<int>(fd);
}

int WriteProcFile(const std::string& rel, const std::string& value) {
  int fd = OpenProcFile(rel, O_WRONLY);
  ssize_t n = write(fd, value.data(), value.size());
  int err = n < 0 ? errno : 0;
  close(fd);
  if (n >= 0 && static_cast<size_t>(n) != value.size()) err = EIO;
  return err;
}

int LastCap() { return g_last_cap >= 0 ? g_last_cap : CAP_LAST_CAP; }

}  // namespace tsrun
