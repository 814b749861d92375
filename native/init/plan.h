// The init plan: what TypeScript compiled from config.json, decoded here.
//
// Wire format (written by src/oci/plan-encode.ts; keep both in step):
//   header  : "TSPL" (4 bytes) u32 version
//   records : u16 tag | u32 length | payload        (all integers little-endian)
//
// | tag | name              | payload                                                        |
// |-----|-------------------|----------------------------------------------------------------|
// |  1  | MODE              | u32: 1 create (new container), 2 exec (join a running one)     |
// |  2  | FOREGROUND        | u32: 1 = the runtime stage waits for the process, exits with it|
// |  3  | CLONE_FLAGS       | u64: CLONE_NEW* of the namespaces to create                    |
// |  4  | JOIN_NS           | u32 CLONE_NEW* type, then the namespace file path              |
// |  5  | UID_MAP           | text for /proc/PID/uid_map                                     |
// |  6  | GID_MAP           | text for /proc/PID/gid_map                                     |
// |  7  | TIMENS_OFFSETS    | text for /proc/self/timens_offsets                             |
// |  8  | ROOTFS            | absolute host path of the root filesystem; in exec mode, set   |
// |     |                   | only when the container has no mount namespace: its init's     |
// |     |                   | /proc/PID/root, which the exec'd process chroots into          |
// |  9  | ROOT_READONLY     | u32                                                            |
// | 10  | ROOT_PROPAGATION  | u64 MS_* propagation flags for / after pivot_root (0: keep)    |
// | 11  | MOUNT             | u64 flags, u64 propagation, u32 kind, source\0 dest\0 type\0 data\0 |
// | 12  | DEVICE            | u32 S_IF* type, major, minor, mode, uid, gid, then the path    |
// | 13  | SETUP_DEV         | u32: /dev is ours: add ptmx and the standard symlinks          |
// | 14  | MASKED_PATH       | path                                                           |
// | 15  | READONLY_PATH     | path                                                           |
// | 16  | HOSTNAME          | text                                                           |
// | 17  | DOMAINNAME        | text                                                           |
// | 18  | SYSCTL            | /proc/sys path\0 value                                         |
// | 19  | RLIMIT            | u32 resource, u64 soft, u64 hard                               |
// | 20  | OOM_SCORE_ADJ     | i32                                                            |
// | 21  | UID               | u32          22 GID u32      23 ADDITIONAL_GID u32 (repeated)  |
// | 24  | UMASK             | u32                                                            |
// | 25  | CWD               | path inside the container                                      |
// | 26  | ENV               | "KEY=value" (repeated)     27 ARG (repeated, argv order)       |
// | 28  | TERMINAL          | u32          29 CONSOLE_SOCKET  host path of a unix socket     |
// | 30  | NO_NEW_PRIVS      | u32                                                            |
// | 31  | CAPS              | 5 x u64: bounding, effective, inheritable, permitted, ambient  |
// | 32  | EXEC_FIFO         | host path of the fifo that `start` opens                       |
// | 33  | HOOK              | u32 phase, u32 timeout s, u32 argc, u32 envc, path\0 args\0.. env\0.. |
// | 34  | PRESERVE_FDS      | u32: fds 3..3+N-1 pass into the container                      |
// | 35  | EVENTS            | u32: send an EVENT frame for each step                         |
// | 36  | NO_PIVOT          | u32: MS_MOVE + chroot instead of pivot_root                    |
// | 37  | SECCOMP_BPF       | a compiled classic-BPF program (struct sock_filter array)      |
// | 38  | SECCOMP_FLAGS     | u32 SECCOMP_FILTER_FLAG_*                                      |
// | 39  | SECCOMP_LISTENER  | host path of the unix socket that gets the notify fd           |
// | 40  | SECCOMP_LISTENER_PREFIX | JSON sent with the fd, up to the state (B appends it + "}") |
// | 41  | MOUNT_IDMAP       | u32 index into the MOUNTs, uid_map text\0 gid_map text: an idmapped bind |
// | 42  | MOUNT_ATTR        | u32 index into the MOUNTs, u64 attr_set, u64 attr_clr (MOUNT_ATTR_*):      |
// |     |                   | the recursive options (rro, rnosuid, ...), applied with mount_setattr(2)   |
// |     |                   | AT_RECURSIVE once that mount is in place; at most one per mount            |
// | 43  | CGROUP_TASKS      | a cgroup v1 directory: B writes "0" to its `tasks` as its first act (moving |
// |     |                   | the calling thread needs no global lock, so no RCU grace period), then    |
// |     |                   | sends JOINED; one record per hierarchy                                     |
// | 44  | CLONE_INTO_CGROUP | a cgroup v2 directory: A clones B into it (clone3 CLONE_INTO_CGROUP)       |
// | 60  | ID_MAP_HELPERS    | newuidmap path\0 newgidmap path (empty: write the map itself): rootless    |
// |     |                   | maps of more than the caller's own id go through these setuid helpers       |
// | 61  | SETGROUPS_DENY    | u32: write "deny" to /proc/PID/setgroups before gid_map (an unprivileged   |
// |     |                   | caller mapping only its own gid must, as runc does)                         |
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace tsrun {

enum PlanTag : uint16_t {
  kMode = 1,
  kForeground,
  kCloneFlags,
  kJoinNs,
  kUidMap,
  kGidMap,
  kTimensOffsets,
  kRootfs,
  kRootReadonly,
  kRootPropagation,
  kMount,
  kDevice,
  kSetupDev,
  kMaskedPath,
  kReadonlyPath,
  kHostname,
  kDomainname,
  kSysctl,
  kRlimit,
  kOomScoreAdj,
  kUid,
  kGid,
  kAdditionalGid,
  kUmask,
  kCwd,
  kEnv,
  kArg,
  kTerminal,
  kConsoleSocket,
  kNoNewPrivs,
  kCaps,
  kExecFifo,
  kHook,
  kPreserveFds,
  kEvents,
  kNoPivot,
  kSeccompBpf,
  kSeccompFlags,
  kSeccompListener,
  kSeccompListenerPrefix,
  kMountIdmap,
  kMountAttr,
  kCgroupTasks,
  kCloneIntoCgroup,
  // Rootless id maps (numbered apart, so other tags can be added above without renumbering).
  kIdMapHelpers = 60,
  kSetgroupsDeny = 61,
};

enum MountKind : uint32_t { kMountFs = 0, kSymlink = 1 };
enum HookPhase : uint32_t { kCreateContainer = 1, kStartContainer = 2 };

struct JoinNs {
  uint32_t type;
  std::string path;
};
struct MountOp {
  uint64_t flags = 0, propagation = 0;
  uint32_t kind = kMountFs;
  std::string source, dest, type, data;
  std::string uid_map, gid_map;  // non-empty: an idmapped mount
  int idmap_tree_fd = -1;        // the idmapped source tree, made by the runtime stage (real root)
  int source_fd = -1;            // O_PATH fd of a bind source, opened by the runtime stage (userns)
  bool has_attr = false;         // recursive options: mount_setattr(AT_RECURSIVE) after mounting
  uint64_t attr_set = 0, attr_clr = 0;
};
struct Device {
  uint32_t type, major, minor, mode, uid, gid;
  std::string path;
};
struct Sysctl {
  std::string path, value;
};
struct Rlimit {
  uint32_t resource;
  uint64_t soft, hard;
};
struct Hook {
  uint32_t phase, timeout;
  std::string path;
  std::vector<std::string> args, env;
};

struct Plan {
  uint32_t mode = 0;
  bool foreground = false;
  uint64_t clone_flags = 0;
  std::vector<JoinNs> join;
  std::string uid_map, gid_map, timens_offsets;
  std::string newuidmap, newgidmap;  // non-empty: write that map through the setuid helper
  bool setgroups_deny = false;
  std::string rootfs;
  bool root_readonly = false;
  uint64_t root_propagation = 0;
  std::vector<MountOp> mounts;
  std::vector<Device> devices;
  bool setup_dev = false;
  std::vector<std::string> masked, readonly;
  bool has_hostname = false, has_domainname = false;
  std::string hostname, domainname;
  std::vector<Sysctl> sysctls;
  std::vector<Rlimit> rlimits;
  bool has_oom = false;
  int32_t oom_score_adj = 0;
  uint32_t uid = 0, gid = 0;
  std::vector<uint32_t> additional_gids;
  bool has_umask = false;
  uint32_t umask = 022;
  std::string cwd = "/";
  std::vector<std::string> env, args;
  bool terminal = false;
  std::string console_socket;
  bool no_new_privs = false;
  bool has_caps = false;
  uint64_t cap_bounding = 0, cap_effective = 0, cap_inheritable = 0, cap_permitted = 0, cap_ambient = 0;
  std::string exec_fifo;
  std::vector<Hook> hooks;
  uint32_t preserve_fds = 0;
  bool events = false;
  bool no_pivot = false;
  std::string seccomp_bpf;
  uint32_t seccomp_flags = 0;
  std::string seccomp_listener, seccomp_listener_prefix;
  // The process places itself in its cgroups (the runtime then does not write cgroup.procs).
  std::vector<std::string> cgroup_tasks;
  std::string clone_into_cgroup;
  bool SelfJoins() const { return !cgroup_tasks.empty() || !clone_into_cgroup.empty(); }
  // Set by A from its own euid, not sent: an ordinary user's runtime (rootless) may not enter the
  // init's mount namespace to open bind sources, and writes id maps as runc's rootless nsexec.
  bool unprivileged = false;
  int exec_root_fd = -1;  // exec without a mount namespace: the container's root, opened by A
};

// Whether the container has a mount namespace of its own (made or joined). Without one it
// shares the runtime's (the spec's "inherit"): its root is a chroot, and its mounts go below a
// private bind of the rootfs in the runtime's namespace, which delete detaches.
bool HasMountNamespace(const Plan& plan);

// Decodes a plan; on a malformed plan it reports the error and exits (see fail.h).
Plan DecodePlan(const std::string& bytes);

}  // namespace tsrun
