// tsrun-recvtty: the other end of --console-socket, for tests and for trying terminals by hand
// (like runc's contrib/cmd/recvtty). Listens on SOCKET, receives one pty master, writes
// --input to it, and copies what the container prints to stdout until the pty closes.
// It also stands in for a seccomp agent (linux.seccomp.listenerPath): it prints the message
// that came with the fd, and closing the fd makes notified syscalls fail with ENOSYS.
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <string>

static int Die(const char* what) {
  fprintf(stderr, "tsrun-recvtty: %s: %s\n", what, strerror(errno));
  return 1;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: tsrun-recvtty SOCKET [--input TEXT]\n");
    return 2;
  }
  std::string input;
  for (int i = 2; i + 1 < argc; i++)
    if (!strcmp(argv[i], "--input")) input = argv[i + 1];
  int srv = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  snprintf(addr.sun_path, sizeof addr.sun_path, "%s", argv[1]);
  unlink(argv[1]);
  if (bind(srv, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) return Die("bind");
  if (listen(srv, 1) < 0) return Die("listen");
  fprintf(stdout, "listening\n");
  fflush(stdout);
  int conn = accept4(srv, nullptr, nullptr, SOCK_CLOEXEC);
  if (conn < 0) return Die("accept");
  static char name[65536];
  char control[CMSG_SPACE(sizeof(int))] = {};
  struct iovec iov = {name, sizeof name - 1};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  if (recvmsg(conn, &msg, MSG_CMSG_CLOEXEC) <= 0) return Die("recvmsg");
  struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
  if (!c || c->cmsg_type != SCM_RIGHTS) {
    fprintf(stderr, "tsrun-recvtty: no fd received\n");
    return 1;
  }
  int master;
  memcpy(&master, CMSG_DATA(c), sizeof master);
  fprintf(stdout, "pty %s\n", name);  // the pty's name, or the seccomp agent message
  fflush(stdout);
  if (!input.empty() && write(master, input.data(), input.size()) < 0) return Die("write");
  char buf[4096];
  for (;;) {
    ssize_t n = read(master, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EIO: the container closed its side
    fwrite(buf, 1, static_cast<size_t>(n), stdout);
    fflush(stdout);
  }
  return 0;
}
