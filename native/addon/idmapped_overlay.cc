#include "idmapped_overlay.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace tsrun {

namespace {

std::string Errno(const std::string& what) { return what + ": " + strerror(errno); }

// The kernel's own words on a failed fsconfig (e.g. "overlayfs: failed to clone lowerpath").
std::string FsLog(int fs) {
  std::string out;
  char buf[512];
  ssize_t n;
  while ((n = read(fs, buf, sizeof buf - 1)) > 0) {
    buf[n] = 0;
    out += std::string(out.empty() ? " (" : "; ") + buf;
  }
  return out.empty() ? out : out + ")";
}

int FsconfigString(int fs, const char* key, const std::string& value) {
  return static_cast<int>(syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, key, value.c_str(), 0));
}

}  // namespace

std::string MountIdmappedOverlay(const std::string& target, const std::vector<std::string>& lowers, const std::string& upper,
                                 const std::string& work, const std::string& userns_path, const std::string& scratch_dir) {
  if (lowers.empty()) return "an overlay needs at least one lower layer";
  int userns = open(userns_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (userns < 0) return Errno("open the user namespace " + userns_path);
  std::string err;
  std::vector<std::string> attached;
  if (mkdir(scratch_dir.c_str(), 0700) < 0 && errno != EEXIST) err = Errno("mkdir " + scratch_dir);
  // overlayfs refuses detached trees as layers (clone_private_mount wants a mount in our
  // namespace): each idmapped layer is attached for the time of the overlay's creation.
  for (size_t i = 0; err.empty() && i < lowers.size(); i++) {
    int tree = static_cast<int>(syscall(SYS_open_tree, AT_FDCWD, lowers[i].c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC));
    if (tree < 0) {
      err = Errno("open_tree " + lowers[i]);
      break;
    }
    struct mount_attr attr = {};
    attr.attr_set = MOUNT_ATTR_IDMAP;
    attr.userns_fd = static_cast<uint64_t>(userns);
    std::string at = scratch_dir + "/" + std::to_string(i);
    if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0)
      err = Errno("idmap the layer " + lowers[i] + " (does its filesystem support idmapped mounts?)");
    else if (mkdir(at.c_str(), 0700) < 0 && errno != EEXIST) err = Errno("mkdir " + at);
    else if (syscall(SYS_move_mount, tree, "", AT_FDCWD, at.c_str(), MOVE_MOUNT_F_EMPTY_PATH) < 0)
      err = Errno("attach the idmapped layer " + lowers[i] + " at " + at);
    else attached.push_back(at);
    close(tree);
  }
  close(userns);
  // The new mount API: lowerdir+ takes one layer at a time, with no page limit on their number.
  int fs = -1;
  if (err.empty()) {
    fs = static_cast<int>(syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC));
    if (fs < 0) err = Errno("fsopen overlay");
  }
  if (err.empty() && FsconfigString(fs, "source", "overlay") < 0) err = Errno("overlay source") + FsLog(fs);
  for (size_t i = 0; err.empty() && i < attached.size(); i++)
    if (FsconfigString(fs, "lowerdir+", attached[i]) < 0) err = Errno("overlay lowerdir+ " + lowers[i]) + FsLog(fs);
  if (err.empty() && FsconfigString(fs, "upperdir", upper) < 0) err = Errno("overlay upperdir " + upper) + FsLog(fs);
  if (err.empty() && FsconfigString(fs, "workdir", work) < 0) err = Errno("overlay workdir " + work) + FsLog(fs);
  if (err.empty() && syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0)
    err = Errno("create the overlay for " + target) + FsLog(fs);
  if (err.empty()) {
    int mnt = static_cast<int>(syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, 0));
    if (mnt < 0) {
      err = Errno("fsmount the overlay for " + target);
    } else {
      if (syscall(SYS_move_mount, mnt, "", AT_FDCWD, target.c_str(), MOVE_MOUNT_F_EMPTY_PATH) < 0)
        err = Errno("mount the overlay on " + target);
      close(mnt);
    }
  }
  if (fs >= 0) close(fs);
  for (const std::string& at : attached) umount2(at.c_str(), MNT_DETACH);
  for (size_t i = 0; i < lowers.size(); i++) rmdir((scratch_dir + "/" + std::to_string(i)).c_str());
  rmdir(scratch_dir.c_str());
  return err;
}

}  // namespace tsrun
