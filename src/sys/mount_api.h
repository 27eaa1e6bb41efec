// The new mount API (Linux 5.2+, mount_setattr 5.12+): glibc 2.36 has no
// wrappers and its <sys/mount.h> clashes with <linux/mount.h>, so the few
// constants used are defined here. All calls are safe after fork.
#pragma once

#include <cstdint>

namespace least::sys {

inline constexpr unsigned kOpenTreeClone = 1;           // OPEN_TREE_CLONE
inline constexpr unsigned kAtRecursive = 0x8000;        // AT_RECURSIVE
inline constexpr unsigned kAtEmptyPath = 0x1000;        // AT_EMPTY_PATH
inline constexpr unsigned kMoveMountFEmptyPath = 0x04;  // MOVE_MOUNT_F_EMPTY_PATH
inline constexpr uint64_t kMountAttrRdonly = 0x01;      // MOUNT_ATTR_RDONLY
inline constexpr uint64_t kMountAttrNosuid = 0x02;
inline constexpr uint64_t kMountAttrNodev = 0x04;

// Each returns the syscall's result (-1 with errno set on failure).
int open_tree(int dirfd, const char* path, unsigned flags) noexcept;
int move_mount(int from_dirfd, const char* from_path, int to_dirfd, const char* to_path,
               unsigned flags) noexcept;
int mount_setattr(int dirfd, const char* path, unsigned flags, uint64_t attr_set,
                  uint64_t attr_clr) noexcept;

}  // namespace least::sys
