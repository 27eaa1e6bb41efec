// Compiles a SeccompPlan into a classic BPF program with libseccomp: one
// filter, binary-tree dispatch, unconditional rules for hot syscalls so the
// kernel's per-filter allow cache skips the BPF for them.
#pragma once

#include <linux/filter.h>

#include <string>
#include <vector>

#include "base/error.h"
#include "plan/plan.h"

namespace least::enforce {

struct BpfProgram {
  std::vector<sock_filter> code;
  bool needs_listener = false;  // some rule asks the supervisor (SECCOMP_RET_USER_NOTIF)
};

Result<BpfProgram> compile_seccomp(const plan::SeccompPlan& plan);

// Whether a filter installed now may have a user-notification listener: the
// kernel allows one per filter tree, so not when least runs inside another
// supervised sandbox (least inside least, some containers). Probed in a
// throwaway child, and only when a filter is already in place.
bool seccomp_listener_available();

// libseccomp's pseudo-code of the same filter, for `least explain --pfc`.
Result<std::string> render_seccomp_pfc(const plan::SeccompPlan& plan);

}  // namespace least::enforce
