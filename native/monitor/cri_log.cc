#include "cri_log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

namespace monitor {

static int OpenAppend(const std::string& path, bool* created) {
  int fd = open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    if (created) *created = true;
    return fd;
  }
  if (errno != EEXIST) return -1;
  if (created) *created = false;
  return open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
}

bool CriLog::Open(const std::string& path, bool* created) {
  path_ = path;
  fd_ = OpenAppend(path, created);
  return fd_ >= 0;
}

bool CriLog::Reopen() {
  if (path_.empty()) return true;
  int fd = OpenAppend(path_, nullptr);
  if (fd < 0) return false;
  if (fd_ >= 0) close(fd_);
  fd_ = fd;
  return true;
}

void CriLog::Discard() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

void CriLog::Append(Stream s, const char* data, size_t n) {
  if (path_.empty()) return;  // no --log-path: output is drained, not kept
  Pending& p = pending_[s];
  while (n > 0) {
    const char* nl = static_cast<const char*>(memchr(data, '\n', n));
    size_t seg = nl ? static_cast<size_t>(nl - data) : n;
    if (nl && p.len == 0 && seg <= kMaxRecord) {
      // The common case: a whole line in one read, written straight from the read buffer.
      Record(s, false, data, seg);
    } else {
      while (seg > 0) {
        // Full, and the line goes on: what we hold is a P record.
        if (p.len == kMaxRecord) {
          Record(s, true, p.buf, p.len);
          p.len = 0;
        }
        if (!p.buf) p.buf = static_cast<char*>(malloc(kMaxRecord));
        if (!p.buf) return;
        size_t take = seg < kMaxRecord - p.len ? seg : kMaxRecord - p.len;
        memcpy(p.buf + p.len, data, take);
        p.len += take;
        data += take;
        n -= take;
        seg -= take;
      }
      if (!nl) return;
      Record(s, false, p.buf, p.len);
      p.len = 0;
      seg = 0;
    }
    data += seg + 1;
    n -= seg + 1;
  }
}

void CriLog::Finish(Stream s) {
  Pending& p = pending_[s];
  // A last line with no newline is a P record, as containerd writes it: the kubelet ends every
  // F record with a newline (a termination message of `echo -n DONE` would read "DONE\n").
  if (p.len > 0) Record(s, true, p.buf, p.len);
  p.len = 0;
}

void CriLog::Record(Stream s, bool partial, const char* data, size_t n) {
  if (fd_ < 0) return;
  char head[kTimestampLen + 12];
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  FormatTimestamp(now, head);
  // Fixed-width fields of a record, not C strings: no terminator is wanted.
  memcpy(head + kTimestampLen, s == kStdoutStream ? " stdout " : " stderr ", 8);  // NOLINT(bugprone-not-null-terminated-result)
  memcpy(head + kTimestampLen + 8, partial ? "P " : "F ", 2);                     // NOLINT(bugprone-not-null-terminated-result)
  char newline = '\n';
  struct iovec iov[3] = {{head, kTimestampLen + 10}, {const_cast<char*>(data), n}, {&newline, 1}};
  // A regular file takes a whole writev unless the disk is full; then the record is lost.
  int first = 0;
  while (first < 3) {
    ssize_t w = writev(fd_, iov + first, 3 - first);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      Diag("write to the container log %s: %m", path_.c_str());
      return;
    }
    size_t left = static_cast<size_t>(w);
    while (first < 3 && left >= iov[first].iov_len) left -= iov[first++].iov_len;
    if (first < 3) {
      iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + left;
      iov[first].iov_len -= left;
    }
  }
}

}  // namespace monitor
