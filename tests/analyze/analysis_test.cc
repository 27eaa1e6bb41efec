// The whole analysis on the hand-written fixtures (fixtures/EXPECTED.md):
// exactly the syscalls each makes on purpose are found at their own sites,
// and what static analysis cannot see is flagged.
#include "analyze/analysis.h"

#include <gtest/gtest.h>

#include <set>

#include "analyze/analysis_report.h"
#include "policy/diagnostics.h"
#include "policy/parser.h"

namespace least::analyze {
namespace {

const std::string kFixtures = LEAST_FIXTURE_DIR;

// The rare syscalls the fixtures make on purpose (EXPECTED.md).
const std::set<uint64_t> kMarkers = {24, 95, 99, 100, 110, 111, 140};

Analysis analyse(const std::string& fixture) {
  auto a = analyze_program(kFixtures + "/" + fixture, {});
  EXPECT_TRUE(a.ok()) << a.error().str();
  return std::move(a).value();
}

// Marker syscalls with a site in the object whose path ends in `object`.
std::set<uint64_t> markers_made_in(const Analysis& a, const std::string& object) {
  std::set<uint64_t> out;
  for (const auto& [nr, f] : a.graph->syscalls()) {
    if (!kMarkers.count(nr)) continue;
    for (const auto& s : f.sites) {
      const std::string& path = a.graph->objects()[s.function.object].path;
      if (path.size() >= object.size() &&
          path.compare(path.size() - object.size(), object.size(), object) == 0)
        out.insert(nr);
    }
  }
  return out;
}

bool found(const Analysis& a, uint64_t nr) {
  return a.graph->syscalls().count(nr) != 0;
}

TEST(AnalyzeProgram, DirectSyscallsAreFoundAtTheirOwnSites) {
  Analysis a = analyse("fx_direct");
  EXPECT_EQ(markers_made_in(a, "/fx_direct"), (std::set<uint64_t>{110, 111}));
}

TEST(AnalyzeProgram, TheSyscallWrapperTakesTheCallersNumber) {
  Analysis a = analyse("fx_wrapper");
  // Made by libc's syscall(), with the numbers fx_wrapper passes.
  std::set<uint64_t> from_wrapper;
  for (const auto& [nr, f] : a.graph->syscalls())
    for (const auto& s : f.sites)
      if (a.graph->function(s.function).name == "syscall") from_wrapper.insert(nr);
  EXPECT_EQ(from_wrapper, (std::set<uint64_t>{24, 100}));
  EXPECT_TRUE(markers_made_in(a, "/fx_wrapper").empty());
}

TEST(AnalyzeProgram, ThinWrapperNumbersComeFromItsCallers) {
  Analysis a = analyse("fx_thin");
  EXPECT_EQ(markers_made_in(a, "/fx_thin"), (std::set<uint64_t>{95, 99}));
}

TEST(AnalyzeProgram, FunctionPointersInDataReachEveryTarget) {
  Analysis a = analyse("fx_fnptr");
  EXPECT_TRUE(found(a, 140));  // getpriority, table entry 0
  EXPECT_TRUE(found(a, 110));  // getppid, table entry 1
  EXPECT_TRUE(a.graph->indirect_calls_reached());
}

TEST(AnalyzeProgram, VirtualCallsFollowTheVtable) {
  Analysis a = analyse("fx_cpp");
  ASSERT_TRUE(found(a, 100));
  // times is reached through Timer::run, an indirect call's target.
  bool through_method = false;
  for (const auto& s : a.graph->syscalls().at(100).sites)
    for (const auto& [f, how] : a.graph->path_to(s.function))
      if (a.graph->describe(f).find("fx_cpp:") == 0 && how.how == Reach::How::indirect)
        through_method = true;
  EXPECT_TRUE(through_method);
}

TEST(AnalyzeProgram, DlopenByConstantNameAnalysesThePlugin) {
  Analysis a = analyse("fx_dlopen");
  ASSERT_EQ(a.dlopens.size(), 1u);
  EXPECT_EQ(a.dlopens[0].name.value_or(""), "libfx_plugin.so");
  ASSERT_TRUE(a.dlopens[0].resolved.has_value());
  EXPECT_NE(a.dlopens[0].resolved->find("libfx_plugin.so"), std::string::npos);
  // sysinfo, reached from the plugin's exported function.
  ASSERT_TRUE(found(a, 99));
  bool from_plugin = false;
  for (const auto& s : a.graph->syscalls().at(99).sites)
    for (const auto& [f, how] : a.graph->path_to(s.function))
      if (a.graph->describe(f) == "libfx_plugin.so:fx_plugin_run") from_plugin = true;
  EXPECT_TRUE(from_plugin);
}

TEST(AnalyzeProgram, NonConstantNumberIsFlaggedAndTheFallbackAllowsEverything) {
  Analysis a = analyse("fx_nonconst");
  bool flagged = false;
  for (const auto& [site, why] : a.graph->unknown_numbers())
    if (a.graph->function(site.function).name == "syscall") {
      flagged = true;
      EXPECT_NE(why.find("argument 0"), std::string::npos) << why;
    }
  EXPECT_TRUE(flagged);
  learn::Recording r = as_recording(a);
  EXPECT_TRUE(r.syscalls.count("reboot"));  // the conservative set: every syscall
  EXPECT_NE(policy_toml(a).find("not a constant"), std::string::npos);
}

TEST(AnalyzeProgram, ExecOfAConstantPathIsReported) {
  Analysis a = analyse("fx_exec");
  ASSERT_EQ(a.execs.size(), 1u);
  EXPECT_EQ(a.execs[0].function, "execv");
  EXPECT_EQ(a.execs[0].path.value_or(""), "/bin/true");
  EXPECT_EQ(a.execs[0].caller, "fx_exec:main");
  EXPECT_TRUE(found(a, 59));
  EXPECT_NE(policy_toml(a).find("execv(\"/bin/true\")"), std::string::npos);
}

TEST(AnalyzeProgram, ThePolicyParsesAndNamesTheFlaggedThings) {
  Analysis a = analyse("fx_exec");
  std::string text = policy_toml(a);
  policy::Diagnostics diags;
  auto parsed = policy::parse_policy_text(text, "fx_exec.least.toml", diags);
  EXPECT_TRUE(parsed.has_value()) << text;
  EXPECT_NE(text.find("\"exec\""), std::string::npos) << text;
}

TEST(AnalyzeProgram, AMissingLibraryIsAnErrorNamingIt) {
  auto a = analyze_program(kFixtures + "/fx_missing", {});
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.error().str().find("libfx_gone.so"), std::string::npos) << a.error().str();
}

}  // namespace
}  // namespace least::analyze
