// DIR/ctl.sock: line commands from the CRI server, each answered "ok\n" or "error MESSAGE\n".
//   reopen             reopen --log-path (kubelet renamed it away to rotate it)
//   resize ROWS COLS   set the pty's window size
#pragma once
#include <stdint.h>

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
  bool Listen(const std::string& dir);
  void OnAccept();
  void OnConn(Watch* w, uint32_t events);
  void Close() { LoopClose(&listen_); }

 private:
  std::string Handle(const std::string& line);

  Watch listen_{Kind::kCtlListen};
  CriLog* log_ = nullptr;
  int pty_ = -1;
};

}  // namespace monitor
