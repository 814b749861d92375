// tsrun-pause: the PID 1 of a pod whose containers share one PID namespace. It holds the
// namespace open, reaps the orphans its children leave, and exits on SIGINT/SIGTERM.
// Linked statically so a pod needs no image for it: the binary is its whole rootfs.
#include <sys/wait.h>
#include <unistd.h>
#include <csignal>

static void Stop(int) { _exit(0); }
static void Reap(int) {
  while (waitpid(-1, nullptr, WNOHANG) > 0) {}
}

int main() {
  if (getpid() != 1) {
    static const char msg[] = "tsrun-pause: should be PID 1 of a pod\n";
    (void)!write(2, msg, sizeof msg - 1);
  }
  signal(SIGINT, Stop);
  signal(SIGTERM, Stop);
  signal(SIGCHLD, Reap);
  for (;;) pause();
}
