// Namespaces that outlive their processes, for pod sandboxes, and the console fd a
// `tsrun exec --tty --console-socket` hands over. Kept apart from the syscall glue: each
// forks or blocks, and says why in its own file.
#pragma once
#include <string>
#include <vector>

namespace tsrun {

// Creates new namespaces of the given types ("user", "net", "ipc", "uts") in a short-lived
// child and bind-mounts each onto targets[i] (existing empty files), so they stay alive with no
// process in them. A user namespace comes first, with the given maps ("inside outside count"
// lines), and owns the others. hostname is set in the new UTS namespace when not empty.
// Returns "" or an error.
std::string PinNamespaces(const std::vector<std::string>& types, const std::vector<std::string>& targets, const std::string& hostname,
                          const std::string& uid_map, const std::string& gid_map);

// Binds and listens on a unix socket at path; returns the listening socket, or -errno with err
// set. Done before the sender is started, so that it never finds the path missing.
int ListenForFd(const std::string& path, std::string* err);

// Accepts one connection on the socket ListenForFd made within timeout_ms and returns the fd
// it carries (SCM_RIGHTS), or -errno with err set. Closes the socket and unlinks path.
int AcceptFd(int ls, const std::string& path, int timeout_ms, std::string* err);

// Connects a TCP socket to 127.0.0.1:port inside the network namespace at ns_path (the
// calling thread enters it and returns; the socket stays bound to that namespace).
// Returns the fd, or -errno with err set.
int ConnectInNetns(const std::string& ns_path, int port, std::string* err);

}  // namespace tsrun
