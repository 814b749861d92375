#include "hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <vector>

#include "fail.h"
#include "sync.h"

namespace tsrun {

namespace {

std::vector<char*> Argv(const std::vector<std::string>& v) {
  std::vector<char*> out;
  out.reserve(v.size() + 1);
  for (const std::string& s : v) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

const char* PhaseName(uint32_t phase) { return phase == kCreateContainer ? "createContainer" : "startContainer"; }

void RunHook(const Hook& h, const std::string& state_json) {
  uint64_t t0 = NowMicros();
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0) FailErrno("pipe for a hook's stdin");
  std::vector<std::string> args = h.args.empty() ? std::vector<std::string>{h.path} : h.args;
  std::vector<char*> argv = Argv(args), envp = Argv(h.env);
  pid_t pid = fork();
  if (pid < 0) FailErrno("fork a hook");
  if (pid == 0) {
    dup2(fds[0], 0);
    execve(h.path.c_str(), argv.data(), envp.data());
    _exit(127);
  }
  close(fds[0]);
  // A hook may exit without reading its stdin: EPIPE here is not an error.
  signal(SIGPIPE, SIG_IGN);
  size_t off = 0;
  while (off < state_json.size()) {
    ssize_t w = write(fds[1], state_json.data() + off, state_json.size() - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;
    off += static_cast<size_t>(w);
  }
  close(fds[1]);
  signal(SIGPIPE, SIG_DFL);
  int status = 0;
  for (;;) {
    pid_t r = waitpid(pid, &status, h.timeout ? WNOHANG : 0);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) FailErrno(Fmt("wait for %s hook %s", PhaseName(h.phase), h.path.c_str()));
    if (h.timeout && NowMicros() - t0 > static_cast<uint64_t>(h.timeout) * 1000000u) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      Fail(ETIMEDOUT, Fmt("%s hook %s ran past its timeout of %us", PhaseName(h.phase), h.path.c_str(), h.timeout));
    }
    struct timespec ts = {0, 5L * 1000 * 1000};
    nanosleep(&ts, nullptr);
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127) Fail(0, Fmt("%s hook %s could not be executed", PhaseName(h.phase), h.path.c_str()));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    Fail(0, Fmt("%s hook %s failed with %s %d", PhaseName(h.phase), h.path.c_str(), WIFEXITED(status) ? "exit status" : "signal",
                WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status)));
  Event(PhaseName(h.phase), h.path, t0);
}

}  // namespace

void RunHooks(const Plan& plan, uint32_t phase, const std::string& state_json) {
  for (const Hook& h : plan.hooks)
    if (h.phase == phase) RunHook(h, state_json);
}

}  // namespace tsrun
