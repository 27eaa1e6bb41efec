// `least diff`: what one Plan allows that another does not, layer by layer.
// Comparing Plans rather than policy texts means two policies that say the
// same thing differently compare equal, and every layer is covered.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "plan/plan.h"

namespace least::plan {

struct DiffEntry {
  std::string layer;   // "promises", "seccomp", "filesystem", "network", ...
  std::string what;    // "ptrace", "write /var/log", "connect tcp:443"
  std::string detail;  // the other side's answer: "EPERM", "only when domain == AF_UNIX"
};

struct PlanDiff {
  std::vector<DiffEntry> only_b;   // B allows, A does not
  std::vector<DiffEntry> only_a;   // A allows, B does not
  std::vector<DiffEntry> changed;  // both refuse, with different answers
  bool empty() const { return only_a.empty() && only_b.empty() && changed.empty(); }
};

PlanDiff diff_plans(const Plan& a, const Plan& b);

std::string render_diff(const PlanDiff& diff, const std::string& name_a, const std::string& name_b);
nlohmann::json diff_json(const PlanDiff& diff, const std::string& name_a,
                         const std::string& name_b);

}  // namespace least::plan
