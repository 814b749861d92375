// Namespaces: joining existing ones by path, user-namespace id maps, time-namespace offsets.
#pragma once
#include <sys/types.h>

#include "plan.h"

namespace tsrun {

// Opens every namespace path first (a joined mount namespace would hide later paths), then
// joins the user namespace first and the mount namespace last.
void JoinNamespaces(const Plan& plan);
void WriteIdMaps(const Plan& plan, pid_t pid);
// unshare(CLONE_NEWTIME) affects children only: call before cloning the init.
void PrepareTimeNamespace(const Plan& plan);
const char* NamespaceName(uint64_t flag);
// A user namespace with these maps, as an fd (for idmapped mounts); made by a short-lived child.
int MakeUserns(const std::string& uid_map, const std::string& gid_map);

}  // namespace tsrun
