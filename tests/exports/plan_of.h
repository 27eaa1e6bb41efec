// A policy text lowered to its Plan, for the export tests; paths need not
// exist on this machine.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "plan/lower.h"
#include "policy/parser.h"

namespace least::testing {

inline plan::Plan plan_of(const std::string& toml) {
  policy::Diagnostics diags;
  auto p = policy::parse_policy_text(toml, "test.least.toml", diags);
  EXPECT_TRUE(p) << diags.render();
  if (!p) return {};
  policy::validate_policy(*p, diags, {.check_paths_exist = false});
  EXPECT_FALSE(diags.has_errors()) << diags.render();
  auto plan = plan::lower_policy(*p);
  EXPECT_TRUE(plan) << plan.error().str();
  return *plan;
}

}  // namespace least::testing
