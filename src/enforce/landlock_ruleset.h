// Builds the Landlock ruleset for a Plan, in the parent, at the highest ABI
// the kernel offers; the child only calls landlock_restrict_self on it.
#pragma once

#include <string>
#include <vector>

#include "base/error.h"
#include "base/unique_fd.h"
#include "plan/plan.h"

namespace least::enforce {

struct LandlockRuleset {
  UniqueFd fd;  // invalid when there is nothing to enforce
  int abi = 0;
  // Rules on /proc/self/...: opened in the parent they would name least's own
  // process, so the child adds them itself (add_deferred_rules).
  struct Deferred {
    std::string path;
    uint64_t access = 0;  // Landlock rights, already masked to the ABI
  };
  std::vector<Deferred> in_child;
  std::vector<std::string> warnings;  // what this kernel could not enforce
};

// Fails when the policy needs something this kernel cannot enforce, unless
// `best_effort`, which turns each such gap into a named warning.
Result<LandlockRuleset> build_landlock_ruleset(const plan::Plan& plan, bool best_effort);

// In the child, before landlock_restrict_self: returns 0 or an errno.
int add_deferred_rules(int ruleset_fd,
                       const std::vector<LandlockRuleset::Deferred>& rules) noexcept;

}  // namespace least::enforce
