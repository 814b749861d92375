// tsrun-monitor: one small process per CRI container, like CRI-O's conmon or containerd's
// shim. It spawns the container's init, becomes its parent (a child subreaper inherits it when
// the init's first stage exits), holds its stdio, writes the CRI log, serves attach and control
// sockets, and records the exit status in DIR/exit.json. It outlives the CRI server.
//
//   tsrun-monitor --id ID --init PATH --init-sync-fd M --dir DIR
//                 [--log-path FILE] [--tty] [--stdin] [--stdin-once] --sync-fd N
//
// The CRI server validates and compiles the config in-process and speaks the sync protocol
// with the init over fd M; the monitor only starts the init binary with the container's stdio.
// Once create is over the server writes {"pid":N} on the sync fd, and the monitor answers
// {"pid":N} when it serves the container, or {"error":"..."} and exits; a server that hangs
// up before that abandons the create. Single-threaded: one epoll loop, no large buffers.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <string>
#include <utility>
#include <vector>

#include "attach.h"
#include "control.h"
#include "cri_log.h"
#include "loop.h"
#include "spawn_init.h"
#include "util.h"

using namespace monitor;

namespace {

struct Options {
  std::string id;
  std::string dir;
  std::string log_path;
  bool tty = false;
  bool stdin_open = false;
  bool stdin_once = false;
  int sync_fd = -1;
  // The init binary and the init's end of the server's sync socket.
  std::string init_binary;
  int init_sync_fd = -1;
};

// After the init exits, output still held by other processes is awaited this long at most.
constexpr int kDrainMs = 2000;
// After the exit, attach clients still behind get this long to take what is queued for them.
constexpr int kFlushClientsMs = 5000;
// Children reaped before we know which one is the init (it may exit during create).
constexpr size_t kMaxEarly = 64;

enum class Phase { kCreating, kRunning, kDraining };

Options g_opt;
Phase g_phase = Phase::kCreating;
Watch g_signals{Kind::kSignal};
Watch g_stdout{Kind::kStdout};
Watch g_stderr{Kind::kStderr};
Watch g_pty{Kind::kPty};
bool g_pty_open = false;  // the master still gives output
Watch g_console_listen{Kind::kConsoleListen};
Watch g_console_conn{Kind::kConsoleConn};
CriLog g_log;
bool g_log_created = false;
Attach g_attach;
Control g_control;
Watch g_server{Kind::kServer};
std::string g_server_line;  // what the server said on the sync fd, up to its newline
bool g_server_gone = false;

pid_t g_first_stage = -1;  // the init's first stage: it exits once the init is cloned
pid_t g_init_pid = -1;
bool g_init_done = false;
int g_init_status = 0;
struct timespec g_exited_at;
struct timespec g_drain_until;
std::vector<std::pair<pid_t, int>> g_early;

std::string Path(const char* name) { return g_opt.dir + "/" + name; }

void Report(const std::string& json) {
  std::string line = json + "\n";
  if (!WriteAll(g_opt.sync_fd, line.data(), line.size())) Diag("write to the sync fd: %m");
  close(g_opt.sync_fd);
  g_opt.sync_fd = -1;
}

// Create failed: say why, leave nothing behind, exit.
[[noreturn]] void Fail(const std::string& message_json) {
  Diag("create failed: %s", message_json.c_str());
  if (g_opt.sync_fd >= 0) Report("{\"error\":" + message_json + "}");
  g_log.Discard();
  if (g_log_created) unlink(g_opt.log_path.c_str());
  for (const char* name : {"console.sock", "attach.sock", "ctl.sock"}) unlink(Path(name).c_str());
  while (waitpid(-1, nullptr, WNOHANG) > 0) {}
  _exit(1);
}

[[noreturn]] void FailErrno(const std::string& what) { Fail(JsonQuote(what + ": " + strerror(errno))); }

bool ParseArgs(int argc, char** argv, std::string* err) {
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (a == "--tty") {
      g_opt.tty = true;
      continue;
    }
    if (a == "--stdin") {
      g_opt.stdin_open = true;
      continue;
    }
    if (a == "--stdin-once") {
      g_opt.stdin_once = true;
      continue;
    }
    if (i + 1 >= argc) {
      *err = "unknown flag or missing value: " + a;
      return false;
    }
    std::string v = argv[++i];
    if (a == "--id") g_opt.id = v;
    else if (a == "--dir") g_opt.dir = v;
    else if (a == "--log-path") g_opt.log_path = v;
    else if (a == "--sync-fd") g_opt.sync_fd = atoi(v.c_str());
    else if (a == "--init") g_opt.init_binary = v;
    else if (a == "--init-sync-fd") g_opt.init_sync_fd = atoi(v.c_str());
    else {
      *err = "unknown flag: " + a;
      return false;
    }
  }
  if (g_opt.sync_fd < 3 || fcntl(g_opt.sync_fd, F_GETFD) < 0) {
    g_opt.sync_fd = -1;
    *err = "--sync-fd must name an open fd above 2";
    return false;
  }
  if (g_opt.init_sync_fd < 3 || g_opt.init_sync_fd == g_opt.sync_fd || fcntl(g_opt.init_sync_fd, F_GETFD) < 0) {
    *err = "--init-sync-fd must name another open fd above 2";
    return false;
  }
  const char* missing = g_opt.id.empty() ? "--id" : g_opt.init_binary.empty() ? "--init" : g_opt.dir.empty() ? "--dir" : nullptr;
  if (missing) {
    *err = std::string("missing ") + missing;
    return false;
  }
  struct stat st;
  if (stat(g_opt.dir.c_str(), &st) < 0 || !S_ISDIR(st.st_mode)) {
    *err = "--dir " + g_opt.dir + " is not a directory";
    return false;
  }
  return true;
}

// Closes every fd from `from` up, but those in `keep` (ascending).
void CloseAllBut(int from, const std::vector<int>& keep) {
  for (int k : keep) {
    if (k > from) syscall(SYS_close_range, static_cast<unsigned>(from), static_cast<unsigned>(k - 1), 0U);
    from = k + 1;
  }
  if (syscall(SYS_close_range, static_cast<unsigned>(from), ~0U, 0U) < 0) {
    for (int fd = from; fd < 65536; fd++) close(fd);
  }
}

// Nothing of the CRI server's may stay open here: we outlive it.
void Detach() {
  int sync = g_opt.sync_fd;
  std::vector<int> keep = {sync};
  if (g_opt.init_sync_fd >= 0) keep.push_back(g_opt.init_sync_fd);
  if (keep.size() == 2 && keep[0] > keep[1]) std::swap(keep[0], keep[1]);
  CloseAllBut(3, keep);
  for (int fd : keep) fcntl(fd, F_SETFD, FD_CLOEXEC);
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  for (int fd = 0; fd < 3; fd++) dup2(null, fd);
  if (null > 2) close(null);
  setsid();  // EPERM when spawned detached, already a session leader: fine
  prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  umask(077);
  signal(SIGPIPE, SIG_IGN);
}

long long MsUntil(const struct timespec& t) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (t.tv_sec - now.tv_sec) * 1000LL + (t.tv_nsec - now.tv_nsec) / 1000000;
}

void InitExited(int status) {
  g_init_done = true;
  g_init_status = status;
  clock_gettime(CLOCK_REALTIME, &g_exited_at);
  clock_gettime(CLOCK_MONOTONIC, &g_drain_until);
  g_drain_until.tv_sec += kDrainMs / 1000;
  if (g_phase == Phase::kRunning) g_phase = Phase::kDraining;
}

void Reap() {
  struct signalfd_siginfo info;
  while (read(g_signals.fd, &info, sizeof info) > 0) {}
  for (;;) {
    int status;
    pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid <= 0) return;
    if (pid == g_first_stage) {
      // It exits once it has reported the init's pid; how it fails, the server hears first.
    } else if (g_init_pid > 0 && pid == g_init_pid) {
      InitExited(status);
    } else if (g_init_pid <= 0 && g_early.size() < kMaxEarly) {
      g_early.emplace_back(pid, status);
    }
  }
}

void ReadOutput(Watch* w) {
  static char buf[8192];
  if (w->fd < 0 || (w->kind == Kind::kPty && !g_pty_open)) return;
  ssize_t n = read(w->fd, buf, sizeof buf);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  Stream s = w->kind == Kind::kStderr ? kStderrStream : kStdoutStream;
  if (n <= 0) {
    // EOF; from a pty, EIO once every slave fd is closed.
    if (g_phase != Phase::kCreating) g_log.Finish(s);
    if (w->kind == Kind::kPty) {
      // The master stays open: attach and ctl.sock resize through it.
      LoopDel(w);
      g_pty_open = false;
    } else {
      LoopClose(w);
    }
    return;
  }
  // The container has not started: nothing here is its output (the init reports its errors to
  // the server over the sync socket).
  if (g_phase == Phase::kCreating) return;
  g_log.Append(s, buf, static_cast<size_t>(n));
  g_attach.Broadcast(s == kStderrStream ? kFrameStderr : kFrameStdout, buf, static_cast<size_t>(n));
}

void OnConsole(Watch* w) {
  if (w->kind == Kind::kConsoleListen) {
    int fd = LoopAccept(w, "console.sock");
    if (fd < 0) return;
    if (g_console_conn.fd >= 0 || g_pty.fd >= 0) {
      close(fd);  // one pty per container
      return;
    }
    g_console_conn.fd = fd;
    LoopAdd(&g_console_conn, EPOLLIN);
    return;
  }
  int master = RecvFd(w->fd);
  if (master < 0 && errno == EAGAIN) return;
  LoopClose(w);
  if (master >= 0) g_pty.fd = master;
}

// The server's line on the sync fd; EOF before its newline means the create failed there.
void OnServer(Watch* w) {
  char buf[256];
  ssize_t n = read(w->fd, buf, sizeof buf);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0 || g_server_line.size() > 1024) {
    g_server_gone = true;
    LoopDel(w);
    return;
  }
  g_server_line.append(buf, static_cast<size_t>(n));
}

void Dispatch(Watch* w, uint32_t events) {
  switch (w->kind) {
    case Kind::kServer:
      return OnServer(w);
    case Kind::kSignal:
      return Reap();
    case Kind::kStdout:
    case Kind::kStderr:
    case Kind::kPty:
      return ReadOutput(w);
    case Kind::kConsoleListen:
    case Kind::kConsoleConn:
      return OnConsole(w);
    case Kind::kAttachListen:
      return g_attach.OnAccept();
    case Kind::kAttachClient:
      return g_attach.OnClient(w, events);
    case Kind::kCtlListen:
      return g_control.OnAccept();
    case Kind::kCtlConn:
      return g_control.OnConn(w, events);
    case Kind::kStdin:
      return g_attach.OnStdinWritable();
  }
}

void Turn(int timeout_ms) {
  struct epoll_event events[16];
  int n = epoll_wait(LoopFd(), events, 16, timeout_ms);
  for (int i = 0; i < n; i++) Dispatch(static_cast<Watch*>(events[i].data.ptr), events[i].events);
  g_attach.Sweep();
}

// Discards what the init's stages left in the pipes: the container's own output starts after this.
void DrainRuntimeOutput(Watch* w) {
  while (w->fd >= 0) {
    char buf[1024];
    ssize_t n = read(w->fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) LoopClose(w);
  }
}

// The init binary runs with the server's sync socket; the server tells us the init's pid once
// the init waits for `start`, or hangs up when the create failed.
pid_t AwaitInit(int in, int out, int err) {
  g_first_stage = SpawnInit(g_opt.init_binary, g_opt.init_sync_fd, in, out, err);
  if (g_first_stage < 0) FailErrno("fork the init " + g_opt.init_binary);
  close(g_opt.init_sync_fd);
  g_opt.init_sync_fd = -1;
  g_server.fd = g_opt.sync_fd;
  SetNonblock(g_server.fd);
  LoopAdd(&g_server, EPOLLIN);
  while (g_server_line.find('\n') == std::string::npos && !g_server_gone) Turn(-1);
  if (g_server.fd >= 0 && !g_server_gone) LoopDel(&g_server);
  g_server.fd = -1;
  const char* at = strstr(g_server_line.c_str(), "{\"pid\":");
  long pid = at ? strtol(at + 7, nullptr, 10) : 0;
  if (pid <= 0) {
    // The server reported the error itself; ours only closes the record.
    g_opt.sync_fd = -1;
    Fail(JsonQuote("the create was abandoned by the CRI server"));
  }
  return static_cast<pid_t>(pid);
}

// Create: returns once the init waits for `start` and everything is in place to serve it.
void Create() {
  int out[2], err[2], in[2] = {0, -1};
  if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) FailErrno("make the stdio pipes");
  if (g_opt.stdin_open && !g_opt.tty && pipe2(in, O_CLOEXEC) < 0) FailErrno("make the stdin pipe");
  g_stdout.fd = out[0];
  g_stderr.fd = err[0];
  SetNonblock(out[0]);
  SetNonblock(err[0]);
  LoopAdd(&g_stdout, EPOLLIN);
  LoopAdd(&g_stderr, EPOLLIN);
  if (g_opt.tty) {
    if (!LoopListen(&g_console_listen, g_opt.dir, "console.sock")) FailErrno("listen on " + Path("console.sock"));
  }
  pid_t pid = AwaitInit(in[0], out[1], err[1]);
  close(out[1]);
  close(err[1]);
  if (in[0] > 0) close(in[0]);
  g_init_pid = pid;
  g_control.SetInit(pid, &g_init_done);
  for (auto& [early, status] : g_early)
    if (early == pid) InitExited(status);
  std::vector<std::pair<pid_t, int>>().swap(g_early);

  if (g_opt.tty) {
    // The init sends the master before it reports ready, so it is here or on its way.
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += 2;
    while (g_pty.fd < 0 && MsUntil(until) > 0) Turn(static_cast<int>(MsUntil(until)));
    LoopClose(&g_console_conn);
    LoopClose(&g_console_listen);
    unlink(Path("console.sock").c_str());
    if (g_pty.fd < 0) {
      kill(pid, SIGKILL);
      Fail(JsonQuote("no pty master arrived on " + Path("console.sock")));
    }
  }
  DrainRuntimeOutput(&g_stdout);
  DrainRuntimeOutput(&g_stderr);
  int stdin_fd = in[1];
  if (g_opt.tty) {
    // The container's stdio is the pty; the pipes only carried the init stages' words.
    LoopClose(&g_stdout);
    LoopClose(&g_stderr);
    SetNonblock(g_pty.fd);
    LoopAdd(&g_pty, EPOLLIN);
    g_pty_open = true;
    // Input goes to the master through its own fd, so it has its own place in the loop.
    if (g_opt.stdin_open) stdin_fd = fcntl(g_pty.fd, F_DUPFD_CLOEXEC, 3);
  }
  g_attach.Configure(stdin_fd, g_opt.tty ? g_pty.fd : -1, g_opt.stdin_once);
  g_control.Configure(&g_log, g_opt.tty ? g_pty.fd : -1);
  if (!g_attach.Listen(g_opt.dir) || !g_control.Listen(g_opt.dir)) {
    int saved = errno;
    kill(pid, SIGKILL);
    errno = saved;
    FailErrno("listen on the attach and control sockets in " + g_opt.dir);
  }
}

uint32_t WriteExitRecord() {
  int code = 0, sig = 0;
  if (WIFEXITED(g_init_status)) {
    code = WEXITSTATUS(g_init_status);
  } else if (WIFSIGNALED(g_init_status)) {
    sig = WTERMSIG(g_init_status);
    code = 128 + sig;
  }
  char at[kTimestampLen + 1];
  FormatTimestamp(g_exited_at, at);
  char json[256];
  int n = snprintf(json, sizeof json, "{\"pid\":%d,\"exitCode\":%d,\"signal\":%d,\"exitedAt\":\"%s\",\"exitedAtNs\":\"%lld\"}\n",
                   g_init_pid, code, sig, at, static_cast<long long>(g_exited_at.tv_sec) * 1000000000LL + g_exited_at.tv_nsec);
  std::string tmp = Path(".exit.json.tmp");
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  bool ok = fd >= 0 && fchmod(fd, 0644) == 0 && WriteAll(fd, json, static_cast<size_t>(n)) && fsync(fd) == 0;
  if (fd >= 0) close(fd);
  if (!ok || rename(tmp.c_str(), Path("exit.json").c_str()) < 0) Diag("write %s: %m", Path("exit.json").c_str());
  Diag("container %s (pid %d) exited: code %d signal %d", g_opt.id.c_str(), g_init_pid, code, sig);
  return static_cast<uint32_t>(code);
}

}  // namespace

int main(int argc, char** argv) {
  std::string err;
  if (!ParseArgs(argc, argv, &err)) {
    fprintf(stderr, "tsrun-monitor: %s\n", err.c_str());
    if (g_opt.sync_fd >= 0) Report("{\"error\":" + JsonQuote("tsrun-monitor: " + err) + "}");
    return 2;
  }
  Detach();
  OpenDiag(Path("monitor.log"));
  // A record left from an earlier attempt in this directory must not be mistaken for ours.
  unlink(Path("exit.json").c_str());

  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, nullptr);
  g_signals.fd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
  if (g_signals.fd < 0 || !LoopInit()) FailErrno("set up the event loop");
  LoopAdd(&g_signals, EPOLLIN);
  if (!g_opt.log_path.empty() && !g_log.Open(g_opt.log_path, &g_log_created)) FailErrno("open the container log " + g_opt.log_path);

  Create();
  g_phase = g_init_done ? Phase::kDraining : Phase::kRunning;
  Diag("container %s created, pid %d", g_opt.id.c_str(), g_init_pid);
  Report("{\"pid\":" + std::to_string(g_init_pid) + "}");

  for (;;) {
    int timeout = -1;
    if (g_phase == Phase::kDraining) {
      bool open = g_stdout.fd >= 0 || g_stderr.fd >= 0 || g_pty_open;
      long long left = MsUntil(g_drain_until);
      if (!open || left <= 0) break;
      timeout = static_cast<int>(left);
    }
    Turn(timeout);
  }
  // What processes other than the init still write is not this container's record any more.
  LoopClose(&g_stdout);
  LoopClose(&g_stderr);
  if (g_pty_open) LoopDel(&g_pty);
  g_pty_open = false;
  g_log.Finish(kStdoutStream);
  g_log.Finish(kStderrStream);
  g_attach.Exit(WriteExitRecord());
  g_control.Close();
  unlink(Path("attach.sock").c_str());
  unlink(Path("ctl.sock").c_str());
  // Clients still reading what they are owed get a few seconds more; then they are cut off.
  struct timespec until;
  clock_gettime(CLOCK_MONOTONIC, &until);
  until.tv_sec += kFlushClientsMs / 1000;
  while (!g_attach.Done() && MsUntil(until) > 0) Turn(static_cast<int>(MsUntil(until)));
  return 0;
}
