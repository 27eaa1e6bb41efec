// The seccomp part of the Plan as a consumer without least's supervisor
// holds it: container runtimes, systemd and bwrap install the filter and then
// exec the program themselves, and none of them answers user notifications.
#pragma once

#include <string>
#include <vector>

#include "plan/plan.h"

namespace least::exporter {

struct ConsumerSeccomp {
  plan::SeccompPlan seccomp;       // notify answered by its errno; launcher rules gone
  std::vector<std::string> notes;  // each difference from `least run`, for people
};

ConsumerSeccomp consumer_seccomp(const plan::Plan& plan);

// True for the rules of numbers newer than the syscall tables ("#457"):
// formats that name syscalls cannot carry them.
bool is_numbered(const plan::SyscallRule& rule);

}  // namespace least::exporter
