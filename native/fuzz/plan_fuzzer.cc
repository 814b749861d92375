// libFuzzer target: the init's plan decoder (native/init/plan.cc) on arbitrary bytes. A plan comes
// from the runtime, but the decoder is the init's first contact with what crossed the sync socket:
// it must refuse what is malformed (Fail) and never read out of bounds, loop or exhaust memory.
#include <stddef.h>
#include <stdint.h>

#include "../init/plan.h"
#include "fuzz_abort.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    tsrun::Plan plan = tsrun::DecodePlan(std::string(reinterpret_cast<const char*>(data), size));
    // What a decoded plan promises the init: a mode and argv.
    if ((plan.mode != 1 && plan.mode != 2) || plan.args.empty()) __builtin_trap();
  } catch (const tsrun::FuzzAbort&) {}
  return 0;
}
