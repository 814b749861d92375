// DIR/attach.sock: any number of clients see the container's output and may write its stdin.
//   monitor -> client: [kind u8: 1 stdout, 2 stderr, 3 exit][length u32 LE][payload]
//                      (exit's payload is the exit code, u32 LE)
//   client -> monitor: [kind u8: 0 stdin, 1 close stdin, 2 resize][length u32 LE][payload]
//                      (resize's payload is rows u16 LE, cols u16 LE)
// (Little-endian, as the plan and the sync frames; test/unit/wire-contracts checks the kinds.)
// Nothing here may block: a client more than 1 MiB behind is disconnected, and input the
// container does not read yet is held (a few KiB) while the senders are paused.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include <string>
#include <vector>

#include "loop.h"

namespace monitor {

enum FrameKind : uint8_t { kFrameStdout = 1, kFrameStderr = 2, kFrameExit = 3 };
enum InputKind : uint8_t { kInputStdin = 0, kInputCloseStdin = 1, kInputResize = 2 };

class Attach {
 public:
  // stdin_fd: the container's stdin (pipe or a dup of the pty master), -1 without --stdin.
  // pty: the master, for resize frames and so that closing stdin sends ^D instead.
  void Configure(int stdin_fd, int pty, bool stdin_once);
  bool Listen(const std::string& dir);
  void OnAccept();
  void OnClient(Watch* w, uint32_t events);
  // Frees dropped clients; called between batches of events, which may still name them.
  void Sweep();
  void OnStdinWritable();
  void Broadcast(FrameKind kind, const char* data, size_t n);
  // Queues the exit frame for every client; each is closed once it has taken everything.
  void Exit(uint32_t exit_code);
  // Every client has been closed.
  bool Done() const;
  // Container stdin closes (EOF for a pipe, ^D for a pty) once queued input is written.
  void CloseStdin();

 private:
  struct Client;
  void Drop(Client* c);
  // A whole input frame has arrived.
  void Frame(Client* c);
  void StdinData(Client* c, const char* data, size_t n);
  // Writes what stdin takes now; true if the rest had to be queued.
  bool Queue(const char* data, size_t n);
  void Send(Client* c, const char* head, const char* data, size_t n);
  // Sends what the socket takes of the client's backlog; false if that dropped it.
  bool Flush(Client* c);
  void Park(Client* c);
  void Unpark();
  void Interest(Client* c);

  Watch listen_{Kind::kAttachListen};
  Watch stdin_{Kind::kStdin};
  int pty_ = -1;
  bool stdin_once_ = false;
  bool stdin_closing_ = false;  // close once pending_ is written
  bool exiting_ = false;
  std::string pending_;  // input the container's stdin did not take yet
  std::vector<Client*> clients_;
};

}  // namespace monitor
