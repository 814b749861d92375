// OCI hooks that run inside the container's namespaces (createContainer, startContainer).
// The runtime-side hooks (createRuntime, prestart, poststart, poststop) run in TypeScript.
#pragma once
#include <string>

#include "plan.h"

namespace tsrun {

// Runs every hook of `phase` in order with the state JSON on stdin; a hook that fails or
// passes its timeout fails the stage.
void RunHooks(const Plan& plan, uint32_t phase, const std::string& state_json);

}  // namespace tsrun
