// Writes the smallest readable policy that covers a Recording, and merges
// policies (several learned runs, or files learned on different machines).
#pragma once

#include <string>
#include <vector>

#include "base/error.h"
#include "learn/recording.h"

namespace least::learn {

// TOML for `least run -p`: the fewest promises that cover the calls with
// their arguments, `[syscalls] allow` only for the rest, paths collapsed into
// the directories a person would write, ports from the endpoints, limits
// from the peaks with headroom; each entry with a comment saying what was
// seen that needed it.
std::string write_policy(const Recording& recording);

struct PolicySource {
  std::string name;  // file name, for messages and comments
  std::string text;  // its TOML
};

// The union of the policies, as TOML (comments kept where they were written).
// Errors carry the parser's diagnostics, rendered.
Result<std::string> merge_policies(const std::vector<PolicySource>& sources);

}  // namespace least::learn
