// Jazzer.js 4.0.0's prebuilt addon is linked against glibc 2.38 and GCC 13's libstdc++, newer
// than Debian 12's (2.36, GCC 12), for three symbols only. This library, preloaded into the fuzz
// runs, gives them (C23 strtol differs only in accepting "0b" prefixes, which libFuzzer's flag
// parsing never sees); fuzz/jazzer-compat.ts marks those versions optional in the addon.
#include <cstdlib>
#include <ios>

// The names are glibc's own, reserved on purpose: they stand in for its missing symbols.
// NOLINTBEGIN(bugprone-reserved-identifier)
extern "C" long __isoc23_strtol(const char* s, char** end, int base) { return strtol(s, end, base); }
extern "C" unsigned long __isoc23_strtoul(const char* s, char** end, int base) { return strtoul(s, end, base); }
// NOLINTEND(bugprone-reserved-identifier)

namespace std {
void ios_base_library_init() { static ios_base::Init init; }
}  // namespace std
