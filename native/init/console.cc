#include "console.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "fail.h"
#include "sync.h"

namespace tsrun {

int ConnectUnixSocket(const std::string& path, const char* what) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) FailErrno(Fmt("socket for the %s", what));
  struct sockaddr_un addr;
  int dir_fd;
  if (!UnixAddress(path, &addr, &dir_fd)) FailErrno(Fmt("the address of the %s %s", what, path.c_str()));
  int rc = connect(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr);
  int saved = errno;
  if (dir_fd >= 0) close(dir_fd);
  errno = saved;
  if (rc < 0) FailErrno(Fmt("connect to the %s %s", what, path.c_str()));
  return fd;
}

void SendFd(int sock, int fd, const std::string& name) {
  char control[CMSG_SPACE(sizeof(int))] = {};
  struct iovec iov = {const_cast<char*>(name.c_str()), name.size()};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof fd);
  if (sendmsg(sock, &msg, 0) < 0) FailErrno("send an fd over a unix socket");
}

void SetupPty(int sock) {
  uint64_t t0 = NowMicros();
  int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) FailErrno("open /dev/ptmx in the container");
  int unlock = 0;
  if (ioctl(master, TIOCSPTLCK, &unlock) < 0) FailErrno("unlock the pty");
  int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
  if (slave < 0) FailErrno("open the pty slave");
  int n = 0;
  ioctl(master, TIOCGPTN, &n);
  std::string name = "/dev/pts/" + std::to_string(n);
  SendFd(sock, master, name);
  close(master);
  close(sock);
  if (setsid() < 0) FailErrno("setsid");
  if (ioctl(slave, TIOCSCTTY, 0) < 0) FailErrno("make the pty our controlling terminal");
  for (int i = 0; i < 3; i++)
    if (dup2(slave, i) < 0) FailErrno("dup2 the pty slave");
  if (slave > 2) close(slave);
  Event("console", name, t0);
}

static volatile sig_atomic_t g_winch = 0;
static void OnWinch(int) { g_winch = 1; }

static void CopyWinsize(int master) {
  struct winsize ws;
  if (ioctl(0, TIOCGWINSZ, &ws) == 0) ioctl(master, TIOCSWINSZ, &ws);
}

static bool Pump(int from, int to) {
  char buf[8192];
  ssize_t n = read(from, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
  if (n <= 0) return false;
  for (ssize_t off = 0; off < n;) {
    ssize_t w = write(to, buf + off, n - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    off += w;
  }
  return true;
}

void ProxyPty(int sock) {
  int master = RecvFd(sock);
  close(sock);
  if (master < 0) return;  // the container failed before making its pty; its error reaches the runtime
  struct termios saved;
  bool raw = isatty(0) && tcgetattr(0, &saved) == 0;
  if (raw) {
    struct termios t = saved;
    cfmakeraw(&t);
    tcsetattr(0, TCSANOW, &t);
    CopyWinsize(master);
    signal(SIGWINCH, OnWinch);
  }
  bool stdin_open = true;
  for (;;) {
    if (g_winch) {
      g_winch = 0;
      CopyWinsize(master);
    }
    struct pollfd p[2] = {{master, POLLIN, 0}, {0, POLLIN, 0}};
    int rc = poll(p, stdin_open ? 2 : 1, -1);
    if (rc < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      if (!Pump(master, 1)) break;  // EIO: every slave fd is closed, the container is gone
    }
    if (stdin_open && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      if (!Pump(0, master)) stdin_open = false;
    }
  }
  if (raw) tcsetattr(0, TCSANOW, &saved);
  close(master);
}

}  // namespace tsrun
