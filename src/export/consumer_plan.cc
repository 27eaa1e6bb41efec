#include "export/consumer_plan.h"

#include <algorithm>

namespace least::exporter {

namespace {

plan::Action without_supervisor(plan::Action a) {
  return a.kind == plan::Action::Kind::kNotify ? plan::Action::error(a.errno_value) : a;
}

bool is_launcher_condition(const std::vector<plan::ArgCond>& conds) {
  return conds.size() == 1 && conds[0].arg == 0 && conds[0].op == plan::Compare::kMaskedEq &&
         conds[0].value == static_cast<uint64_t>(plan::kLauncherSocketFd);
}

}  // namespace

bool is_numbered(const plan::SyscallRule& rule) {
  return !rule.name.empty() && rule.name[0] == '#';
}

ConsumerSeccomp consumer_seccomp(const plan::Plan& plan) {
  ConsumerSeccomp out;
  out.seccomp = plan.seccomp;
  out.seccomp.default_action = without_supervisor(plan.seccomp.default_action);
  out.notes.push_back(
      "refused calls are answered with their errno but not reported: only `least run` has the "
      "supervisor that explains them");
  std::vector<plan::SyscallRule> rules;
  for (plan::SyscallRule r : out.seccomp.rules) {
    if ((r.name == "execve" || r.name == "execveat") &&
        r.action.kind == plan::Action::Kind::kNotify) {
      // The runtime execs the program after installing the filter; refusing
      // exec would refuse the start itself.
      r.action = plan::Action::allow();
      r.sources = {"consumer: the runtime execs the program after installing the filter"};
      if (r.name == "execve")
        out.notes.push_back(
            "execve and execveat are allowed: without the promise exec `least run` refuses every "
            "exec but the program's start, which needs its supervisor");
    }
    r.action = without_supervisor(r.action);
    if (r.name == "sendmsg" && r.conditional()) {
      std::erase_if(r.alternatives, is_launcher_condition);
      if (r.alternatives.empty()) continue;  // only least's launcher needed it
    }
    rules.push_back(std::move(r));
  }
  out.seccomp.rules = std::move(rules);
  return out;
}

}  // namespace least::exporter
