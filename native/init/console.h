// Terminals. The pty is made inside the container (its devpts), and its master is sent with
// SCM_RIGHTS over the console socket, as runc does: containerd and podman rely on this.
#pragma once
#include <string>

#include "../common/fd.h"  // RecvFd

namespace tsrun {

int ConnectUnixSocket(const std::string& path, const char* what);
// In the container: make a pty, send the master over `sock`, make the slave our
// controlling terminal and stdio; with mount_console (create), bind it on /dev/console too.
void SetupPty(int sock, bool mount_console);
// Foreground `run`/`exec` with a terminal and no console socket: receive the master
// and copy between it and our own stdio until the container closes it.
void ProxyPty(int sock);
// Sends `fd` with `name` as the message body (SCM_RIGHTS).
void SendFd(int sock, int fd, const std::string& name);

}  // namespace tsrun
