#include "control.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util.h"

namespace monitor {

namespace {

struct Conn : Watch {
  Conn() : Watch(Kind::kCtlConn) {}
  char line[160];
  size_t len = 0;
};

void Reply(int fd, const std::string& text) {
  // Replies are a few bytes on a fresh socket: they fit; a peer that is gone just misses it.
  std::string out = text + "\n";
  if (send(fd, out.data(), out.size(), MSG_DONTWAIT | MSG_NOSIGNAL) < 0) Diag("reply on ctl.sock: %m");
}

}  // namespace

bool Control::Listen(const std::string& dir) { return LoopListen(&listen_, dir, "ctl.sock"); }

void Control::OnAccept() {
  for (int fd; (fd = LoopAccept(&listen_, "ctl.sock")) >= 0;) {
    Conn* c = new Conn;
    c->fd = fd;
    LoopAdd(c, EPOLLIN);
  }
}

void Control::OnConn(Watch* w, uint32_t) {
  Conn* c = static_cast<Conn*>(w);
  ssize_t n = read(c->fd, c->line + c->len, sizeof c->line - c->len);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) {
    LoopClose(c);
    delete c;
    return;
  }
  c->len += static_cast<size_t>(n);
  char* start = c->line;
  char* end = c->line + c->len;
  for (char* nl; (nl = static_cast<char*>(memchr(start, '\n', static_cast<size_t>(end - start))));) {
    Reply(c->fd, Handle(std::string(start, nl)));
    start = nl + 1;
  }
  c->len = static_cast<size_t>(end - start);
  memmove(c->line, start, c->len);
  if (c->len == sizeof c->line) {
    Reply(c->fd, "error command too long");
    LoopClose(c);
    delete c;
  }
}

std::string Control::Handle(const std::string& line) {
  if (line == "reopen") {
    if (log_->Reopen()) return "ok";
    return std::string("error reopen the container log: ") + strerror(errno);
  }
  unsigned rows = 0, cols = 0;
  char extra;
  if (sscanf(line.c_str(), "resize %u %u %c", &rows, &cols, &extra) == 2) {
    if (rows > 0xffff || cols > 0xffff) return "error rows and cols must fit in 16 bits";
    if (pty_ < 0) return "error the container has no terminal";
    if (ResizePty(pty_, rows, cols)) return "ok";
    return std::string("error resize the terminal: ") + strerror(errno);
  }
  int sig = 0;
  if (sscanf(line.c_str(), "signal %d %c", &sig, &extra) == 1) {
    if (sig <= 0 || sig >= 65) return "error no such signal: " + std::to_string(sig);
    if (init_ <= 0) return "error the container is not created yet";
    if (init_done_ && *init_done_) return "error the container has exited";
    if (kill(init_, sig) == 0) return "ok";
    return std::string("error signal the container: ") + strerror(errno);
  }
  return "error unknown command: " + line.substr(0, 64);
}

}  // namespace monitor
