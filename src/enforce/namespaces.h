// Namespace setup: the user-namespace id maps (written by the parent), and,
// inside the sandbox's init, the mount view and the loopback interface.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "base/error.h"
#include "plan/plan.h"

namespace least::enforce {

// clone() flags for the Plan's namespaces; `user` adds CLONE_NEWUSER.
// CLONE_NEWCGROUP is left to the init (after it joins its cgroups).
unsigned long namespace_clone_flags(const plan::NamespacePlan& ns, bool user);

// Maps the caller's uid and gid to themselves in the child's user namespace.
Status write_id_maps(pid_t child, uid_t uid, gid_t gid);

// The steps of the mount view, for error messages.
enum class MountStep { kPrivate, kCloneWritable, kReadOnly, kRestoreWritable, kProc, kTmp };
const char* mount_step_name(MountStep step);

struct MountFailure {
  MountStep step;
  int err;
};

// In the init, after clone: makes mounts private, the host read-only except
// `writable` (when asked), mounts /proc for the new pid namespace and fresh
// /tmp and /dev/shm (when asked). Allocates nothing; returns err 0 on success.
MountFailure setup_mount_view(const plan::NamespacePlan& ns) noexcept;

// Brings up "lo" in a new network namespace. Returns 0 or an errno.
int bring_up_loopback() noexcept;

}  // namespace least::enforce
