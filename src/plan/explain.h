// `least explain`: what a Plan allows, for a person, before anything runs.
#pragma once

#include <string>

#include "plan/plan.h"

namespace least::plan {

// Docker's default seccomp profile (moby, the copy in shared/data) on x86_64:
// syscalls allowed outright, and with conditions counted too. A unit test
// recounts them from the JSON so this cannot drift silently.
inline constexpr int kDockerDefaultOutright = 363;
inline constexpr int kDockerDefaultTotal = 415;

struct SyscallCounts {
  int outright = 0;     // allowed with no argument checks
  int conditional = 0;  // allowed only with argument checks
};
SyscallCounts count_allowed(const SeccompPlan& plan);

std::string render_explanation(const Plan& plan, const std::string& source);

}  // namespace least::plan
