// What every command that reads a policy shares: -p FILE plus pledge-style
// flags, loaded, validated and lowered in one place.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "plan/plan.h"
#include "policy/diagnostics.h"
#include "policy/pledge_flags.h"
#include "policy/policy.h"

namespace least::cli {

struct PolicyOptions {
  std::string file;  // -p
  policy::PledgeFlags flags;
  std::string arch;  // --arch, default native

  void add_to(CLI::App& app, bool with_pledge_flags);
};

struct LoadedPolicy {
  policy::Policy policy;
  plan::Plan plan;
};

// Loads, validates and lowers; prints every diagnostic (errors and warnings)
// to stderr. nullopt when any was an error.
std::optional<LoadedPolicy> load_policy(const PolicyOptions& options);

bool use_color();  // stderr is a terminal and NO_COLOR is unset

void print_error(const std::string& message);
void print_warning(const std::string& message);

}  // namespace least::cli
