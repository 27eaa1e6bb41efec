// Starts a program under a Plan and waits for it: the one place where the
// layers are applied, in order, in the child between fork and exec.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "base/error.h"
#include "enforce/capabilities.h"
#include "enforce/landlock_ruleset.h"
#include "enforce/seccomp_filter.h"
#include "enforce/supervisor.h"
#include "plan/plan.h"

namespace least::enforce {

struct LaunchRequest {
  std::vector<std::string> argv;  // argv[0] is looked up in PATH
  const plan::Plan* plan = nullptr;
  const BpfProgram* filter = nullptr;
  const LandlockRuleset* landlock = nullptr;  // from build_landlock_ruleset
  CapabilityPlan capabilities;
  // Run without namespaces when the kernel or a container refuses them.
  bool best_effort = false;
  // How refused calls are answered and reported.
  SupervisorOptions supervision;
  // Receives warnings found while launching (e.g. a limit held by a fallback).
  std::function<void(const std::string&)> warn = [](const std::string&) {};
};

// Runs the program confined and returns the status `least` should exit with:
// the program's exit code, or 128+N when signal N ended it. Errors: kNotFound
// (exit 127), kCannotExec (126), anything else is least's own failure (125).
Result<int> run_confined(const LaunchRequest& request);

// Looks a program up the way execvp would, without running anything.
Result<std::string> resolve_program(const std::string& name);

}  // namespace least::enforce
