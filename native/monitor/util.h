// Small helpers for the monitor: its own diagnostics, CRI timestamps, fds and unix sockets.
#pragma once
#include <stddef.h>
#include <time.h>

#include <string>

#include "../common/fd.h"

namespace monitor {

using tsrun::RecvFd;
using tsrun::WriteAll;

// Our stdio is /dev/null, so what goes wrong is written to DIR/monitor.log.
void OpenDiag(const std::string& path);
void Diag(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

// RFC 3339 in UTC with all nine fraction digits: 2006-01-02T15:04:05.000000000Z.
constexpr size_t kTimestampLen = 30;
void FormatTimestamp(const struct timespec& ts, char out[kTimestampLen + 1]);

void SetNonblock(int fd);
// JSON string literal (quoted, escaped) for `s`.
std::string JsonQuote(const std::string& s);

// A listening unix stream socket DIR/NAME, mode 0600 (-1 with errno set on failure). Paths
// longer than sun_path are reached through /proc/self/fd/N/NAME of an O_PATH fd on DIR.
int ListenUnix(const std::string& dir, const char* name);
// TIOCSWINSZ on a pty master; errno on failure.
bool ResizePty(int pty, unsigned rows, unsigned cols);

}  // namespace monitor
