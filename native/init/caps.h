// Capabilities: shrink the bounding set, then set effective/permitted/inheritable and raise ambient.
#pragma once
#include "plan.h"

namespace tsrun {

void DropBounding(const Plan& plan);
void ApplyCapabilities(const Plan& plan);

}  // namespace tsrun
