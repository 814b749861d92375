// libFuzzer target: the init's sync-socket framing (native/init/sync.cc, ReadFrame) on an
// arbitrary byte stream, read from a memfd as the init reads its socket; a PLAN frame's payload
// goes on to the plan decoder, as in main(). Frames must come out whole or not at all, a
// lying length must not make it allocate past the 64 MiB bound, and the stream must end.
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../init/plan.h"
#include "../init/sync.h"
#include "fuzz_abort.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  int fd = memfd_create("sync-fuzz", MFD_CLOEXEC);
  if (fd < 0) return 0;
  for (size_t off = 0; off < size;) {
    ssize_t w = write(fd, data + off, size - off);
    if (w <= 0) break;
    off += static_cast<size_t>(w);
  }
  lseek(fd, 0, SEEK_SET);
  uint32_t type = 0;
  std::string payload;
  size_t consumed = 0;
  while (tsrun::ReadFrame(fd, &type, &payload)) {
    consumed += 8 + payload.size();
    if (consumed > size) __builtin_trap();  // a frame longer than what was sent
    if (type == tsrun::kPlanFrame) {
      try {
        tsrun::DecodePlan(payload);
      } catch (const tsrun::FuzzAbort&) {}
    }
  }
  close(fd);
  return 0;
}
