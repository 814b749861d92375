#include "fd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

namespace tsrun {

bool WriteAll(int fd, const void* data, size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

int RecvFd(int sock, std::string* body, size_t max) {
  std::vector<char> buf(max > 0 ? max : 1);
  struct iovec iov = {buf.data(), buf.size()};
  union {
    char bytes[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;  // the control buffer must be aligned for cmsghdr
  } control = {};
  struct msghdr msg = {nullptr, 0, &iov, 1, control.bytes, sizeof control.bytes, 0};
  ssize_t n;
  do n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n == 0) errno = EPIPE;
  if (n <= 0) return -1;
  int fd = -1;
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int)))
      memcpy(&fd, CMSG_DATA(c), sizeof fd);
  if (fd < 0) errno = EBADMSG;  // a message, but no fd in it
  if (fd >= 0 && body) body->assign(buf.data(), static_cast<size_t>(n));
  return fd;
}

bool UnixAddress(const std::string& path, struct sockaddr_un* addr, int* dir_fd) {
  *addr = {};
  addr->sun_family = AF_UNIX;
  *dir_fd = -1;
  if (path.size() < sizeof addr->sun_path) {
    memcpy(addr->sun_path, path.c_str(), path.size());
    return true;
  }
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  int fd = open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  int n = snprintf(addr->sun_path, sizeof addr->sun_path, "/proc/self/fd/%d/%s", fd, name.c_str());
  if (n < 0 || static_cast<size_t>(n) >= sizeof addr->sun_path) {
    close(fd);
    errno = ENAMETOOLONG;
    return false;
  }
  *dir_fd = fd;
  return true;
}

}  // namespace tsrun
