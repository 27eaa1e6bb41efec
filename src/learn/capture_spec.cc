// What to copy out of the caller for each syscall: path arguments from one
// table, argument values from the promise catalog (the arguments its grants
// test), and the sockaddr of bind and connect.
#include <fcntl.h>

#include <string_view>
#include <vector>

#include "learn/event_recorder.h"
#include "learn/syscall_paths.h"
#include "plan/plan.h"
#include "policy/catalog.h"
#include "sys/syscall_table.h"

namespace least::learn {

namespace {

using plan::kPathCreate;
using plan::kPathExec;
using plan::kPathRead;
using plan::kPathWrite;
using Access = PathOperand::Access;

PathOperand fixed(int8_t path, uint32_t access, int8_t dirfd = -1) {
  return PathOperand{path, dirfd, Access::kFixed, -1, access};
}

struct NamedOperands {
  const char* name;
  PathOperands operands;
};

// Only calls that need a Landlock right are here. Looking at a path (stat,
// access, readlink, statfs, xattr reads, chdir) needs none, so those calls
// are counted but their paths are not copied: they are most of a tree walk's
// calls (tar: 20 000 newfstatat against 900 openat), and the writer would
// grant nothing for them anyway (curl and tar stat "/": a read right there
// would open the whole tree). Metadata changes (chmod, chown, utimes, xattrs)
// count as writes: they change the file. A symlink's target is its content,
// not a path it touches.
const NamedOperands kPathSyscalls[] = {
    {"open", {{0, -1, Access::kOpenFlags, 1, 0}, {}}},
    {"openat", {{1, 0, Access::kOpenFlags, 2, 0}, {}}},
    {"openat2", {{1, 0, Access::kOpenHow, -1, 0}, {}}},
    {"creat", {fixed(0, kPathWrite | kPathCreate), {}}},
    {"inotify_add_watch", {fixed(1, kPathRead), {}}},
    {"execve", {fixed(0, kPathExec), {}}},
    {"execveat", {fixed(1, kPathExec, 0), {}}},
    {"truncate", {fixed(0, kPathWrite), {}}},
    {"chmod", {fixed(0, kPathWrite), {}}},
    {"chown", {fixed(0, kPathWrite), {}}},
    {"lchown", {fixed(0, kPathWrite), {}}},
    {"utime", {fixed(0, kPathWrite), {}}},
    {"utimes", {fixed(0, kPathWrite), {}}},
    {"futimesat", {fixed(1, kPathWrite, 0), {}}},
    {"utimensat", {fixed(1, kPathWrite, 0), {}}},
    {"fchmodat", {fixed(1, kPathWrite, 0), {}}},
    {"fchmodat2", {fixed(1, kPathWrite, 0), {}}},
    {"fchownat", {fixed(1, kPathWrite, 0), {}}},
    {"setxattr", {fixed(0, kPathWrite), {}}},
    {"lsetxattr", {fixed(0, kPathWrite), {}}},
    {"removexattr", {fixed(0, kPathWrite), {}}},
    {"lremovexattr", {fixed(0, kPathWrite), {}}},
    {"mkdir", {fixed(0, kPathCreate), {}}},
    {"mkdirat", {fixed(1, kPathCreate, 0), {}}},
    {"rmdir", {fixed(0, kPathCreate), {}}},
    {"unlink", {fixed(0, kPathCreate), {}}},
    {"unlinkat", {fixed(1, kPathCreate, 0), {}}},
    {"mknod", {fixed(0, kPathCreate), {}}},
    {"mknodat", {fixed(1, kPathCreate, 0), {}}},
    {"rename", {fixed(0, kPathCreate), fixed(1, kPathCreate)}},
    {"renameat", {fixed(1, kPathCreate, 0), fixed(3, kPathCreate, 2)}},
    {"renameat2", {fixed(1, kPathCreate, 0), fixed(3, kPathCreate, 2)}},
    {"link", {fixed(0, kPathRead), fixed(1, kPathCreate)}},
    {"linkat", {fixed(1, kPathRead, 0), fixed(3, kPathCreate, 2)}},
    {"symlink", {fixed(1, kPathCreate), {}}},
    {"symlinkat", {fixed(2, kPathCreate, 1), {}}},
};

struct Tables {
  std::vector<CaptureSpec> specs;
  std::vector<PathOperands> paths;
};

const Tables& tables() {
  static const Tables t = [] {
    Tables t;
    const size_t n = sys::kSyscallNumberCeiling + 1;
    t.specs.resize(n);
    t.paths.resize(n);
    const sys::Arch arch = sys::native_arch();
    auto number = [&](std::string_view name) -> int {
      auto nr = sys::syscall_number(name, arch);
      return nr && *nr >= 0 && static_cast<size_t>(*nr) < n ? *nr : -1;
    };
    for (const auto& [name, operands] : kPathSyscalls) {
      int nr = number(name);
      if (nr < 0) continue;
      t.paths[nr] = operands;
      for (const PathOperand* p : {&operands.first, &operands.second})
        if (p->path >= 0) t.specs[nr].string_args |= static_cast<uint8_t>(1u << p->path);
    }
    for (const char* name : {"bind", "connect"}) {
      if (int nr = number(name); nr >= 0) {
        t.specs[nr].sockaddr_arg = 1;
        t.specs[nr].sockaddr_len_arg = 2;
      }
    }
    // openat2's struct open_how is a sized struct like a sockaddr: copied the
    // same way, so that its flags say read, write or create.
    if (int nr = number("openat2"); nr >= 0) {
      t.specs[nr].sockaddr_arg = 2;
      t.specs[nr].sockaddr_len_arg = 3;
    }
    for (const auto& promise : policy::promise_catalog())
      for (const auto& grant : promise.grants) {
        int nr = number(grant.syscall);
        if (nr < 0) continue;
        for (const auto& check : grant.when)
          if (check.arg < 6) t.specs[nr].value_args |= static_cast<uint8_t>(1u << check.arg);
      }
    return t;
  }();
  return t;
}

}  // namespace

CaptureSpec capture_spec(int nr) {
  const auto& t = tables();
  if (nr < 0 || static_cast<size_t>(nr) >= t.specs.size()) return {};
  return t.specs[nr];
}

const PathOperands& path_operands(int nr) {
  static const PathOperands none;
  const auto& t = tables();
  if (nr < 0 || static_cast<size_t>(nr) >= t.paths.size()) return none;
  return t.paths[nr];
}

uint32_t access_from_open_flags(uint64_t flags) {
  // O_PATH opens no content (Landlock checks nothing): looked at only.
  if (flags & O_PATH) return 0;
  uint32_t access = 0;
  const uint64_t mode = flags & O_ACCMODE;
  if (mode == O_WRONLY || mode == O_RDWR || (flags & O_TRUNC)) access |= kPathWrite;
  if (mode == O_RDONLY || mode == O_RDWR) access |= kPathRead;
  if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) access |= kPathCreate;
  return access;
}

}  // namespace least::learn
