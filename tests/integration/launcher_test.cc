// `least run` as a launcher: exit statuses, signals, stdin.
#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "spawn.h"

namespace least::testing {
namespace {

using namespace std::chrono_literals;

TEST(ExitStatus, ProgramStatusPassesThrough) {
  auto r = spawn(least_run({}, {"sh", "-c", "exit 7"}));
  EXPECT_EQ(r.status, 7) << r.describe();
  EXPECT_FALSE(r.signaled);
  auto probe_status = spawn(least_run({"--promise", "stdio"}, probe({"exit", "42"})));
  EXPECT_EQ(probe_status.status, 42) << probe_status.describe();
}

TEST(ExitStatus, SignalIs128PlusN) {
  auto term = spawn(least_run({}, {"sh", "-c", "kill -TERM $$"}));
  EXPECT_EQ(term.status, 128 + SIGTERM) << term.describe();
  EXPECT_FALSE(term.signaled) << "least should exit, not die\n" << term.describe();
  auto abrt = spawn(least_run({"--promise", "stdio"}, probe({"raise", "SIGABRT"})));
  EXPECT_EQ(abrt.status, 128 + SIGABRT) << abrt.describe();
  EXPECT_FALSE(abrt.signaled) << abrt.describe();
  auto kill = spawn(least_run({"--promise", "stdio"}, probe({"raise", "SIGKILL"})));
  EXPECT_EQ(kill.status, 128 + SIGKILL) << kill.describe();
}

TEST(ExitStatus, MissingProgramIs127) {
  auto path = spawn(least_run({}, {"/nonexistent/least-test-program"}));
  EXPECT_EQ(path.status, 127) << path.describe();
  EXPECT_TRUE(has_line_starting_with(path.err, "least: error")) << path.describe();
  auto name = spawn(least_run({}, {"least-test-no-such-program"}));
  EXPECT_EQ(name.status, 127) << name.describe();
  EXPECT_NE(name.err.find("least-test-no-such-program"), std::string::npos) << name.describe();
}

TEST(ExitStatus, NotExecutableIs126) {
  TempDir dir;
  auto plain = spawn(least_run({}, {dir.write("data.txt", "just text\n", 0644)}));
  EXPECT_EQ(plain.status, 126) << plain.describe();
  auto garbage = spawn(least_run({}, {dir.write("garbage", "\x01\x02\x03 not a program\n", 0755)}));
  EXPECT_EQ(garbage.status, 126) << garbage.describe();
  auto directory = spawn(least_run({}, {dir.path()}));
  EXPECT_EQ(directory.status, 126) << directory.describe();
}

TEST(ExitStatus, BadPolicyIs125WithFileLineColumn) {
  TempDir dir;
  std::string file = dir.write("bad.least.toml",
                               "promises = [\"stdio\"]\n"
                               "[filesystem]\n"
                               "read = 3\n");
  auto r = spawn(least_run({"-p", file}, probe({"getpid"})));
  EXPECT_EQ(r.status, 125) << r.describe();
  EXPECT_EQ(r.out, "") << "the program must not run\n" << r.describe();
  EXPECT_NE(r.err.find(file + ":3:8:"), std::string::npos) << r.describe();

  std::string unknown = dir.write("unknown.least.toml", "promises = [\"stdio\", \"bogus\"]\n");
  auto u = spawn(least_run({"-p", unknown}, probe({"getpid"})));
  EXPECT_EQ(u.status, 125) << u.describe();
  EXPECT_NE(u.err.find(unknown + ":1:22:"), std::string::npos) << u.describe();
  EXPECT_NE(u.err.find("bogus"), std::string::npos) << u.describe();

  std::string syntax = dir.write("syntax.least.toml", "promises = [\"stdio\"\n");
  auto s = spawn(least_run({"-p", syntax}, probe({"getpid"})));
  EXPECT_EQ(s.status, 125) << s.describe();
  EXPECT_NE(s.err.find(syntax + ":1:"), std::string::npos) << s.describe();
}

TEST(ExitStatus, UnknownPromiseFlagIs125) {
  auto r = spawn(least_run({"--promise", "stdio nonsense"}, probe({"getpid"})));
  EXPECT_EQ(r.status, 125) << r.describe();
  EXPECT_EQ(r.out, "") << r.describe();
  EXPECT_NE(r.err.find("nonsense"), std::string::npos) << r.describe();
}

TEST(Limits, OpenFilesIsApplied) {
  TempDir dir;
  std::string file = dir.write("limits.least.toml",
                               "promises = [\"stdio\", \"rpath\", \"proc\"]\n"
                               "[limits]\n"
                               "open_files = 7\n");
  auto r = spawn(least_run({"-p", file}, {"/bin/sh", "-c", "ulimit -n"}));
  EXPECT_EQ(r.status, 0) << r.describe();
  EXPECT_EQ(r.out, "7\n") << r.describe();
}

TEST(Limits, UnenforceableLimitIsRefusedUnlessBestEffort) {
  TempDir dir;
  std::string file = dir.write("pids.least.toml",
                               "promises = [\"stdio\"]\n"
                               "[limits]\n"
                               "processes = 7\n");
  auto refused = spawn(least_run({"-p", file}, probe({"getpid"})));
  EXPECT_EQ(refused.status, 125) << refused.describe();
  EXPECT_EQ(refused.out, "") << refused.describe();
  EXPECT_NE(refused.err.find("--best-effort"), std::string::npos) << refused.describe();
  auto best = spawn(least_run({"--best-effort", "-p", file}, probe({"getpid"})));
  EXPECT_EQ(best.status, 0) << best.describe();
  EXPECT_EQ(best.out, "OK\n") << best.describe();
  EXPECT_TRUE(has_line_starting_with(best.err, "least: warning")) << best.describe();
}

// The pid of `parent`'s child named `comm`, or -1 (from /proc/PID/stat).
pid_t child_named(pid_t parent, const std::string& comm) {
  DIR* proc = opendir("/proc");
  if (!proc) return -1;
  pid_t found = -1;
  while (struct dirent* e = readdir(proc)) {
    pid_t pid = atoi(e->d_name);
    if (pid <= 0) continue;
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat;
    std::getline(in, stat);
    // pid (comm) state ppid ...: comm may hold spaces and parentheses.
    size_t open = stat.find('('), close = stat.rfind(')');
    if (open == std::string::npos || close == std::string::npos) continue;
    char state;
    pid_t ppid = 0;
    std::istringstream rest(stat.substr(close + 1));
    if (!(rest >> state >> ppid) || ppid != parent) continue;
    if (stat.substr(open + 1, close - open - 1) == comm) found = pid;
  }
  closedir(proc);
  return found;
}

TEST(Signals, SigtermToLeastIsForwarded) {
  SpawnOptions options;
  options.timeout = 10s;
  Process least(least_run({}, {"sleep", "30"}), options);
  // Wait for sleep to run, so the signal reaches least's forwarding loop
  // rather than a least that has not started yet.
  pid_t sleeper = -1;
  for (auto until = std::chrono::steady_clock::now() + 5s;
       sleeper < 0 && std::chrono::steady_clock::now() < until; std::this_thread::sleep_for(5ms))
    sleeper = child_named(least.pid(), "sleep");
  ASSERT_GT(sleeper, 0) << "sleep never started under least";
  auto sent = std::chrono::steady_clock::now();
  ASSERT_EQ(kill(least.pid(), SIGTERM), 0);
  auto r = least.wait();
  auto took = std::chrono::steady_clock::now() - sent;
  EXPECT_EQ(r.status, 128 + SIGTERM) << r.describe();
  EXPECT_FALSE(r.signaled) << "least died of the signal instead of forwarding it\n" << r.describe();
  EXPECT_LT(took, 2s);
  EXPECT_NE(kill(sleeper, 0), 0) << "sleep outlived least";
}

TEST(Signals, SigintToLeastIsForwarded) {
  Process least(least_run({}, {"sleep", "30"}));
  pid_t sleeper = -1;
  for (auto until = std::chrono::steady_clock::now() + 5s;
       sleeper < 0 && std::chrono::steady_clock::now() < until; std::this_thread::sleep_for(5ms))
    sleeper = child_named(least.pid(), "sleep");
  ASSERT_GT(sleeper, 0);
  ASSERT_EQ(kill(least.pid(), SIGINT), 0);
  auto r = least.wait();
  EXPECT_EQ(r.status, 128 + SIGINT) << r.describe();
  EXPECT_FALSE(r.signaled) << r.describe();
}

TEST(Stdio, StdinPassesThrough) {
  SpawnOptions options;
  options.stdin_data = "input line\nsecond\n";
  auto r = spawn(least_run({}, {"cat"}), options);
  EXPECT_EQ(r.status, 0) << r.describe();
  EXPECT_EQ(r.out, "input line\nsecond\n") << r.describe();
}

TEST(Stdio, LargeStdinPassesThrough) {
  SpawnOptions options;
  options.stdin_data = std::string(1 << 20, 'x');
  auto r = spawn(least_run({}, {"/usr/bin/wc", "-c"}), options);
  EXPECT_EQ(r.status, 0) << r.describe();
  EXPECT_EQ(r.out, "1048576\n") << r.describe();
}

TEST(Stdio, StderrPassesThrough) {
  auto r = spawn(least_run({}, {"sh", "-c", "echo to-err >&2; echo to-out"}));
  EXPECT_EQ(r.status, 0) << r.describe();
  EXPECT_EQ(r.out, "to-out\n");
  EXPECT_EQ(r.err, "to-err\n");
}

}  // namespace
}  // namespace least::testing
