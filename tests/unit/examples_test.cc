// Every example policy shipped in examples/ loads, validates and lowers
// cleanly on this system: they are what people copy first.
#include <gtest/gtest.h>

#include <filesystem>

#include "plan/lower.h"
#include "policy/parser.h"

namespace least {
namespace {

TEST(Examples, AllLoadValidateAndLower) {
  int count = 0;
  for (const auto& e : std::filesystem::directory_iterator(LEAST_SOURCE_DIR "/examples")) {
    if (e.path().extension() != ".toml") continue;
    ++count;
    policy::Diagnostics diags;
    auto p = policy::load_policy_file(e.path().string(), diags);
    ASSERT_TRUE(p) << diags.render();
    policy::validate_policy(*p, diags);
    EXPECT_TRUE(diags.all().empty()) << diags.render();
    EXPECT_TRUE(plan::lower_policy(*p).ok()) << e.path();
  }
  EXPECT_GE(count, 4);
}

}  // namespace
}  // namespace least
