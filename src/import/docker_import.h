// least import: a Docker/Moby or OCI seccomp profile (JSON) read back into a
// policy. The profile is evaluated as a runtime would on this host (its
// includes/excludes for the architecture, the granted capabilities and the
// kernel), then written as promises where a promise fits exactly and as
// [syscalls] allow/deny for the rest, with the profile's own argument
// conditions where no promise matches them exactly. What a policy cannot say
// (conditional refusals, other architectures) is left out and reported.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "plan/plan.h"

namespace least::importer {

struct ImportOptions {
  // Capabilities the container holds, for the profile's includes/excludes
  // "caps" ("CAP_SYS_ADMIN"). Default none: least drops every capability the
  // policy does not keep, and the imported policy keeps exactly these.
  std::vector<std::string> capabilities;
  sys::Arch arch = sys::native_arch();
  std::string kernel;  // "6.1" for includes.minKernel; empty: this host's
  std::string source;  // the profile's file name, for the comments
};

// One syscall as the profile treats it on `arch`: entries naming it merged.
struct ProfileRule {
  std::string name;
  plan::Action action;
  // Empty: unconditional. Otherwise any one alternative (conditions ANDed),
  // one per entry, as the profile writes them (operators kept).
  std::vector<std::vector<plan::ArgCond>> alternatives;
  std::string where;  // "syscalls[3]", the first entry naming it
};

struct Profile {
  plan::Action default_action;
  std::vector<ProfileRule> rules;  // sorted by name; none repeats the default
  std::vector<std::string> notes;
};

// Parses and evaluates a profile: a Docker profile, an OCI linux.seccomp
// object, or a whole config.json. Errors name the JSON path
// ("syscalls[12].args[0].op: unknown operator ...").
Result<Profile> read_profile(std::string_view json_text, const ImportOptions& options);

struct ImportedPolicy {
  std::string toml;                   // loads with `least explain -p`
  std::vector<std::string> promises;  // inferred
  std::vector<std::string> allow;     // [syscalls] allow
  // Syscalls the profile allows under argument conditions no promise grants
  // exactly: [syscalls] allow with the profile's own `when`.
  std::vector<std::string> conditional;
  std::vector<std::string> notes;
};

Result<ImportedPolicy> import_profile(std::string_view json_text, const ImportOptions& options);

}  // namespace least::importer
