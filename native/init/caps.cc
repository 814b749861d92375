#include "caps.h"

#include <errno.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>

#include "fail.h"
#include "procfs.h"
#include "sync.h"

namespace tsrun {

void DropBounding(const Plan& plan) {
  if (!plan.has_caps) return;
  uint64_t t0 = NowMicros();
  int last = LastCap(), dropped = 0;
  for (int c = 0; c <= last; c++) {
    if (plan.cap_bounding & (1ull << c)) continue;
    if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL) FailErrno(Fmt("drop capability %d from the bounding set", c));
    dropped++;
  }
  Event("cap_bounding", Fmt("kept %016llx, dropped %d", static_cast<unsigned long long>(plan.cap_bounding), dropped), t0);
}

void ApplyCapabilities(const Plan& plan) {
  if (!plan.has_caps) return;
  uint64_t t0 = NowMicros();
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2] = {};
  for (int i = 0; i < 2; i++) {
    data[i].effective = static_cast<uint32_t>(plan.cap_effective >> (32 * i));
    data[i].permitted = static_cast<uint32_t>(plan.cap_permitted >> (32 * i));
    data[i].inheritable = static_cast<uint32_t>(plan.cap_inheritable >> (32 * i));
  }
  if (syscall(SYS_capset, &hdr, data) < 0) FailErrno("capset");
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) FailErrno("clear ambient capabilities");
  int last = LastCap();
  for (int c = 0; c <= last; c++) {
    if (!(plan.cap_ambient & (1ull << c))) continue;
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
      FailErrno(Fmt("raise ambient capability %d (it must also be permitted and inheritable)", c));
  }
  Event("capabilities",
        Fmt("effective %016llx permitted %016llx inheritable %016llx ambient %016llx", static_cast<unsigned long long>(plan.cap_effective),
            static_cast<unsigned long long>(plan.cap_permitted), static_cast<unsigned long long>(plan.cap_inheritable),
            static_cast<unsigned long long>(plan.cap_ambient)),
        t0);
}

}  // namespace tsrun
