// Generated documentation and reference numbers must match their sources.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "plan/explain.h"
#include "policy/catalog.h"

namespace least {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(Docs, PromisesPageIsCurrent) {
  std::string on_disk = read_file(LEAST_SOURCE_DIR "/docs/promises.md");
  ASSERT_FALSE(on_disk.empty()) << "docs/promises.md is missing";
  EXPECT_TRUE(on_disk == policy::render_promises_markdown())
      << "docs/promises.md is stale: run `make docs`";
}

// Recounts Docker's default profile (x86_64, no extra capabilities) so the
// numbers `least explain` prints cannot drift from the profile (the copy in
// bench/data, identical to ../shared/data, so that any clone can test).
TEST(Docs, DockerReferenceCounts) {
  std::string text = read_file(LEAST_SOURCE_DIR "/bench/data/docker-default-seccomp.json");
  ASSERT_FALSE(text.empty()) << "bench/data/docker-default-seccomp.json is missing";
  auto profile = nlohmann::json::parse(text);
  std::set<std::string> outright, all;
  for (const auto& entry : profile["syscalls"]) {
    if (entry["action"] != "SCMP_ACT_ALLOW") continue;
    const auto& inc = entry.value("includes", nlohmann::json::object());
    if (inc.contains("arches")) {
      bool x86 = false;
      for (const auto& a : inc["arches"]) x86 |= a == "amd64" || a == "x86_64";
      if (!x86) continue;
    }
    bool conditional = entry.contains("args") || inc.contains("caps") || inc.contains("minKernel");
    for (const auto& n : entry["names"]) {
      all.insert(n);
      if (!conditional) outright.insert(n);
    }
  }
  EXPECT_EQ(static_cast<int>(outright.size()), plan::kDockerDefaultOutright);
  EXPECT_EQ(static_cast<int>(all.size()), plan::kDockerDefaultTotal);
}

}  // namespace
}  // namespace least
