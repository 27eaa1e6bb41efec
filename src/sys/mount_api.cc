#include "sys/mount_api.h"

#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_open_tree
#define SYS_open_tree 428
#define SYS_move_mount 429
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif

namespace least::sys {

namespace {

struct MountAttr {
  uint64_t attr_set;
  uint64_t attr_clr;
  uint64_t propagation;
  uint64_t userns_fd;
};

}  // namespace

int open_tree(int dirfd, const char* path, unsigned flags) noexcept {
  return static_cast<int>(syscall(SYS_open_tree, dirfd, path, flags | 02000000 /* O_CLOEXEC */));
}

int move_mount(int from_dirfd, const char* from_path, int to_dirfd, const char* to_path,
               unsigned flags) noexcept {
  return static_cast<int>(syscall(SYS_move_mount, from_dirfd, from_path, to_dirfd, to_path, flags));
}

int mount_setattr(int dirfd, const char* path, unsigned flags, uint64_t attr_set,
                  uint64_t attr_clr) noexcept {
  MountAttr attr{attr_set, attr_clr, 0, 0};
  return static_cast<int>(syscall(SYS_mount_setattr, dirfd, path, flags, &attr, sizeof attr));
}

}  // namespace least::sys
