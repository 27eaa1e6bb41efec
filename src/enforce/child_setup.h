// What the processes inside the sandbox need, prepared by the parent before
// clone so that nothing after it allocates, and how they report failure.
#pragma once

#include <linux/filter.h>
#include <sys/types.h>

#include <string>
#include <vector>

#include "enforce/capabilities.h"
#include "enforce/landlock_ruleset.h"
#include "plan/plan.h"

namespace least::enforce {

// Every step after clone, in order; the failing one is named in the error.
enum class Stage : int {
  kSync,
  kPdeathsig,
  kCgroupNamespace,
  kMounts,
  kLoopback,
  kFork,
  kSocket,
  kRlimit,
  kCapabilities,
  kNoNewPrivs,
  kLandlock,
  kSeccomp,
  kSendListener,
  kExec
};
const char* stage_name(Stage stage);

// Written to the error pipe by whichever process fails.
struct ChildFailure {
  Stage stage;
  int err;
  int detail;  // the mount step for kMounts
};

struct ChildSetup {
  std::string path;
  std::vector<char*> argv;
  const plan::Plan* plan = nullptr;
  sock_fprog prog{};
  bool listener = false;
  CapabilityPlan capabilities;
  const LandlockRuleset* landlock = nullptr;
  std::vector<plan::Rlimit> rlimits;  // the plan's, plus cgroup fallbacks
  int error_pipe = -1;                // write end, close-on-exec
  int socket = -1;                    // to hand the seccomp listener over
  int sync_pipe = -1;                 // read end: the parent's "go" (EOF: the parent died)
  bool in_pid_namespace = false;
};

[[noreturn]] void child_fail(const ChildSetup& s, Stage stage, int err, int detail = 0);

// The program's process: the layers in order, then exec. Never returns.
[[noreturn]] void program_main(const ChildSetup& s);

// The sandbox's init (pid 1 of the new pid namespace): namespaces set up,
// then the program forked, zombies reaped, signals forwarded; exits with the
// program's status. Never returns.
[[noreturn]] void sandbox_init_main(const ChildSetup& s);

int status_to_exit_code(int status);

inline constexpr int kForwardedSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

}  // namespace least::enforce
