// The OCI runtime call that creates the container:
//   RUNTIME --root ROOT --log DIR/runtime.log --log-format json create --bundle BUNDLE
//           --pid-file DIR/pid [--console-socket DIR/console.sock] ID
// Its stdio is what the container inherits.
#pragma once
#include <sys/types.h>

#include <string>

namespace monitor {

struct RuntimeCall {
  std::string runtime;
  std::string root;
  std::string dir;
  std::string bundle;
  std::string id;
  bool console = false;
};

// fork + exec with `in`, `out`, `err` as fds 0-2; -1 with errno on failure.
pid_t SpawnRuntime(const RuntimeCall& call, int in, int out, int err);

// For a create the CRI server drives in-process: the native init binary itself, with
// `init_sync` as its fd 3 (the server holds the other end and speaks the sync protocol) and
// `in`, `out`, `err` as fds 0-2. Its first stage exits once it has reported the init's pid, and
// the init, reparented to us (a subreaper), becomes our child. -1 with errno on failure.
pid_t SpawnInit(const std::string& binary, int init_sync, int in, int out, int err);

// Why create failed, as a JSON string literal: the last "error" record's msg in the runtime's
// JSON log (runc's format, which tsrun writes too), else what it printed on stderr, else its
// exit status.
std::string RuntimeError(const std::string& log_path, int status, const std::string& stderr_tail);

}  // namespace monitor
