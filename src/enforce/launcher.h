// Starts a program under a Plan and waits for it: the one place where the
// layers are applied, in order, in the child between fork and exec.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
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

  // Hooks for callers that watch the run rather than confine it (least learn).
  // Answers the seccomp listener instead of a Supervisor built from `supervision`.
  std::function<std::unique_ptr<NotificationHandler>(UniqueFd listener)> make_handler;
  // Called with the sandbox's first process (as our pid namespace sees it)
  // before it is let go, i.e. before anything of the program has run.
  std::function<Status(pid_t)> on_started;
  // More descriptors for the launcher's loop; on_ready runs when one is
  // readable, and an error ends the run.
  struct WatchedFd {
    int fd = -1;
    std::function<Status()> on_ready;
  };
  std::vector<WatchedFd> watched;
  // Called every `tick` while the program runs (0: never).
  std::chrono::milliseconds tick{0};
  std::function<void()> on_tick;
  // Called for each of kForwardedSignals that least receives, before it is
  // passed on; `from_terminal` when the terminal sent it to the whole
  // process group (the program has it already).
  std::function<void(int signo, bool from_terminal, pid_t sandbox)> on_signal;
};

// Runs the program confined and returns the status `least` should exit with:
// the program's exit code, or 128+N when signal N ended it. Errors: kNotFound
// (exit 127), kCannotExec (126), anything else is least's own failure (125).
Result<int> run_confined(const LaunchRequest& request);

// Looks a program up the way execvp would, without running anything.
Result<std::string> resolve_program(const std::string& name);

}  // namespace least::enforce
