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

#include "../common/fd.h"

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
  struct sockaddr_un addr;
  int dir_fd;
  if (!tsrun::UnixAddress(argv[1], &addr, &dir_fd)) return Die("socket address");
  unlink(argv[1]);
  if (bind(srv, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) return Die("bind");
  if (dir_fd >= 0) close(dir_fd);
  if (listen(srv, 1) < 0) return Die("listen");
  fprintf(stdout, "listening\n");
  fflush(stdout);
  int conn = accept4(srv, nullptr, nullptr, SOCK_CLOEXEC);
  if (conn < 0) return Die("accept");
  std::string name;
  int master = tsrun::RecvFd(conn, &name, 65535);
  if (master < 0) return Die(errno == EBADMSG ? "no fd received" : "recvmsg");
  fprintf(stdout, "pty %s\n", name.c_str());  // the pty's name, or the seccomp agent message
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
