// The pledge-style command line: `--promise "stdio rpath" --read /etc` builds
// the same Policy a file would, and adds to a file given with -p.
#pragma once

#include <string>
#include <vector>

#include "policy/diagnostics.h"
#include "policy/policy.h"

namespace least::policy {

struct PledgeFlags {
  std::vector<std::string> promises;  // each may hold several words
  std::vector<std::string> read, write, create, exec;
  std::vector<std::string> connect, bind;
  std::vector<std::string> allow_syscalls;
  std::vector<std::string> deny_syscalls;  // "ptrace" or "ptrace=kill"
  bool any() const;
};

Policy policy_from_flags(const PledgeFlags& flags, Diagnostics& diags);

}  // namespace least::policy
