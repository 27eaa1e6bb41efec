#include "enforce/namespaces.h"

#include <errno.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <net/if.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>

#include "sys/mount_api.h"

namespace least::enforce {

unsigned long namespace_clone_flags(const plan::NamespacePlan& ns, bool user) {
  unsigned long flags = 0;
  if (user) flags |= CLONE_NEWUSER;
  if (ns.mount) flags |= CLONE_NEWNS;
  if (ns.pid) flags |= CLONE_NEWPID;
  if (ns.ipc) flags |= CLONE_NEWIPC;
  if (ns.uts) flags |= CLONE_NEWUTS;
  if (ns.net) flags |= CLONE_NEWNET;
  return flags;
}

namespace {

Status write_proc(pid_t pid, const char* file, const std::string& text) {
  std::string path = fmt::format("/proc/{}/{}", pid, file);
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return sys_error(fmt::format("open {}", path), errno);
  ssize_t n = write(fd, text.data(), text.size());
  int err = errno;
  close(fd);
  if (n != static_cast<ssize_t>(text.size())) return sys_error(fmt::format("write {}", path), err);
  return ok_status();
}

}  // namespace

Status write_id_maps(pid_t child, uid_t uid, gid_t gid) {
  // An unprivileged process may map only its own ids, and a gid map needs
  // setgroups denied first (so groups cannot be dropped to escape a deny ACL).
  LEAST_TRY(write_proc(child, "setgroups", "deny"));
  LEAST_TRY(write_proc(child, "uid_map", fmt::format("{} {} 1\n", uid, uid)));
  LEAST_TRY(write_proc(child, "gid_map", fmt::format("{} {} 1\n", gid, gid)));
  return ok_status();
}

const char* mount_step_name(MountStep step) {
  switch (step) {
    case MountStep::kPrivate:
      return "make mounts private";
    case MountStep::kCloneWritable:
      return "keep a writable path";
    case MountStep::kReadOnly:
      return "make the host read-only";
    case MountStep::kRestoreWritable:
      return "mount a writable path back";
    case MountStep::kProc:
      return "mount /proc";
    case MountStep::kTmp:
      return "mount a private /tmp";
  }
  return "?";
}

MountFailure setup_mount_view(const plan::NamespacePlan& ns) noexcept {
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
    return {MountStep::kPrivate, errno};

  // A fresh /proc shows the new pid namespace only; mounted before the host
  // turns read-only so it is read-only too (no writes to /proc/sys).
  if (ns.pid && mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
    return {MountStep::kProc, errno};

  if (ns.read_only) {
    // Detached copies of the writable paths, taken while still writable...
    constexpr size_t kMaxWritable = 64;
    int copies[kMaxWritable];
    size_t n = ns.writable.size() < kMaxWritable ? ns.writable.size() : kMaxWritable;
    for (size_t i = 0; i < n; ++i) {
      copies[i] =
          sys::open_tree(AT_FDCWD, ns.writable[i].c_str(), sys::kOpenTreeClone | sys::kAtRecursive);
      if (copies[i] < 0) return {MountStep::kCloneWritable, errno};
    }
    // ...then everything read-only, then the copies put back on top.
    if (sys::mount_setattr(AT_FDCWD, "/", sys::kAtRecursive, sys::kMountAttrRdonly, 0) != 0)
      return {MountStep::kReadOnly, errno};
    for (size_t i = 0; i < n; ++i) {
      if (sys::move_mount(copies[i], "", AT_FDCWD, ns.writable[i].c_str(),
                          sys::kMoveMountFEmptyPath) != 0)
        return {MountStep::kRestoreWritable, errno};
      close(copies[i]);
    }
    // The working directory still points into the mount that just turned
    // read-only; entering it again by name lands on a writable copy when it
    // is (beneath) one, so `mkdir relative` works where the policy says it
    // may. Failure keeps the old directory: nothing is lost.
    char cwd[4096];
    if (getcwd(cwd, sizeof cwd)) {
      int ignored = chdir(cwd);
      (void)ignored;
    }
  }

  if (ns.private_tmp) {
    for (const char* dir : {"/tmp", "/dev/shm"})
      if (mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") != 0)
        return {MountStep::kTmp, errno};
  }
  return {MountStep::kPrivate, 0};
}

int bring_up_loopback() noexcept {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno;
  struct ifreq ifr = {};
  strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  int err = 0;
  if (ioctl(fd, SIOCGIFFLAGS, &ifr) != 0) {
    err = errno;
  } else {
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (ioctl(fd, SIOCSIFFLAGS, &ifr) != 0) err = errno;
  }
  close(fd);
  return err;
}

}  // namespace least::enforce
