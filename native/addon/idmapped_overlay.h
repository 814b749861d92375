// A container's overlay rootfs as seen from its pod's user namespace: each image layer is
// mounted idmapped (host ids shifted by the namespace's maps), so image files keep their owners
// inside the pod, as containerd 2.x does for user-namespaced pods.
#pragma once
#include <string>
#include <vector>

namespace tsrun {

// Mounts overlayfs on target with lowers (top layer first) each idmapped with the user
// namespace pinned at userns_path, and upper/work as they are (the caller owns them by the
// namespace's root). Each idmapped layer is attached under scratch_dir only while the overlay
// is made: overlayfs keeps private clones of its layers, so none stays in the mount table.
// Returns "" or an error naming the step.
std::string MountIdmappedOverlay(const std::string& target, const std::vector<std::string>& lowers, const std::string& upper,
                                 const std::string& work, const std::string& userns_path, const std::string& scratch_dir);

}  // namespace tsrun
