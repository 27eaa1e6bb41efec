// An Analysis as people and programs read it: a policy (promises first, then
// residual `[syscalls]`, with a header that says what static analysis could
// not see), and JSON with the provenance of every syscall.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "analyze/analysis.h"
#include "learn/recording.h"

namespace least::analyze {

// The syscalls as the policy writer takes them: per syscall, the number of
// sites, and for the arguments the catalog tells apart, the values when all
// sites pass constants. With a non-constant syscall number anywhere
// reachable, every syscall of the table is included (the documented
// conservative fallback).
learn::Recording as_recording(const Analysis& analysis);

std::string policy_toml(const Analysis& analysis);

nlohmann::json analysis_json(const Analysis& analysis);

}  // namespace least::analyze
