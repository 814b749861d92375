#include "sealed_exe.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/memfd.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fail.h"

namespace tsrun {

static constexpr int kSeals = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;

void EnsureSealedSelf(char** argv, char** envp) {
  int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (self < 0) FailErrno("open /proc/self/exe");
  int seals = fcntl(self, F_GET_SEALS);
  if (seals >= 0 && (seals & kSeals) == kSeals) {
    close(self);
    return;
  }
  struct stat st;
  if (fstat(self, &st) < 0) FailErrno("stat /proc/self/exe");
  int mem = static_cast<int>(syscall(SYS_memfd_create, "tsrun-init", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (mem < 0) FailErrno("memfd_create");
  for (off_t done = 0; done < st.st_size;) {
    ssize_t n = sendfile(mem, self, nullptr, static_cast<size_t>(st.st_size - done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) FailErrno("copy the init binary into a memfd");
    done += n;
  }
  close(self);
  if (fcntl(mem, F_ADD_SEALS, kSeals) < 0) FailErrno("seal the memfd");
  syscall(SYS_execveat, mem, "", argv, envp, AT_EMPTY_PATH);
  FailErrno("re-execute from the sealed memfd");
}

}  // namespace tsrun
