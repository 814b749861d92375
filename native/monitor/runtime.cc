#include "runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vector>

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

pid_t SpawnRuntime(const RuntimeCall& call, int in, int out, int err) {
  std::vector<std::string> args = {call.runtime,   "--root", call.root, "--log",      call.dir + "/runtime.log",
                                   "--log-format", "json",   "create",  "--bundle",   call.bundle,
                                   "--pid-file",   call.dir + "/pid"};
  if (call.console) {
    args.push_back("--console-socket");
    args.push_back(call.dir + "/console.sock");
  }
  args.push_back(call.id);
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(&a[0]);
  argv.push_back(nullptr);

  pid_t pid = fork();
  if (pid != 0) return pid;
  // The child: stdio in place (dup2 clears close-on-exec), and the signal state a fresh
  // process expects, since the container inherits it through the runtime.
  if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) _exit(127);
  ResetChild();
  execv(argv[0], argv.data());
  const char* why = strerror(errno);
  std::string msg = "exec " + call.runtime + ": " + why + "\n";
  WriteAll(2, msg.data(), msg.size());
  _exit(127);
}

// The msg value of a JSON log line, still as a JSON literal (escapes kept), or "".
static std::string MessageLiteral(const std::string& line) {
  if (line.find("\"level\":\"error\"") == std::string::npos) return "";
  // Inside a JSON string every quote is escaped, so this key cannot match within a value.
  size_t at = line.find("\"msg\":\"");
  if (at == std::string::npos) return "";
  size_t start = at + 6;
  for (size_t i = start + 1; i < line.size(); i++) {
    if (line[i] == '\\') {
      i++;
    } else if (static_cast<unsigned char>(line[i]) < 0x20) {
      return "";
    } else if (line[i] == '"') {
      return line.substr(start, i - start + 1);
    }
  }
  return "";
}

std::string RuntimeError(const std::string& log_path, int status, const std::string& stderr_tail) {
  std::string found;
  int fd = open(log_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    // The end of the log is enough: the error is the runtime's last word.
    struct stat st;
    off_t from = fstat(fd, &st) == 0 && st.st_size > 65536 ? st.st_size - 65536 : 0;
    std::string text;
    char buf[4096];
    ssize_t n;
    while ((n = pread(fd, buf, sizeof buf, from)) > 0) {
      text.append(buf, static_cast<size_t>(n));
      from += n;
    }
    close(fd);
    for (size_t pos = 0; pos < text.size();) {
      size_t nl = text.find('\n', pos);
      if (nl == std::string::npos) nl = text.size();
      std::string msg = MessageLiteral(text.substr(pos, nl - pos));
      if (!msg.empty()) found = msg;
      pos = nl + 1;
    }
  }
  if (!found.empty()) return found;
  std::string tail = stderr_tail;
  while (!tail.empty() && (tail.back() == '\n' || tail.back() == '\r' || tail.back() == ' ')) tail.pop_back();
  size_t last_line = tail.rfind('\n');
  if (last_line != std::string::npos) tail = tail.substr(last_line + 1);
  if (!tail.empty()) return JsonQuote(tail);
  char why[96];
  if (WIFSIGNALED(status)) snprintf(why, sizeof why, "the runtime was killed by signal %d", WTERMSIG(status));
  else snprintf(why, sizeof why, "the runtime exited with status %d and no message", WEXITSTATUS(status));
  return JsonQuote(why);
}

}  // namespace monitor
