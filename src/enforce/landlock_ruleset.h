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
  std::vector<std::string> warnings;  // what this kernel could not enforce
};

// Fails when the policy needs something this kernel cannot enforce, unless
// `best_effort`, which turns each such gap into a named warning.
Result<LandlockRuleset> build_landlock_ruleset(const plan::Plan& plan, bool best_effort);

}  // namespace least::enforce
