// `least run` as a launcher: exit statuses, signals, stdin.
#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
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

// processes: a pids cgroup as root, RLIMIT_NPROC in the user namespace
// otherwise (with a warning). Either way a shell cannot start more.
TEST(Limits, ProcessesAreCapped) {
  TempDir dir;
  std::string file = dir.write("pids.least.toml",
                               "[limits]\n"
                               "processes = 6\n");
  // Ten background sleeps: some forks must fail, the shell says so.
  const std::vector<std::string> bomb = {
      "/bin/sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10; do sleep 2 & done; wait; echo finished"};
  // dash gives up (status 2) when a fork fails.
  auto r = spawn(least_run({"-p", file}, bomb));
  EXPECT_NE(r.err.find("Cannot fork"), std::string::npos) << r.describe();
  EXPECT_EQ(r.status, 2) << r.describe();
  auto free_run = spawn(least_run({}, bomb));
  EXPECT_EQ(free_run.out, "finished\n") << free_run.describe();
  if (geteuid() == 0) {
    chmod(dir.path().c_str(), 0755);  // for nobody
    EXPECT_FALSE(has_line_starting_with(r.err, "least: warning")) << "root uses a pids cgroup\n"
                                                                  << r.describe();
    auto unprivileged = spawn(as_nobody(least_run({"-p", file}, bomb)));
    EXPECT_NE(unprivileged.err.find("Cannot fork"), std::string::npos) << unprivileged.describe();
    EXPECT_NE(unprivileged.err.find("RLIMIT_NPROC"), std::string::npos) << unprivileged.describe();
  }
}

struct ProcessInfo {
  pid_t ppid = 0;
  std::string comm;
};

// Every process on the machine, from /proc/PID/stat.
std::map<pid_t, ProcessInfo> process_table() {
  std::map<pid_t, ProcessInfo> procs;
  DIR* proc = opendir("/proc");
  if (!proc) return procs;
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
    if (rest >> state >> ppid) procs[pid] = {ppid, stat.substr(open + 1, close - open - 1)};
  }
  closedir(proc);
  return procs;
}

bool descends_from(std::map<pid_t, ProcessInfo>& procs, pid_t pid, pid_t ancestor) {
  for (pid_t p = procs[pid].ppid; p > 1 && procs.count(p); p = procs[p].ppid)
    if (p == ancestor) return true;
  return false;
}

// A process named `comm` anywhere beneath `ancestor` (the program runs under
// the sandbox's init, so it is a grandchild of least), or -1.
pid_t child_named(pid_t ancestor, const std::string& comm) {
  auto procs = process_table();
  for (const auto& [pid, info] : procs)
    if (info.comm == comm && descends_from(procs, pid, ancestor)) return pid;
  return -1;
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

namespace {

// Every process beneath `ancestor` (children, grandchildren, ...).
std::vector<pid_t> descendants(pid_t ancestor) {
  auto procs = process_table();
  std::vector<pid_t> out;
  for (const auto& [pid, info] : procs)
    if (descends_from(procs, pid, ancestor)) out.push_back(pid);
  return out;
}

}  // namespace

// If least is killed outright, nothing it started may live on: the init of
// the pid namespace dies with least (parent-death signal) and takes the
// namespace with it.
TEST(Launcher, NothingSurvivesSigkillOfLeast) {
  Process least(least_run({}, {"/bin/sh", "-c", "sleep 30 & sleep 31 & (sleep 32 &) ; wait"}));
  std::vector<pid_t> tree;
  for (auto until = std::chrono::steady_clock::now() + 5s;
       tree.size() < 5 && std::chrono::steady_clock::now() < until;
       std::this_thread::sleep_for(10ms))
    tree = descendants(least.pid());
  ASSERT_GE(tree.size(), 5u) << "the sandboxed tree never started";
  ASSERT_EQ(kill(least.pid(), SIGKILL), 0);
  least.wait();
  std::vector<pid_t> alive = tree;
  for (auto until = std::chrono::steady_clock::now() + 2s;
       !alive.empty() && std::chrono::steady_clock::now() < until;
       std::this_thread::sleep_for(10ms)) {
    alive.erase(std::remove_if(alive.begin(), alive.end(),
                               [](pid_t p) {
                                 std::ifstream stat("/proc/" + std::to_string(p) + "/stat");
                                 std::string line;
                                 std::getline(stat, line);
                                 // Gone, or a zombie waiting for its reaper.
                                 return line.empty() || line.find(") Z ") != std::string::npos;
                               }),
                alive.end());
  }
  EXPECT_TRUE(alive.empty()) << alive.size() << " sandboxed processes outlived least";
}

// The cgroups of a run are created beneath least's own and removed after.
TEST(Launcher, CgroupsAreRemovedAfterTheRun) {
  if (geteuid() != 0) GTEST_SKIP() << "cgroups need root here";
  TempDir dir;
  std::string file = dir.write("mem.least.toml", "[limits]\nmemory = \"128M\"\nprocesses = 50\n");
  auto r = spawn(least_run({"-p", file}, {"/bin/sh", "-c", "cat /proc/self/cgroup"}));
  ASSERT_EQ(r.status, 0) << r.describe();
  // Inside its cgroup namespace the program sees its own cgroups as roots.
  EXPECT_NE(r.out.find(":pids:/\n"), std::string::npos) << r.describe();
  std::ifstream own("/proc/self/cgroup");
  std::string line, pids_path = "/";
  while (std::getline(own, line))
    if (line.find(":pids:") != std::string::npos) pids_path = line.substr(line.find(":pids:") + 6);
  std::string parent = "/sys/fs/cgroup/pids" + (pids_path == "/" ? "" : pids_path);
  DIR* d = opendir(parent.c_str());
  ASSERT_NE(d, nullptr) << parent;
  int leftovers = 0;
  while (struct dirent* e = readdir(d))
    if (std::string(e->d_name).rfind("least-", 0) == 0) ++leftovers;
  closedir(d);
  EXPECT_EQ(leftovers, 0) << "cgroups left in " << parent;
}

// Where namespaces are refused (here: least inside least, whose filter
// refuses clone with namespace flags, as a container would), least fails
// closed, and runs without them only when asked, saying so.
// The inner least, when built with AddressSanitizer, would run its leak
// checker at exit, which needs ptrace: refused by the outer sandbox.
std::vector<std::string> inner_least(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"/usr/bin/env", "ASAN_OPTIONS=detect_leaks=0"};
  for (const auto& a : least_run(args, {"/bin/echo", "inner"})) argv.push_back(a);
  return argv;
}

TEST(Launcher, RefusedNamespacesFailClosedUnlessBestEffort) {
  auto refused = spawn(least_run({}, inner_least({})));
  EXPECT_EQ(refused.status, 125) << refused.describe();
  EXPECT_EQ(refused.out, "") << refused.describe();
  EXPECT_NE(refused.err.find("create namespaces"), std::string::npos) << refused.describe();
  auto best = spawn(least_run({}, inner_least({"--best-effort"})));
  EXPECT_EQ(best.status, 0) << best.describe();
  EXPECT_EQ(best.out, "inner\n") << best.describe();
  EXPECT_NE(best.err.find("running without them"), std::string::npos) << best.describe();
}

}  // namespace
}  // namespace least::testing
