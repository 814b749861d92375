#include "pod_ns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/fd.h"

namespace tsrun {

namespace {

bool WriteFile(const std::string& path, const std::string& text) {
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  close(fd);
  return ok;
}

}  // namespace

std::string PinNamespaces(const std::vector<std::string>& types, const std::vector<std::string>& targets, const std::string& hostname,
                          const std::string& uid_map, const std::string& gid_map) {
  int flags = 0;
  bool userns = false;
  for (const auto& t : types) {
    if (t == "net") flags |= CLONE_NEWNET;
    else if (t == "ipc") flags |= CLONE_NEWIPC;
    else if (t == "uts") flags |= CLONE_NEWUTS;
    else if (t == "user") userns = true;
    else return "unsupported namespace type " + t;
  }
  if (userns && (uid_map.empty() || gid_map.empty())) return "a user namespace needs uid and gid maps";
  // The child makes the namespaces and then waits; we (host root, in the host's mount
  // namespace) write its id maps and bind-mount /proc/CHILD/ns/*. It only makes raw syscalls:
  // the child of a multi-threaded process may not do more.
  int up[2], down[2];
  if (pipe2(up, O_CLOEXEC) < 0) return std::string("pipe: ") + strerror(errno);
  if (pipe2(down, O_CLOEXEC) < 0) {
    int e = errno;
    close(up[0]);
    close(up[1]);
    return std::string("pipe: ") + strerror(e);
  }
  pid_t pid = fork();
  if (pid < 0) {
    int e = errno;
    for (int fd : {up[0], up[1], down[0], down[1]}) close(fd);
    return std::string("fork: ") + strerror(e);
  }
  if (pid == 0) {
    close(up[0]);
    close(down[1]);
    int report[2] = {0, 0};  // step (0 unshare user, 1 unshare, 2 sethostname), errno
    char go;
    if (userns) {
      if (unshare(CLONE_NEWUSER) < 0) {
        report[1] = errno;
        (void)!write(up[1], report, sizeof report);
        _exit(1);
      }
      (void)!write(up[1], report, sizeof report);
      if (read(down[0], &go, 1) != 1) _exit(1);  // the maps are written
    }
    if (flags && unshare(flags) < 0) {
      report[0] = 1;
      report[1] = errno;
    } else if (!hostname.empty() && (flags & CLONE_NEWUTS) && sethostname(hostname.data(), hostname.size()) < 0) {
      report[0] = 2;
      report[1] = errno;
    }
    (void)!write(up[1], report, sizeof report);
    (void)!read(down[0], &go, 1);  // EOF: the parent has mounted what it needs
    _exit(report[1] ? 1 : 0);
  }
  close(up[1]);
  close(down[0]);
  std::string err;
  auto readReport = [&](int* report) {
    ssize_t n;
    do n = read(up[0], report, 2 * sizeof(int));
    while (n < 0 && errno == EINTR);
    return n == static_cast<ssize_t>(2 * sizeof(int));
  };
  int report[2] = {0, 0};
  const std::string proc = "/proc/" + std::to_string(pid) + "/";
  if (userns) {
    if (!readReport(report)) err = "namespace child died before reporting";
    else if (report[1]) err = std::string("unshare user namespace: ") + strerror(report[1]);
    else if (!WriteFile(proc + "uid_map", uid_map)) err = std::string("write uid_map: ") + strerror(errno);
    else if (!WriteFile(proc + "gid_map", gid_map)) err = std::string("write gid_map: ") + strerror(errno);
    else if (write(down[1], "g", 1) != 1) err = "namespace child gone";
  }
  if (err.empty()) {
    if (!readReport(report)) err = "namespace child died before reporting";
    else if (report[1]) err = std::string(report[0] == 2 ? "sethostname: " : "unshare: ") + strerror(report[1]);
  }
  for (size_t i = 0; err.empty() && i < types.size(); i++) {
    std::string src = proc + "ns/" + types[i];
    if (mount(src.c_str(), targets[i].c_str(), nullptr, MS_BIND, nullptr) < 0) {
      err = "mount " + targets[i] + ": " + strerror(errno);
      for (size_t j = 0; j < i; j++) umount2(targets[j].c_str(), MNT_DETACH);
    }
  }
  close(down[1]);
  close(up[0]);
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  return err;
}

int ListenForFd(const std::string& path, std::string* err) {
  sockaddr_un addr;
  int dir_fd;
  if (!UnixAddress(path, &addr, &dir_fd)) {
    int e = errno;
    *err = "socket address " + path + ": " + strerror(e);
    return -e;
  }
  int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (ls < 0) {
    int e = errno;
    if (dir_fd >= 0) close(dir_fd);
    *err = std::string("socket: ") + strerror(e);
    return -e;
  }
  auto fail = [&](const char* what) {
    int e = errno;
    *err = std::string(what) + " " + path + ": " + strerror(e);
    close(ls);
    unlink(path.c_str());
    return -e;
  };
  int bound = bind(ls, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  if (dir_fd >= 0) {
    int e = errno;
    close(dir_fd);
    errno = e;
  }
  if (bound < 0) return fail("bind");
  if (listen(ls, 1) < 0) return fail("listen");
  return ls;
}

int AcceptFd(int ls, const std::string& path, int timeout_ms, std::string* err) {
  auto fail = [&](const char* what) {
    int e = errno;
    *err = std::string(what) + " " + path + ": " + strerror(e);
    close(ls);
    unlink(path.c_str());
    return -e;
  };
  pollfd p{ls, POLLIN, 0};
  int r;
  do r = poll(&p, 1, timeout_ms);
  while (r < 0 && errno == EINTR);
  if (r == 0) errno = ETIMEDOUT;
  if (r <= 0) return fail("accept (waiting for the console)");
  int c = accept4(ls, nullptr, nullptr, SOCK_CLOEXEC);
  if (c < 0) return fail("accept");
  close(ls);
  unlink(path.c_str());
  int fd = RecvFd(c);
  int e = errno;
  close(c);
  if (fd < 0) {
    *err = "no fd received on " + path + ": " + strerror(e);
    return -EPROTO;
  }
  return fd;
}

int ConnectInNetns(const std::string& ns_path, int port, std::string* err) {
  int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (self < 0) {
    *err = std::string("open own netns: ") + strerror(errno);
    return -errno;
  }
  int target = open(ns_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (target < 0) {
    int e = errno;
    close(self);
    *err = "open " + ns_path + ": " + strerror(e);
    return -e;
  }
  int rc = -1, e = 0;
  if (setns(target, CLONE_NEWNET) < 0) {
    e = errno;
    *err = "setns " + ns_path + ": " + strerror(e);
  } else {
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (s < 0 || connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) {
      e = errno;
      *err = "connect 127.0.0.1:" + std::to_string(port) + " in " + ns_path + ": " + strerror(e);
      if (s >= 0) close(s);
    } else {
      rc = s;
    }
    // Back to our own namespace: this thread serves other work after us.
    if (setns(self, CLONE_NEWNET) < 0) abort();
  }
  close(target);
  close(self);
  return rc >= 0 ? rc : -e;
}

}  // namespace tsrun
