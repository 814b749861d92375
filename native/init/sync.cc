#include "sync.h"

#include <errno.h>
#include <time.h>
#include <unistd.h>

#include <cstring>

#include "../common/fd.h"

namespace tsrun {

int g_sync_fd = -1;
bool g_events = false;

static bool ReadAll(int fd, char* p, size_t n) {
  while (n > 0) {
    ssize_t r = read(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

bool WriteFrame(int fd, uint32_t type, const std::string& payload) {
  if (fd < 0) return false;
  std::string buf(8, '\0');
  uint32_t len = static_cast<uint32_t>(payload.size());
  memcpy(&buf[0], &type, 4);
  memcpy(&buf[4], &len, 4);
  buf += payload;
  return WriteAll(fd, buf.data(), buf.size());
}

bool ReadFrame(int fd, uint32_t* type, std::string* payload) {
  char hdr[8];
  if (!ReadAll(fd, hdr, 8)) return false;
  uint32_t len;
  memcpy(type, hdr, 4);
  memcpy(&len, hdr + 4, 4);
  if (len > (64u << 20)) return false;
  payload->assign(len, '\0');
  return len == 0 || ReadAll(fd, &(*payload)[0], len);
}

uint64_t NowMicros() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
}

void Event(const char* step, const std::string& detail, uint64_t since_us) {
  if (!g_events || g_sync_fd < 0) return;
  std::string payload(step);
  payload += '\0';
  payload += detail;
  payload += '\0';
  payload += std::to_string(NowMicros() - since_us);
  WriteFrame(g_sync_fd, kEventFrame, payload);
}

}  // namespace tsrun
