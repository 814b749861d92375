// One epoll set for everything the monitor waits on; each registered fd carries a Watch that
// says what it is, so the main loop can dispatch without a lookup table.
#pragma once
#include <stdint.h>

#include <string>

namespace monitor {

enum class Kind {
  kSignal,         // signalfd for SIGCHLD
  kStdout,         // the container's stdout pipe
  kStderr,         // the container's stderr pipe
  kPty,            // the pty master (--tty): stdout and stderr together
  kConsoleListen,  // DIR/console.sock during create
  kConsoleConn,    // the runtime's connection on it, carrying the pty master
  kAttachListen,   // DIR/attach.sock
  kAttachClient,
  kCtlListen,  // DIR/ctl.sock
  kCtlConn,
  kStdin,   // the container's stdin, watched only while input waits to be written
  kServer,  // the sync fd during an in-process create: the server's word on the init
};

struct Watch {
  Kind kind;
  int fd = -1;
  explicit Watch(Kind k) : kind(k) {}
};

bool LoopInit();
// events: EPOLLIN / EPOLLOUT; errors and hangups are always reported.
void LoopAdd(Watch* w, uint32_t events);
void LoopMod(Watch* w, uint32_t events);
void LoopDel(Watch* w);
// Removes `w` from the loop and closes its fd.
void LoopClose(Watch* w);
int LoopFd();
// Listens on the unix socket DIR/name and watches it (w) for connections.
bool LoopListen(Watch* w, const std::string& dir, const char* name);
// The next connection waiting on listening socket w (non-blocking, close-on-exec), or -1 once
// none is left; an error other than "none left" is logged naming `name`.
int LoopAccept(Watch* w, const char* name);

}  // namespace monitor
