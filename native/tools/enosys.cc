// tsrun-enosys: runs a program as if the kernel lacked some system calls, for tests of how tsrun
// copes with older kernels (e.g. no mount_setattr before Linux 5.12). A seccomp filter, inherited
// by every child, makes each listed syscall number fail with ENOSYS.
//   tsrun-enosys NR[,NR...] PROGRAM [ARGS...]
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <string>
#include <vector>

#if defined(__x86_64__)
constexpr uint32_t kArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
constexpr uint32_t kArch = AUDIT_ARCH_AARCH64;
#else
#error "tsrun-enosys: unknown architecture"
#endif

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: tsrun-enosys NR[,NR...] PROGRAM [ARGS...]\n");
    return 2;
  }
  std::vector<uint32_t> nrs;
  for (const char* p = argv[1]; *p;) {
    char* end;
    nrs.push_back(static_cast<uint32_t>(strtoul(p, &end, 10)));
    if (end == p || (*end && *end != ',')) {
      fprintf(stderr, "tsrun-enosys: bad syscall number list %s\n", argv[1]);
      return 2;
    }
    p = *end ? end + 1 : end;
  }
  std::vector<sock_filter> prog = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      // Another ABI (e.g. 32-bit on x86_64) numbers syscalls differently: leave it alone.
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kArch, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
  };
  for (uint32_t nr : nrs) {
    prog.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 1));
    prog.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS));
  }
  prog.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
  sock_fprog fprog = {static_cast<unsigned short>(prog.size()), prog.data()};
  // Without CAP_SYS_ADMIN a filter needs no_new_privs; as root we keep exec semantics unchanged.
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog) < 0) {
    if (errno != EACCES || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog) < 0) {
      fprintf(stderr, "tsrun-enosys: install the seccomp filter: %s\n", strerror(errno));
      return 1;
    }
  }
  execvp(argv[2], argv + 2);
  fprintf(stderr, "tsrun-enosys: exec %s: %s\n", argv[2], strerror(errno));
  return 127;
}
