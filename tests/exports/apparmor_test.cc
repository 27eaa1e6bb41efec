// The AppArmor export, proven by its real consumer: apparmor_parser compiles
// every profile (this kernel has no AppArmor, so -Q: compile, never load),
// checked against the feature ABI the profile pins, so that any error or
// warning fails the test. A broken profile must make the parser fail, or
// these tests could not fail at all.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "spawn.h"

namespace least::testing {
namespace {

const char* parser_path() {
  for (const char* p : {"/usr/sbin/apparmor_parser", "/sbin/apparmor_parser"})
    if (access(p, X_OK) == 0) return p;
  return nullptr;
}

// The ABI the profiles pin (`abi <abi/3.0>,`): compiling against it instead
// of the (absent) kernel's features makes the parser check exactly that ABI,
// and keeps it from complaining that the kernel has no AppArmor.
constexpr const char* kAbi = "/etc/apparmor.d/abi/3.0";

struct Profile {
  std::string name;
  std::string text;
};

// `least export --format apparmor` for a policy file (empty: the built-in
// default), written to a file by least itself.
Profile export_profile(const TempDir& dir, const std::string& policy, const std::string& name) {
  std::vector<std::string> argv = {LEAST_BINARY, "export", "--format",
                                   "apparmor",   "-o",     dir / (name + ".profile")};
  if (!policy.empty()) {
    argv.push_back("-p");
    argv.push_back(policy);
  }
  SpawnResult r = spawn(argv);
  EXPECT_EQ(r.status, 0) << r.describe();
  std::ifstream in(dir / (name + ".profile"));
  std::stringstream ss;
  ss << in.rdbuf();
  return {name, ss.str()};
}

SpawnResult compile(const TempDir& dir, const std::string& file_name, const std::string& text) {
  std::string path = dir.write(file_name, text);
  return spawn({parser_path(), "-Q", "-K", "-M", kAbi, path});
}

bool has_line(const std::string& text, const std::string& line) {
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) {
    size_t start = l.find_first_not_of(' ');
    if (start != std::string::npos && l.substr(start) == line) return true;
  }
  return false;
}

bool has_rule_starting(const std::string& text, const std::string& prefix) {
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) {
    size_t start = l.find_first_not_of(' ');
    if (start != std::string::npos && l[start] != '#' &&
        l.compare(start, prefix.size(), prefix) == 0)
      return true;
  }
  return false;
}

class AppArmorExport : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!parser_path()) GTEST_SKIP() << "apparmor_parser is not installed";
    if (access(kAbi, R_OK) != 0) GTEST_SKIP() << kAbi << " is missing (apparmor package)";
  }

  // Exports, compiles, and returns the profile; the parser must be silent.
  Profile compiled(const std::string& policy, const std::string& name) {
    Profile p = export_profile(dir_, policy, name);
    SpawnResult r = compile(dir_, name + ".checked", p.text);
    EXPECT_EQ(r.status, 0) << name << ": " << r.describe() << "\n" << p.text;
    EXPECT_EQ(r.err, "") << name << ": the parser warned\n" << p.text;
    return p;
  }

  TempDir dir_;
};

TEST_F(AppArmorExport, BuiltInDefaultCompiles) {
  Profile p = compiled("", "least");
  EXPECT_TRUE(has_line(p.text, "abi <abi/3.0>,"));
  EXPECT_TRUE(has_line(p.text, "include <tunables/global>"));
  EXPECT_TRUE(has_line(p.text, "include <abstractions/base>"));
  EXPECT_NE(p.text.find("profile least flags=(attach_disconnected, mediate_deleted) {"),
            std::string::npos);
  // The default has wpath and cpath, inet, unix and dns, exec, and no
  // capabilities.
  EXPECT_TRUE(has_line(p.text, "/** wl,"));
  EXPECT_TRUE(has_line(p.text, "/** ix,"));
  EXPECT_TRUE(has_line(p.text, "network inet stream,"));
  EXPECT_TRUE(has_line(p.text, "network inet6 dgram,"));
  EXPECT_TRUE(has_line(p.text, "network unix,"));
  EXPECT_FALSE(has_rule_starting(p.text, "capability"));
  EXPECT_FALSE(has_rule_starting(p.text, "network raw"));
  EXPECT_EQ(p.text.find(" packet"), std::string::npos);
  for (const char* deny : {"deny /proc/sys/** w,", "deny /sys/** w,", "deny @{PROC}/*/mem rw,",
                           "deny mount,", "deny pivot_root,", "deny ptrace (trace),"})
    EXPECT_TRUE(has_line(p.text, deny)) << deny;
}

TEST_F(AppArmorExport, ExamplesCompile) {
  int count = 0;
  for (const auto& e : std::filesystem::directory_iterator(LEAST_SOURCE_DIR "/examples")) {
    std::string file = e.path().filename().string();
    if (!file.ends_with(".least.toml")) continue;
    ++count;
    compiled(e.path().string(), file.substr(0, file.size() - 11));
  }
  EXPECT_GE(count, 4);
}

TEST_F(AppArmorExport, ReaderHasNoNetworkNoWritesNoExec) {
  Profile p = compiled(LEAST_SOURCE_DIR "/examples/reader.least.toml", "reader");
  EXPECT_TRUE(has_line(p.text, "/usr/share/common-licenses/ r,"));
  EXPECT_TRUE(has_line(p.text, "/usr/share/common-licenses/** r,"));
  // The loader's directories are mapped, never executed.
  EXPECT_TRUE(has_line(p.text, "/usr/lib/** mr,"));
  EXPECT_FALSE(has_rule_starting(p.text, "network inet"));
  EXPECT_FALSE(has_rule_starting(p.text, "/** "));
  EXPECT_FALSE(std::regex_search(p.text, std::regex("\\n *[/@\"][^\\n]* [a-z]*ix,\\n")))
      << "a file rule allows exec";
  // Without exec the profile says how it is entered.
  EXPECT_NE(p.text.find("No promise exec"), std::string::npos);
}

TEST_F(AppArmorExport, FilesystemPathsAndCapabilities) {
  TempDir work;
  std::string data = work.write("data", "x");
  std::filesystem::create_directory(work / "out");
  std::string policy = dir_.write("paths.least.toml", R"(
promises = ["stdio", "rpath", "wpath", "cpath", "flock", "exec"]
[filesystem]
read = ["/etc"]
write = [")" + data + R"("]
create = [")" + work.path() + R"(/out"]
exec = ["/usr/bin"]
[isolation]
capabilities = ["CAP_NET_BIND_SERVICE", "CAP_CHOWN"]
)");
  Profile p = compiled(policy, "paths");
  EXPECT_TRUE(has_line(p.text, data + " rwk,")) << p.text;
  EXPECT_TRUE(has_line(p.text, work.path() + "/out/ r,"));
  EXPECT_TRUE(has_line(p.text, work.path() + "/out/** rwlk,"));
  EXPECT_TRUE(has_line(p.text, "/etc/** rk,"));
  EXPECT_TRUE(has_line(p.text, "/usr/bin/** mrkix,"));
  EXPECT_TRUE(has_line(p.text, "capability net_bind_service,"));
  EXPECT_TRUE(has_line(p.text, "capability chown,"));
  EXPECT_FALSE(has_rule_starting(p.text, "network inet"));
  // Each rule says where it came from.
  EXPECT_NE(p.text.find("# [filesystem] create"), std::string::npos);
  EXPECT_NE(p.text.find("# runtime: shared libraries"), std::string::npos);
}

// A symlink and its target both in the policy (/bin is one to /usr/bin on
// Debian 12, /bin/sh one to dash) resolve to the same rules: each is written
// once, and the profile still compiles.
TEST_F(AppArmorExport, SymlinkAndTargetGiveEachRuleOnce) {
  TempDir work;
  std::filesystem::create_directories(work / "real");
  std::filesystem::create_directory_symlink(work / "real", work / "link");
  std::string policy = dir_.write("links.least.toml", R"(
promises = ["stdio", "rpath", "exec"]
[filesystem]
read = [")" + work.path() + R"(/link", ")" + work.path() + R"(/real"]
exec = ["/bin/sh", "/usr/bin/sh"]
)");
  Profile p = compiled(policy, "links");
  std::map<std::string, int> rules;
  std::istringstream in(p.text);
  for (std::string l; std::getline(in, l);) {
    size_t start = l.find_first_not_of(' ');
    if (start != std::string::npos && l[start] != '#' && l.back() == ',') ++rules[l.substr(start)];
  }
  for (const auto& [rule, n] : rules) EXPECT_EQ(n, 1) << rule << "\n" << p.text;
  EXPECT_EQ(rules[work.path() + "/real/** r,"], 1) << p.text;
  EXPECT_EQ(rules[work.path() + "/link/** r,"], 1) << p.text;
  EXPECT_EQ(rules["/usr/bin/sh mrix,"], 1) << p.text;
  EXPECT_EQ(rules["/bin/sh mrix,"], 1) << p.text;
}

TEST_F(AppArmorExport, InetWithPorts) {
  std::string policy = dir_.write("net.least.toml", R"(
promises = ["stdio", "rpath", "inet"]
[network]
connect = ["tcp:443"]
bind = ["tcp:8080"]
)");
  Profile p = compiled(policy, "net");
  EXPECT_TRUE(has_line(p.text, "network inet stream,"));
  EXPECT_TRUE(has_line(p.text, "network inet dgram,"));
  EXPECT_FALSE(has_rule_starting(p.text, "network netlink"));  // no dns
  EXPECT_FALSE(has_rule_starting(p.text, "network raw"));
  // No wpath or cpath: writing only to the harmless devices.
  EXPECT_FALSE(has_rule_starting(p.text, "/** w"));
  EXPECT_TRUE(has_line(p.text, "/dev/null w,"));
}

TEST_F(AppArmorExport, PromisesWithoutNetworkHaveNoInet) {
  std::string policy =
      dir_.write("local.least.toml", "promises = [\"stdio\", \"rpath\", \"unix\"]\n");
  Profile p = compiled(policy, "local");
  EXPECT_TRUE(has_line(p.text, "network unix,"));
  EXPECT_FALSE(has_rule_starting(p.text, "network inet"));
}

// The parser is a real check: a broken rule makes it fail, so the tests
// above would fail on a broken export.
TEST_F(AppArmorExport, BrokenProfileFails) {
  Profile p = export_profile(dir_, "", "least");
  std::string broken = p.text;
  size_t at = broken.find("  include <abstractions/base>\n");
  ASSERT_NE(at, std::string::npos);
  // x without an exec qualifier (ix, px, ...) is an error.
  broken.insert(at, "  /etc/passwd rx,\n");
  SpawnResult r = compile(dir_, "broken", broken);
  EXPECT_NE(r.status, 0) << r.describe();
  EXPECT_NE(r.err, "");
  // A missing comma, too.
  std::string no_comma = p.text;
  size_t deny = no_comma.find("deny /sys/** w,");
  ASSERT_NE(deny, std::string::npos);
  no_comma.erase(deny + std::string("deny /sys/** w").size(), 1);
  r = compile(dir_, "no-comma", no_comma);
  EXPECT_NE(r.status, 0) << r.describe();
}

TEST_F(AppArmorExport, BadNameIsAUsageError) {
  SpawnResult r = spawn({LEAST_BINARY, "export", "--format", "apparmor", "--name", "/usr/bin/x"});
  EXPECT_EQ(r.status, 2) << r.describe();
  EXPECT_NE(r.err.find("cannot name an AppArmor profile"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace least::testing
