// The two recording backends of `least learn` on the same real workloads:
// the eBPF backend records what the programs are known to do, both backends
// write the same policy, and the eBPF backend says clearly when it cannot be
// used (and auto then falls back to notify).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "learn_fixture.h"
#include "spawn.h"

namespace least::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

// The policy without its comments: they carry counts ("312 calls"), which
// differ between runs of the same program, not what the policy allows.
std::string without_comments(const std::string& toml) {
  std::istringstream in(toml);
  std::string line, out;
  while (std::getline(in, line)) {
    // Comments never follow a value inside a string here: least writes
    // paths and names without '#'; the test directories have none either.
    auto hash = line.find('#');
    if (hash != std::string::npos) line.erase(hash);
    while (!line.empty() && line.back() == ' ') line.pop_back();
    if (!line.empty()) out += line + "\n";
  }
  return out;
}

struct Learned {
  SpawnResult run;
  std::string policy;
  json recording;  // null when none was written
};

Learned learn_with(const std::string& backend, const TempDir& dir,
                   const std::vector<std::string>& command) {
  std::string policy = dir / (backend + ".least.toml"), file = dir / (backend + ".json");
  Learned l;
  l.run =
      spawn(least_learn({"--backend", backend, "-o", policy, "--recording-json", file}, command),
            in(dir));
  l.policy = slurp(policy);
  if (std::filesystem::exists(file)) l.recording = json::parse(slurp(file));
  std::filesystem::remove(policy);
  std::filesystem::remove(file);
  return l;
}

class LearnBackends : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "the eBPF backend needs root";
  }
};

TEST_F(LearnBackends, EbpfRecordsPathsEndpointsAndCounts) {
  TempDir dir;
  dir.write("data.txt", "data\n");
  std::filesystem::create_directories(dir / "sub");
  const int port = test_port(0);
  // Relative opens after cd (resolved in the kernel at the call), a bind, a
  // child process, 3000 one-byte reads and writes counted in the kernel.
  auto l = learn_with("ebpf", dir,
                      {"/bin/sh", "-c",
                       "cd sub && cat ../data.txt > /dev/null && /usr/bin/python3 -c \"import "
                       "socket; s = socket.socket(); s.bind(('127.0.0.1', " +
                           std::to_string(port) +
                           "))\" && dd if=/dev/zero of=/dev/null bs=1 count=3000 2>/dev/null"});
  ASSERT_EQ(l.run.status, 0) << l.run.describe();
  ASSERT_FALSE(l.recording.is_null()) << l.run.describe();
  const json& r = l.recording;
  EXPECT_TRUE(has_access(r, dir / "data.txt", "read")) << r["paths"].dump(1);
  EXPECT_TRUE(has_access(r, "/usr/bin/python3", "exec") ||
              has_access(r, std::filesystem::canonical("/usr/bin/python3"), "exec"))
      << r["paths"].dump(1);
  EXPECT_TRUE(has_endpoint(r["binds"], "tcp", "127.0.0.1", port)) << r["binds"].dump();
  EXPECT_GE(calls(r, "read"), 3000u);
  EXPECT_GE(calls(r, "write"), 3000u);
  EXPECT_GE(calls(r, "execve"), 4u);  // sh, cat, python3, dd
  EXPECT_TRUE(r["syscalls"].contains("bind"));
  EXPECT_TRUE(r["lost"].empty()) << r["lost"].dump();
  // The launcher's first process (it waits with a signalfd) is not the
  // program: only its descendants from their execve on are.
  EXPECT_EQ(calls(r, "signalfd4"), 0u);
}

// Both backends, the same workload, the same policy.
void expect_same_policy(
    const TempDir& dir, const std::vector<std::string>& command,
    const std::function<void()>& between = [] {}) {
  auto notify = learn_with("notify", dir, command);
  ASSERT_EQ(notify.run.status, 0) << notify.run.describe();
  between();
  auto ebpf = learn_with("ebpf", dir, command);
  ASSERT_EQ(ebpf.run.status, 0) << ebpf.run.describe();
  ASSERT_FALSE(notify.policy.empty());
  EXPECT_EQ(without_comments(notify.policy), without_comments(ebpf.policy))
      << "notify:\n"
      << notify.policy << "\nebpf:\n"
      << ebpf.policy;
  // What the policies are made of, too.
  EXPECT_EQ(notify.recording["paths"], ebpf.recording["paths"]);
  EXPECT_EQ(notify.recording["binds"], ebpf.recording["binds"]);
  EXPECT_EQ(notify.recording["connects"], ebpf.recording["connects"]);
  EXPECT_TRUE(ebpf.recording["lost"].empty()) << ebpf.recording["lost"].dump();
}

TEST_F(LearnBackends, SamePolicyForTarGzipOfADirectory) {
  TempDir dir;
  std::filesystem::create_directories(dir / "src/sub/deeper");
  dir.write("src/a.txt", "a\n");
  dir.write("src/sub/b.txt", "b\n");
  dir.write("src/sub/deeper/c.txt", "c\n");
  // Relative to the cwd: tar walks the tree with openat on directory fds.
  expect_same_policy(dir, {"/usr/bin/tar", "czf", "out.tgz", "src"},
                     [&] { std::filesystem::remove(dir / "out.tgz"); });
}

TEST_F(LearnBackends, SamePolicyForPythonReadingAFileAndBinding) {
  TempDir dir;
  dir.write("input.txt", "input\n");
  const int port = test_port(1);
  std::string script = dir.write("work.py",
                                 "import socket, threading\n"
                                 "data = open('input.txt').read()\n"
                                 "def serve():\n"
                                 "    s = socket.socket()\n"
                                 "    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
                                 "    s.bind(('127.0.0.1', " +
                                     std::to_string(port) +
                                     "))\n"
                                     "    s.listen()\n"
                                     "    s.close()\n"
                                     "t = threading.Thread(target=serve); t.start(); t.join()\n"
                                     "open('output.txt', 'w').write(data)\n");
  expect_same_policy(dir, {"/usr/bin/python3", script},
                     [&] { std::filesystem::remove(dir / "output.txt"); });
}

TEST_F(LearnBackends, SamePolicyForAShellPipeline) {
  TempDir dir;
  dir.write("words", "b\na\nc\n");
  std::filesystem::create_directories(dir / "out");
  expect_same_policy(dir, {"/bin/sh", "-c", "cd out && sort ../words | uniq > sorted && ls -l"},
                     [&] { std::filesystem::remove(dir / "out/sorted"); });
}

// With a BPF filesystem at /sys/fs/bpf (in a mount namespace of the test's
// own), the first run pins the programs there and the next one runs from the
// pins: the same policy both times.
TEST_F(LearnBackends, PinnedProgramsServeTheNextRunWithTheSamePolicy) {
  TempDir dir;
  std::filesystem::create_directories(dir / "src/sub");
  dir.write("src/a.txt", "a\n");
  dir.write("src/sub/b.txt", "b\n");
  const std::string least = LEAST_BINARY;
  const std::string learn = least + " learn --backend ebpf -o ";
  const std::string script = "set -e; mount -t bpf bpf /sys/fs/bpf; " + learn +
                             "first.toml -- tar czf out.tgz src; " +
                             "rm out.tgz; ls /sys/fs/bpf/least/*/slot0/prog_on_sys_enter; " +
                             learn + "second.toml -- tar czf out.tgz src";
  SpawnResult r = spawn(
      {"/usr/bin/unshare", "-m", "--propagation", "private", "/bin/sh", "-c", script}, in(dir));
  ASSERT_EQ(r.status, 0) << r.describe();
  EXPECT_NE(r.out.find("prog_on_sys_enter"), std::string::npos) << r.describe();
  std::string first = slurp(dir / "first.toml"), second = slurp(dir / "second.toml");
  ASSERT_FALSE(first.empty());
  EXPECT_NE(first.find("src"), std::string::npos) << first;
  EXPECT_EQ(without_comments(first), without_comments(second)) << first << "\n" << second;
}

TEST(LearnBackendsUnprivileged, EbpfRefusedClearlyAutoFallsBack) {
  TempDir dir;
  chmod(dir.path().c_str(), 0777);
  dir.write("readable", "r\n");
  std::string file = dir / "recording.json";
  auto ebpf =
      spawn(as_nobody(least_learn({"--backend", "ebpf", "--recording-json", file}, {"true"})));
  EXPECT_EQ(ebpf.status, 125) << ebpf.describe();
  EXPECT_NE(ebpf.err.find("the eBPF backend cannot be used here"), std::string::npos) << ebpf.err;
  EXPECT_NE(ebpf.err.find("CAP_BPF and CAP_PERFMON"), std::string::npos) << ebpf.err;
  EXPECT_NE(ebpf.err.find("uid 65534"), std::string::npos) << ebpf.err;
  EXPECT_FALSE(std::filesystem::exists(file));

  // auto picks notify here: had it picked ebpf, the run would fail as above.
  auto automatic = spawn(
      as_nobody(least_learn({"--backend", "auto", "-o", dir / "p.toml", "--recording-json", file},
                            {"cat", dir / "readable"})));
  EXPECT_EQ(automatic.status, 0) << automatic.describe();
  EXPECT_EQ(automatic.out, "r\n");
  ASSERT_TRUE(std::filesystem::exists(file)) << automatic.describe();
  json r = json::parse(slurp(file));
  EXPECT_TRUE(has_access(r, dir / "readable", "read")) << r["paths"].dump(1);
}

}  // namespace
}  // namespace least::testing
