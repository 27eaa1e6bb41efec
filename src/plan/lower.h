// Lowering: Policy -> Plan, once, for one architecture.
#pragma once

#include "base/error.h"
#include "plan/plan.h"
#include "policy/policy.h"

namespace least::plan {

// The policy must have passed policy::validate_policy. An empty policy gets
// the built-in default promises.
Result<Plan> lower_policy(const policy::Policy& policy, sys::Arch arch = sys::native_arch());

// Complain mode (`least check`): the same seccomp rules, but every refusal
// goes to the supervisor, which lets it through and reports it; Landlock,
// the read-only view and the empty network namespace are off, so that
// nothing is refused.
Plan complain_plan(Plan plan);

// For a run where no supervisor can be notified (see
// enforce::seccomp_listener_available): refusals answer their errno without
// a report. Refusing exec needs the supervisor, so without it that is an
// error unless `best_effort`, which then allows exec and says so.
Result<Plan> without_supervisor(Plan plan, bool best_effort);

// What a restricted filesystem always grants every program (the loader,
// libraries, harmless devices): the entries that exist on this host.
std::vector<PathRule> runtime_path_rules();

// Lets the program itself (and its #! interpreter) be executed when the
// filesystem is restricted; `least run` calls it once the program is found.
void allow_program(Plan& plan, const std::string& path);

}  // namespace least::plan
