#include "loop.h"

#include <errno.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util.h"

namespace monitor {

static int g_epoll = -1;

bool LoopInit() {
  g_epoll = epoll_create1(EPOLL_CLOEXEC);
  return g_epoll >= 0;
}

int LoopFd() { return g_epoll; }

static void Control(int op, Watch* w, uint32_t events) {
  struct epoll_event ev = {};
  ev.events = events;
  ev.data.ptr = w;
  if (epoll_ctl(g_epoll, op, w->fd, &ev) < 0) Diag("epoll_ctl(%d) on fd %d: %m", op, w->fd);
}

void LoopAdd(Watch* w, uint32_t events) { Control(EPOLL_CTL_ADD, w, events); }
void LoopMod(Watch* w, uint32_t events) { Control(EPOLL_CTL_MOD, w, events); }
void LoopDel(Watch* w) { epoll_ctl(g_epoll, EPOLL_CTL_DEL, w->fd, nullptr); }

void LoopClose(Watch* w) {
  if (w->fd < 0) return;
  LoopDel(w);
  close(w->fd);
  w->fd = -1;
}

bool LoopListen(Watch* w, const std::string& dir, const char* name) {
  w->fd = ListenUnix(dir, name);
  if (w->fd < 0) return false;
  LoopAdd(w, EPOLLIN);
  return true;
}

int LoopAccept(Watch* w, const char* name) {
  int fd = accept4(w->fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (fd < 0 && errno != EAGAIN && errno != EINTR) Diag("accept on %s: %m", name);
  return fd;
}

}  // namespace monitor
