// DIR/ctl.sock: line commands from the CRI server, each answered "ok\n" or "error MESSAGE\n".
//   reopen             reopen --log-path (kubelet renamed it away to rotate it)
//   resize ROWS COLS   set the pty's window size
//   signal N           send signal N to the container's init (the CRI's stop signal): the
//                      monitor reaps the init, so it never signals a pid that was reused
#pragma once
#include <stdint.h>
#include <sys/types.h>

#include <string>

#include "cri_log.h"
#include "loop.h"

namespace monitor {

class Control {
 public:
  void Configure(CriLog* log, int pty) {
    log_ = log;
    pty_ = pty;
  }
  /** The container's init, once created; `done` turns true when it has been reaped. */
  void SetInit(pid_t pid, const bool* done) {
    init_ = pid;
    init_done_ = done;
  }
  bool Listen(const std::string& dir);
  void OnAccept();
  void OnConn(Watch* w, uint32_t events);
  void Close() { LoopClose(&listen_); }

 private:
  std::string Handle(const std::string& line);

  Watch listen_{Kind::kCtlListen};
  CriLog* log_ = nullptr;
  int pty_ = -1;
  pid_t init_ = -1;
  const bool* init_done_ = nullptr;
};

}  // namespace monitor
