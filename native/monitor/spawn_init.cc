#include "spawn_init.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

namespace monitor {

// In the child: the signal state a fresh process expects (the container inherits it).
static void ResetChild() {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  signal(SIGPIPE, SIG_DFL);
  umask(022);
}

pid_t SpawnInit(const std::string& binary, int init_sync, int in, int out, int err) {
  pid_t pid = fork();
  if (pid != 0) return pid;
  // Out of the way of 0-3 first, then into place (dup2 clears close-on-exec).
  int sync = fcntl(init_sync, F_DUPFD_CLOEXEC, 10);
  if (sync < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0 || dup2(sync, 3) < 0) _exit(127);
  ResetChild();
  char arg0[] = "tsrun-init";
  char* argv[] = {arg0, nullptr};
  char env0[] = "_TSRUN_SYNC_FD=3";
  char* envp[] = {env0, nullptr};
  execve(binary.c_str(), argv, envp);
  std::string msg = "exec " + binary + ": " + strerror(errno) + "\n";
  WriteAll(2, msg.data(), msg.size());
  _exit(127);
}

}  // namespace monitor
