// The sync socket between the runtime (TypeScript, "N") and the two native stages:
// the runtime stage ("A": joins namespaces, clones, writes id maps, waits in the foreground)
// and the container init ("B": everything inside the container up to execve).
//
// Frames: u32 type | u32 length | payload (little-endian).
//
// | type | name     | from -> to | payload / meaning                                            |
// |------|----------|------------|--------------------------------------------------------------|
// |  1   | PLAN     | N -> A     | the encoded plan (plan.h)                                    |
// |  2   | PID      | A -> N     | decimal host pid of B; A has written id maps and is done     |
// |      |          |            | with the socket (it closes its copy)                          |
// |  3   | CONTINUE | N -> B     | the OCI state JSON for hooks; B is in its cgroups now         |
// |  4   | READY    | B -> N     | create: set up, about to wait on the exec fifo                |
// |  5   | ERROR    | A/B -> N   | decimal errno \0 message; the sender exits non-zero          |
// |  6   | EVENT    | A/B -> N   | step \0 detail \0 decimal microseconds (only with EVENTS)     |
// |  7   | JOINED   | B -> N     | B has placed itself in its cgroups (plan's CGROUP_TASKS /     |
// |      |          |            | CLONE_INTO_CGROUP); it may come before or after PID           |
//
// In exec mode B sends no READY: the socket closing on execve (it is close-on-exec) is success.
#pragma once
#include <cstdint>
#include <string>

namespace tsrun {

enum FrameType : uint32_t { kPlanFrame = 1, kPidFrame, kContinueFrame, kReadyFrame, kErrorFrame, kEventFrame, kJoinedFrame };

extern int g_sync_fd;  // -1 once closed
extern bool g_events;  // send EVENT frames

bool WriteFrame(int fd, uint32_t type, const std::string& payload);
// Reads one frame; returns false on EOF or error.
bool ReadFrame(int fd, uint32_t* type, std::string* payload);

// A step done, for the teaching trace. `since_us` is from NowMicros() at the step's start.
void Event(const char* step, const std::string& detail, uint64_t since_us);
uint64_t NowMicros();

}  // namespace tsrun
