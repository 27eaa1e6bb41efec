// The systemd export, proven by its real consumer: `systemd-analyze verify`
// loads a unit with the drop-in beside it (verify adds the unit file's own
// directory to the search path, drop-in directory included). verify exits 0
// even when it ignores a line it cannot parse, so every line it prints on
// stderr fails the test unless listed below with a reason; a broken drop-in
// must produce such a line, or these tests could not fail.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "spawn.h"

namespace least::testing {
namespace {

const char* analyze_path() {
  for (const char* p : {"/usr/bin/systemd-analyze", "/bin/systemd-analyze"})
    if (access(p, X_OK) == 0) return p;
  return nullptr;
}

// Lines verify may print that say nothing about the drop-in. None are known
// on systemd 252 (Debian 12) today; add one only with the reason it is
// harmless.
const std::vector<std::string> kHarmless = {};

std::vector<std::string> unexpected_lines(const std::string& err) {
  std::vector<std::string> out;
  std::istringstream in(err);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    bool harmless = false;
    for (const auto& h : kHarmless)
      if (line.find(h) != std::string::npos) harmless = true;
    if (!harmless) out.push_back(line);
  }
  return out;
}

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class SystemdExport : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!analyze_path()) GTEST_SKIP() << "systemd-analyze is not installed";
  }

  // NAME.service (oneshot, /bin/true) and NAME.service.d/least.conf written
  // by `least export --format systemd`; returns the drop-in's text.
  std::string export_unit(const std::string& policy, const std::string& name) {
    std::filesystem::create_directories(dir_ / (name + ".service.d"));
    dir_.write(name + ".service",
               "[Unit]\nDescription=least export test\n\n[Service]\nType=oneshot\n"
               "ExecStart=/bin/true\n");
    std::vector<std::string> argv = {LEAST_BINARY, "export", "--format",
                                     "systemd",    "-o",     dropin(name)};
    if (!policy.empty()) {
      argv.push_back("-p");
      argv.push_back(policy);
    }
    SpawnResult r = spawn(argv);
    EXPECT_EQ(r.status, 0) << r.describe();
    return read(dropin(name));
  }

  std::string dropin(const std::string& name) const {
    return dir_ / (name + ".service.d/least.conf");
  }

  SpawnResult verify(const std::string& name) {
    return spawn({analyze_path(), "verify", dir_ / (name + ".service")});
  }

  // Exports, verifies, and returns the drop-in; verify must be silent.
  std::string verified(const std::string& policy, const std::string& name) {
    std::string text = export_unit(policy, name);
    SpawnResult r = verify(name);
    EXPECT_EQ(r.status, 0) << name << ": " << r.describe() << "\n" << text;
    auto bad = unexpected_lines(r.err + r.out);
    EXPECT_TRUE(bad.empty()) << name << ": verify printed\n"
                             << r.err << r.out << "\nfor the drop-in\n"
                             << text;
    return text;
  }

  TempDir dir_;
};

bool has_line(const std::string& text, const std::string& line) {
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);)
    if (l == line) return true;
  return false;
}

// Every name in SystemCallFilter= lines.
std::vector<std::string> filtered_syscalls(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) {
    if (l.rfind("SystemCallFilter=", 0) != 0) continue;
    std::istringstream words(l.substr(17));
    for (std::string w; words >> w;) out.push_back(w);
  }
  return out;
}

bool filters(const std::string& text, const std::string& syscall) {
  auto names = filtered_syscalls(text);
  return std::find(names.begin(), names.end(), syscall) != names.end();
}

TEST_F(SystemdExport, BuiltInDefaultVerifies) {
  std::string t = verified("", "least-default");
  EXPECT_TRUE(has_line(t, "[Service]"));
  EXPECT_TRUE(has_line(t, "SystemCallErrorNumber=EPERM"));
  EXPECT_TRUE(has_line(t, "SystemCallArchitectures=native"));
  EXPECT_TRUE(has_line(t, "NoNewPrivileges=yes"));
  EXPECT_TRUE(has_line(t, "CapabilityBoundingSet="));
  EXPECT_TRUE(has_line(t, "AmbientCapabilities="));
  EXPECT_TRUE(has_line(t, "RestrictNamespaces=yes"));
  EXPECT_TRUE(has_line(t, "LockPersonality=yes"));
  EXPECT_TRUE(has_line(t, "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK"));
  // prot_exec is in the default: W+X memory is allowed.
  EXPECT_FALSE(has_line(t, "MemoryDenyWriteExecute=yes"));
  // Names, not groups; the dangerous calls are not among them.
  EXPECT_TRUE(filters(t, "read"));
  EXPECT_TRUE(filters(t, "openat"));
  for (const char* never : {"ptrace", "mount", "bpf", "unshare", "setns", "init_module", "keyctl",
                            "io_uring_setup", "perf_event_open"})
    EXPECT_FALSE(filters(t, never)) << never;
  for (const auto& name : filtered_syscalls(t)) EXPECT_NE(name[0], '@') << name;
  // clone3 reaches RestrictNamespaces=, which answers ENOSYS (libc falls back).
  EXPECT_TRUE(filters(t, "clone3"));
}

TEST_F(SystemdExport, ExamplesVerify) {
  int count = 0;
  for (const auto& e : std::filesystem::directory_iterator(LEAST_SOURCE_DIR "/examples")) {
    std::string file = e.path().filename().string();
    if (!file.ends_with(".least.toml")) continue;
    ++count;
    verified(e.path().string(), file.substr(0, file.size() - 11));
  }
  EXPECT_GE(count, 4);
}

TEST_F(SystemdExport, ReaderHasNoNetworkAndWX) {
  std::string t = verified(LEAST_SOURCE_DIR "/examples/reader.least.toml", "reader");
  EXPECT_TRUE(has_line(t, "RestrictAddressFamilies=none"));
  EXPECT_TRUE(has_line(t, "PrivateNetwork=yes"));
  EXPECT_TRUE(has_line(t, "MemoryDenyWriteExecute=yes"));
  EXPECT_TRUE(has_line(t, "ProtectSystem=strict"));
  EXPECT_FALSE(filters(t, "socket"));
  EXPECT_FALSE(filters(t, "connect"));
  EXPECT_FALSE(filters(t, "fork"));
  EXPECT_FALSE(filters(t, "unlink"));
  // mmap is listed only because MemoryDenyWriteExecute= holds its W^X check.
  EXPECT_TRUE(filters(t, "mmap"));
}

TEST_F(SystemdExport, FilesystemCapabilitiesAndLimits) {
  TempDir work;
  std::filesystem::create_directory(work / "out");
  std::filesystem::create_directory(work / "out/ro");
  std::string policy = dir_.write("svc.least.toml", R"(
promises = ["stdio", "rpath", "wpath", "cpath", "inet"]
[filesystem]
read = ["/etc", ")" + work.path() + R"(/out/ro"]
create = [")" + work.path() + R"(/out"]
[network]
bind = ["tcp:8080"]
[limits]
processes = 64
memory = "256M"
open_files = 1024
core = 0
[isolation]
capabilities = ["CAP_NET_BIND_SERVICE"]
private_tmp = true
)");
  std::string t = verified(policy, "svc");
  EXPECT_TRUE(has_line(t, "ProtectSystem=strict"));
  EXPECT_TRUE(has_line(t, "ReadWritePaths=-" + work.path() + "/out")) << t;
  EXPECT_TRUE(has_line(t, "ReadOnlyPaths=-" + work.path() + "/out/ro")) << t;
  EXPECT_TRUE(has_line(t, "ProtectHome=yes"));
  EXPECT_TRUE(has_line(t, "PrivateTmp=yes"));
  EXPECT_TRUE(has_line(t, "TasksMax=64"));
  EXPECT_TRUE(has_line(t, "MemoryMax=268435456"));
  EXPECT_TRUE(has_line(t, "LimitNOFILE=1024"));
  EXPECT_TRUE(has_line(t, "LimitCORE=0"));
  EXPECT_TRUE(has_line(t, "CapabilityBoundingSet=CAP_NET_BIND_SERVICE"));
  EXPECT_TRUE(has_line(t, "AmbientCapabilities=CAP_NET_BIND_SERVICE"));
  EXPECT_TRUE(has_line(t, "RestrictAddressFamilies=AF_INET AF_INET6"));
  EXPECT_TRUE(has_line(t, "SocketBindAllow=tcp:8080"));
  EXPECT_TRUE(has_line(t, "SocketBindDeny=tcp"));
  EXPECT_FALSE(has_line(t, "PrivateNetwork=yes"));
  // Hidden top-level directories never include the ones holding listed paths.
  std::smatch m;
  ASSERT_TRUE(std::regex_search(t, m, std::regex("InaccessiblePaths=([^\n]*)")));
  EXPECT_EQ(m[1].str().find("-/etc"), std::string::npos);
  EXPECT_EQ(m[1].str().find("-/usr"), std::string::npos);
}

// verify is a real check: a broken line makes it print a warning that the
// tests above would fail on.
TEST_F(SystemdExport, BrokenDropInWarns) {
  export_unit("", "broken");
  {
    std::ofstream out(dropin("broken"), std::ios::app);
    out << "ProtectSystm=strict\n";
  }
  SpawnResult r = verify("broken");
  EXPECT_FALSE(unexpected_lines(r.err + r.out).empty()) << r.describe();
  EXPECT_NE(r.err.find("ProtectSystm"), std::string::npos) << r.describe();

  export_unit("", "badcall");
  {
    std::ofstream out(dropin("badcall"), std::ios::app);
    out << "SystemCallFilter=not_a_syscall\n";
  }
  r = verify("badcall");
  EXPECT_FALSE(unexpected_lines(r.err + r.out).empty()) << r.describe();
  EXPECT_NE(r.err.find("not_a_syscall"), std::string::npos) << r.describe();
}

}  // namespace
}  // namespace least::testing
