#include "console.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "fail.h"
#include "procfs.h"
#include "rootfs.h"
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

namespace {

int OpenNoSymlinks(const char* path, int flags, mode_t mode = 0) {
  struct open_how how = {};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.mode = (flags & O_CREAT) ? mode : 0;
  how.resolve = RESOLVE_NO_SYMLINKS;
  return static_cast<int>(syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof how));
}

// The master comes from the container's own devpts: /dev/pts/ptmx, reached without following a
// symlink and checked to be devpts's ptmx (inode 2, char 5:2), is reopened through the runtime's
// procfs, as runc does since CVE-2025-52565 (a swapped ptmx could be a host device through a
// leaked fd, or a file whose open has side effects). The peer comes from TIOCGPTPEER, never from
// a /dev/pts/N path a container could turn into a symlink to a procfs file.
int OpenPtmx() {
  int h = OpenNoSymlinks("/dev/pts/ptmx", O_PATH | O_NOFOLLOW);
  if (h < 0) FailErrno("open /dev/pts/ptmx in the container (a terminal needs a devpts mount on /dev/pts)");
  struct stat st;
  struct statfs sfs;
  if (fstat(h, &st) < 0 || fstatfs(h, &sfs) < 0) FailErrno("stat /dev/pts/ptmx");
  if (sfs.f_type != DEVPTS_SUPER_MAGIC || st.st_ino != 2 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(5, 2))
    Fail(EINVAL, "/dev/pts/ptmx in the container is not the ptmx of a devpts mount: refusing to make a terminal with it");
  std::string rel = "self/fd/" + std::to_string(h);
  int master = openat(ProcfsFd(), rel.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) FailErrno("open /dev/pts/ptmx in the container");
  close(h);
  return master;
}

// /dev/console becomes the terminal (a default device of the runtime spec when process.terminal
// is set), bound from the peer's own fd onto a target opened without following symlinks: an
// image's /dev/console that is a symlink (to /proc/sys/kernel/core_pattern, say) is refused,
// never mounted through (CVE-2025-52565).
void MountConsole(int peer) {
  uint64_t t0 = NowMicros();
  int fd = OpenNoSymlinks("/dev/console", O_PATH | O_NOFOLLOW);
  if (fd < 0 && errno == ENOENT) fd = OpenNoSymlinks("/dev/console", O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY, 0666);
  if (fd < 0) FailErrno("open /dev/console in the container to bind the terminal on");
  struct stat st;
  if (fstat(fd, &st) < 0) FailErrno("stat /dev/console");
  if (S_ISLNK(st.st_mode))
    Fail(ELOOP,
         "/dev/console in the container is a symlink: refusing to bind the terminal through it (mount a tmpfs on /dev, or remove the link "
         "from the image)");
  if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode))
    Fail(EINVAL, "/dev/console in the container is neither a file nor a device node: refusing to bind the terminal on it");
  BindFdOnto(peer, fd, "", "bind the terminal on /dev/console");
  close(fd);
  Event("console", "/dev/console bound on the pty", t0);
}

}  // namespace

void SetupPty(int sock, bool mount_console) {
  uint64_t t0 = NowMicros();
  int master = OpenPtmx();
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
  Event("console", name, t0);
  if (mount_console) MountConsole(slave);
  for (int i = 0; i < 3; i++)
    if (dup2(slave, i) < 0) FailErrno("dup2 the pty slave");
  if (slave > 2) close(slave);
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
