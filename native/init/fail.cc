#include "fail.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sync.h"

namespace tsrun {

std::string Fmt(const char* fmt, ...) {
  char buf[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  return buf;
}

void Fail(int err, const std::string& what) {
  std::string msg = err ? what + ": " + strerror(err) : what;
  if (g_sync_fd >= 0) {
    std::string payload = std::to_string(err);
    payload += '\0';
    payload += msg;
    WriteFrame(g_sync_fd, kErrorFrame, payload);
  } else {
    fprintf(stderr, "tsrun-init: %s\n", msg.c_str());
  }
  _exit(1);
}

void FailErrno(const std::string& what) { Fail(errno, what); }

}  // namespace tsrun
