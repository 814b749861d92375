// fail.h for the fuzz harnesses: Fail() throws instead of reporting over the sync socket and
// exiting, so one input's refusal ends that input, not the fuzzer. Fmt is fail.cc's.
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "../init/fail.h"
#include "fuzz_abort.h"

namespace tsrun {

std::string Fmt(const char* fmt, ...) {
  char buf[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  return buf;
}

void Fail(int err, const std::string& what) { throw FuzzAbort{err, what}; }
void FailErrno(const std::string& what) { Fail(errno, what); }

}  // namespace tsrun
