// Capabilities: every set emptied except the capabilities the policy keeps.
// Prepared in the parent (names, the kernel's last capability), applied in
// the child with plain prctl/capset calls that allocate nothing.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/error.h"

namespace least::enforce {

struct CapabilityPlan {
  uint64_t keep = 0;  // bit N: keep capability N
  int last_cap = 0;   // /proc/sys/kernel/cap_last_cap
  // Leave every set as it is (least learn: the program runs as it would
  // without least, so that what it needs can be seen).
  bool keep_all = false;
};

Result<CapabilityPlan> prepare_capabilities(const std::vector<std::string>& keep);

// In the child, before exec. Drops the bounding set (when CAP_SETPCAP is
// held, i.e. as root), limits the inheritable set to `keep` and raises the
// kept ones as ambient so they survive exec for non-root programs too.
// Returns 0 or an errno.
int apply_capabilities(const CapabilityPlan& plan) noexcept;

}  // namespace least::enforce
