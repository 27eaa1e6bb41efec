// Lowering: Policy -> Plan, once, for one architecture.
#pragma once

#include "base/error.h"
#include "plan/plan.h"
#include "policy/policy.h"

namespace least::plan {

// The policy must have passed policy::validate_policy. An empty policy gets
// the built-in default promises.
Result<Plan> lower_policy(const policy::Policy& policy, sys::Arch arch = sys::native_arch());

// Lets the program itself (and its #! interpreter) be executed when the
// filesystem is restricted; `least run` calls it once the program is found.
void allow_program(Plan& plan, const std::string& path);

}  // namespace least::plan
