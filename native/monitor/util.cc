#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace monitor {

static int g_diag_fd = -1;

void OpenDiag(const std::string& path) { g_diag_fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600); }

void Diag(const char* fmt, ...) {
  if (g_diag_fd < 0) return;
  char line[1024];
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  FormatTimestamp(now, line);
  size_t n = kTimestampLen;
  n += snprintf(line + n, sizeof line - n, " [%d] ", getpid());
  va_list ap;
  va_start(ap, fmt);
  int m = vsnprintf(line + n, sizeof line - n - 1, fmt, ap);
  va_end(ap);
  if (m > 0) n += static_cast<size_t>(m) < sizeof line - n - 1 ? static_cast<size_t>(m) : sizeof line - n - 2;
  line[n++] = '\n';
  WriteAll(g_diag_fd, line, n);
}

void FormatTimestamp(const struct timespec& ts, char out[kTimestampLen + 1]) {
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  strftime(out, 20, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out + 19, kTimestampLen - 18, ".%09ldZ", static_cast<long>(ts.tv_nsec));
}

void SetNonblock(int fd) {
  int flags = fcntl(fd, F_GETFL);
  if (flags >= 0) fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

std::string JsonQuote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c == 0x7f) {
      char esc[8];
      snprintf(esc, sizeof esc, "\\u%04x", c);
      out += esc;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

int ListenUnix(const std::string& dir, const char* name) {
  std::string path = dir + "/" + name;
  unlink(path.c_str());
  struct sockaddr_un addr;
  int dir_fd;
  if (!tsrun::UnixAddress(path, &addr, &dir_fd)) return -1;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  // umask 077 (set in main) makes the socket 0600 from the start; chmod says so explicitly.
  bool ok = fd >= 0 && bind(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) == 0 && chmod(path.c_str(), 0600) == 0 &&
            listen(fd, 16) == 0;
  int saved = errno;
  if (dir_fd >= 0) close(dir_fd);
  if (!ok) {
    if (fd >= 0) close(fd);
    errno = saved;
    return -1;
  }
  return fd;
}

bool ResizePty(int pty, unsigned rows, unsigned cols) {
  struct winsize ws = {};
  ws.ws_row = static_cast<unsigned short>(rows);
  ws.ws_col = static_cast<unsigned short>(cols);
  return ioctl(pty, TIOCSWINSZ, &ws) == 0;
}

}  // namespace monitor
