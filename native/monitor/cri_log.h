// The CRI container log (what kubelet reads for `kubectl logs`): one record per line,
//   <RFC3339Nano UTC> <stdout|stderr> <F|P> <content>\n
// F ends a line; P is a piece of a line longer than kMaxRecord, or of one still unfinished.
#pragma once
#include <stddef.h>

#include <string>

namespace monitor {

enum Stream { kStdoutStream = 0, kStderrStream = 1 };

class CriLog {
 public:
  static constexpr size_t kMaxRecord = size_t{16} * 1024;

  // O_APPEND, created 0600 if missing; *created tells whether we made it. errno on failure.
  bool Open(const std::string& path, bool* created);
  // Kubelet renames the file away to rotate it, then asks us to write to a new one.
  bool Reopen();
  // Closes without flushing (create failed: nothing was logged).
  void Discard();
  // Bytes read from the container; complete lines become records, the rest waits.
  void Append(Stream s, const char* data, size_t n);
  // The stream ended: its unfinished last line becomes a P record (it had no newline).
  void Finish(Stream s);

 private:
  void Record(Stream s, bool partial, const char* data, size_t n);

  std::string path_;
  int fd_ = -1;
  // Holds a line until its newline arrives (or it reaches kMaxRecord); allocated on first use.
  struct Pending {
    char* buf = nullptr;
    size_t len = 0;
  } pending_[2];
};

}  // namespace monitor
