// Namespaces that outlive their processes, for pod sandboxes, and the console fd a
// `tsrun exec --tty --console-socket` hands over. Kept apart from the syscall glue: each
// forks or blocks, and says why in its own file.
#pragma once
#include <string>
#include <vector>

namespace tsrun {

// Creates new namespaces of the given types ("net", "ipc", "uts") in a short-lived child and
// bind-mounts each onto targets[i] (existing empty files), so they stay alive with no process
// in them. hostname is set in the new UTS namespace when not empty. Returns "" or an error.
std::string PinNamespaces(const std::vector<std::string>& types, const std::vector<std::string>& targets,
                          const std::string& hostname);

// Listens on a unix socket at path, accepts one connection within timeout_ms and returns the
// fd it carries (SCM_RIGHTS), or -errno with err set.
int ReceiveFd(const std::string& path, int timeout_ms, std::string* err);

}  // namespace tsrun
