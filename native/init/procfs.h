// The procfs the native stages read and write through: sysctls, oom_score_adj, id maps, time
// offsets, cap_last_cap and the exec fifo's reopen. It is the runtime's own /proc, opened in the
// runtime stage before any namespace is joined or any mount of the config is made, and checked to
// be the root of a real procfs. Files below it are opened with openat2(RESOLVE_BENEATH |
// RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS) and checked to be procfs files, so neither a mount the
// container controls (over /proc/sys/..., /proc/self/...) nor a symlink can send a write (or a
// read the runtime trusts) anywhere else: the CVE-2025-52881 class, which runc closed the same
// way (filepath-securejoin's procfs handle).
#pragma once
#include <string>

namespace tsrun {

// Opens and checks the procfs; first thing in main(), before anything is joined or mounted.
void OpenProcfs();
// The procfs root (O_PATH, close-on-exec), or -1 once closed.
int ProcfsFd();
// Closed before execve (with the other host handles), so the container never holds it.
void CloseProcfs();
// `rel` below the procfs ("sys/net/ipv4/ip_forward", "self/oom_score_adj", "123/uid_map"),
// opened with `flags`; fails naming /proc/<rel> when it cannot be opened or is not procfs's own.
int OpenProcFile(const std::string& rel, int flags);
// Writes `value` to /proc/<rel> in one write(2), as the kernel wants these files written.
// Returns 0, or the errno of the write (the open's failure is reported and exits).
int WriteProcFile(const std::string& rel, const std::string& value);
// The highest capability number this kernel knows (/proc/sys/kernel/cap_last_cap), read once
// from the runtime's procfs: the bounding set is dropped up to it, so it must never come from a
// file the container could have put in its own /proc.
int LastCap();

}  // namespace tsrun
