// Denials in plain words (docs/denials.md): what the supervisor of `least run`
// prints for each refused call, the repeat counting and summary, complain
// mode (`least check`), the JSON event log, and the supervisor's robustness.
// Every test runs real programs (the probe, a shell, coreutils) as the
// invoking user and again as nobody.
//
// The expected texts are x86_64's: syscall names (mkdir, rename, open flags
// as glibc passes them) and glibc's clone flags for fork differ elsewhere.
#include <arpa/inet.h>
#include <dirent.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "spawn.h"

namespace least::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr uid_t kNobody = 65534;

// `least check ARGS... -- COMMAND...`.
std::vector<std::string> least_check(const std::vector<std::string>& least_args,
                                     const std::vector<std::string>& command) {
  std::vector<std::string> argv = least_run(least_args, command);
  argv[1] = "check";
  return argv;
}

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

// `least: blocked CALL in COMM[PID]: HINT` (or `would block`).
const std::regex kDenialLine(R"(^least: (blocked|would block) (.*) in ([^\[]*)\[(\d+)\]: (.*)$)");

struct Denial {
  std::string verb, call, comm, hint;
  long pid = 0;
  // The line without its verb and pid: what run and check must agree on.
  std::string what() const { return call + " in " + comm + ": " + hint; }
};

std::vector<Denial> denials_in(const std::string& err) {
  std::vector<Denial> out;
  for (const auto& line : lines_of(err)) {
    std::smatch m;
    if (!std::regex_match(line, m, kDenialLine)) continue;
    out.push_back({m[1], m[2], m[3], m[5], std::stol(m[4])});
  }
  return out;
}

// least's own lines on stderr, in order, each pid written as `*`: the
// denial lines, the summary, and anything else least says (warnings,
// errors), which then fails the exact comparisons.
std::vector<std::string> least_lines(const std::string& err) {
  std::vector<std::string> out;
  for (const auto& line : lines_of(err)) {
    if (line.rfind("least: ", 0) != 0) continue;
    std::smatch m;
    if (std::regex_match(line, m, kDenialLine))
      out.push_back("least: " + m[1].str() + " " + m[2].str() + " in " + m[3].str() +
                    "[*]: " + m[5].str());
    else
      out.push_back(line);
  }
  return out;
}

std::string repeat(const std::string& line, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += line;
  return out;
}

bool exists(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

// Every process beneath `ancestor` (children, grandchildren, ...), from
// /proc/PID/stat (as in launcher_test.cc).
std::vector<pid_t> descendants(pid_t ancestor) {
  std::map<pid_t, pid_t> parent_of;
  DIR* proc = opendir("/proc");
  if (!proc) return {};
  while (struct dirent* e = readdir(proc)) {
    pid_t pid = atoi(e->d_name);
    if (pid <= 0) continue;
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat;
    std::getline(in, stat);
    size_t close = stat.rfind(')');
    if (close == std::string::npos) continue;
    char state;
    pid_t ppid = 0;
    std::istringstream rest(stat.substr(close + 1));
    if (rest >> state >> ppid) parent_of[pid] = ppid;
  }
  closedir(proc);
  std::vector<pid_t> out;
  for (const auto& [pid, ppid] : parent_of)
    for (pid_t p = ppid; p > 1 && parent_of.count(p); p = parent_of[p])
      if (p == ancestor) {
        out.push_back(pid);
        break;
      }
  return out;
}

std::string comm_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/comm");
  std::string comm;
  std::getline(in, comm);
  return comm;
}

// Gone, or a zombie waiting for its reaper.
bool dead(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  return line.empty() || line.find(") Z ") != std::string::npos;
}

enum class As { kInvoker, kNobody };

// Each test runs least as the user running the suite, then as nobody.
class Denials : public ::testing::TestWithParam<As> {
 protected:
  void SetUp() override {
#if !defined(__x86_64__)
    GTEST_SKIP() << "the expected texts are x86_64's";
#endif
    if (nobody()) {
      if (geteuid() != 0) GTEST_SKIP() << "needs root to become nobody (the suite is not root)";
      if (access("/usr/bin/setpriv", X_OK) != 0) GTEST_SKIP() << "needs /usr/bin/setpriv";
    }
    chmod(dir_.path().c_str(), 0755);
    work_ = dir_ / "work";
    mkdir(work_.c_str(), 0755);
    own(work_);
  }

  bool nobody() const {
    return GetParam() == As::kNobody;
  }

  // Whoever runs least owns `path`.
  void own(const std::string& path) const {
    if (nobody()) {
      EXPECT_EQ(lchown(path.c_str(), kNobody, kNobody), 0) << path;
    }
  }
  // A file in the work directory, owned by whoever runs least.
  std::string file(const std::string& name, const std::string& content = "x\n") const {
    std::string p = dir_.write("work/" + name, content, 0644);
    own(p);
    return p;
  }
  std::string subdir(const std::string& name) const {
    std::string p = work_ + "/" + name;
    mkdir(p.c_str(), 0755);
    own(p);
    return p;
  }

  std::vector<std::string> as_runner(const std::vector<std::string>& argv) const {
    return nobody() ? as_nobody(argv) : argv;
  }
  SpawnResult least(const std::vector<std::string>& argv, SpawnOptions options = {}) const {
    if (options.cwd.empty()) options.cwd = work_;
    return spawn(as_runner(argv), options);
  }
  SpawnResult run(const std::vector<std::string>& least_args,
                  const std::vector<std::string>& command, SpawnOptions options = {}) const {
    return least(least_run(least_args, command), options);
  }
  SpawnResult check(const std::vector<std::string>& least_args,
                    const std::vector<std::string>& command, SpawnOptions options = {}) const {
    return least(least_check(least_args, command), options);
  }

  // One refused probe call: answered EPERM, reported with exactly `line`
  // (pid as `*`) and the summary.
  void expect_one_refusal(const std::vector<std::string>& least_args,
                          const std::vector<std::string>& probe_args, const std::string& line) {
    auto r = run(least_args, probe(probe_args));
    SCOPED_TRACE(::testing::PrintToString(probe_args));
    EXPECT_EQ(r.out, "ERRNO EPERM\n") << r.describe();
    EXPECT_EQ(r.status, EPERM) << r.describe();
    EXPECT_EQ(least_lines(r.err),
              (std::vector<std::string>{line, "least: 1 call blocked (1 distinct)"}))
        << r.describe();
    for (const auto& d : denials_in(r.err)) EXPECT_GT(d.pid, 0) << r.describe();
  }

  TempDir dir_;
  std::string work_;
};

INSTANTIATE_TEST_SUITE_P(, Denials, ::testing::Values(As::kInvoker, As::kNobody),
                         [](const ::testing::TestParamInfo<As>& info) {
                           return info.param == As::kNobody ? "AsNobody" : "AsInvoker";
                         });

// --- Each decoded kind, from real programs --------------------------------

TEST_P(Denials, PathsAreReadFromTheProcessMemory) {
  const std::string w = work_;
  file("a");
  expect_one_refusal(
      {"--promise", "stdio rpath"}, {"mkdir", w + "/new"},
      "least: blocked mkdir(\"" + w + "/new\") in least-probe[*]: needs promise \"cpath\"");
  EXPECT_FALSE(exists(w + "/new"));
  // Two paths.
  expect_one_refusal({"--promise", "stdio rpath"}, {"rename", w + "/a", w + "/b"},
                     "least: blocked rename(\"" + w + "/a\", \"" + w +
                         "/b\") in least-probe[*]: needs promise \"cpath\"");
  EXPECT_TRUE(exists(w + "/a"));
  // A relative path, as the program passed it, from a coreutils program.
  auto r = run({"--promise", "stdio rpath"}, {"/bin/mkdir", "rel"});
  EXPECT_EQ(r.status, 1) << r.describe();
  EXPECT_EQ(least_lines(r.err),
            (std::vector<std::string>{
                "least: blocked mkdir(\"rel\") in mkdir[*]: needs promise \"cpath\"",
                "least: 1 call blocked (1 distinct)"}))
      << r.describe();
  // A pointer to nothing: reported without a path, the program answered.
  expect_one_refusal({"--promise", "stdio rpath"}, {"raw", "83", "0x1000", "0755"},
                     "least: blocked mkdir(\"?\") in least-probe[*]: needs promise \"cpath\"");
}

// A NULL path pointer is shown unquoted, unlike a file named NULL.
TEST_P(Denials, NullPathIsNotShownAsAFileNamedNull) {
  auto r = run({"--promise", "stdio rpath"}, probe({"raw", "83", "0", "0755"}));
  EXPECT_EQ(r.out, "ERRNO EPERM\n") << r.describe();
  const std::vector<std::string> lines = least_lines(r.err);
  EXPECT_EQ(lines, (std::vector<std::string>{
                       "least: blocked mkdir(NULL) in least-probe[*]: needs promise \"cpath\"",
                       "least: 1 call blocked (1 distinct)"}))
      << r.describe();
}

TEST_P(Denials, OpenFlagsAreNamed) {
  const std::string w = work_;
  file("f");
  // readlink allowed: the static probe's start-up reads /proc/self/exe.
  const std::vector<std::string> no_rpath = {"--promise", "stdio", "--allow-syscall", "readlink"};
  expect_one_refusal(no_rpath, {"open", w + "/f", "O_RDONLY"},
                     "least: blocked openat(\"" + w +
                         "/f\", O_RDONLY|O_CLOEXEC) in least-probe[*]: needs promise \"rpath\"");
  expect_one_refusal(no_rpath, {"open", w + "/created", "O_WRONLY|O_CREAT|O_EXCL"},
                     "least: blocked openat(\"" + w +
                         "/created\", O_WRONLY|O_CREAT|O_EXCL|O_CLOEXEC) in least-probe[*]: "
                         "needs promise \"rpath\"");
  EXPECT_FALSE(exists(w + "/created"));
  expect_one_refusal(no_rpath, {"open", w + "/f", "O_RDWR|O_APPEND|O_TRUNC"},
                     "least: blocked openat(\"" + w +
                         "/f\", O_RDWR|O_TRUNC|O_APPEND|O_CLOEXEC) in least-probe[*]: needs "
                         "promise \"rpath\"");
  std::ifstream f(w + "/f");
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(f), {}), "x\n") << "truncated";
}

TEST_P(Denials, SocketFamilyAndTypeAreNamed) {
  // The default policy has inet and unix, but no packet sockets.
  expect_one_refusal({}, {"socket", "AF_PACKET", "SOCK_RAW"},
                     "least: blocked socket(AF_PACKET, SOCK_RAW, 0) in least-probe[*]: no promise "
                     "allows these arguments; [syscalls] allow = [\"socket\"] would allow any");
  expect_one_refusal({"--promise", "stdio rpath"}, {"socket", "AF_INET", "SOCK_STREAM"},
                     "least: blocked socket(AF_INET, SOCK_STREAM, 0) in least-probe[*]: needs "
                     "promise \"inet\"");
  expect_one_refusal(
      {"--promise", "stdio rpath"},
      {"socket", "AF_INET6", "SOCK_DGRAM|SOCK_NONBLOCK|SOCK_CLOEXEC", "IPPROTO_UDP"},
      "least: blocked socket(AF_INET6, SOCK_DGRAM|SOCK_NONBLOCK|SOCK_CLOEXEC, 17) in "
      "least-probe[*]: needs promise \"inet\"");
}

TEST_P(Denials, AddressesAreDecoded) {
  // Sockets allowed, connect and bind denied by name: the address is the
  // only thing left to tell.
  std::string policy = dir_.write("net.least.toml",
                                  "promises = [\"stdio\", \"rpath\", \"inet\", \"unix\"]\n"
                                  "[syscalls]\n"
                                  "deny = [\"connect\", \"bind\"]\n");
  const std::vector<std::string> p = {"-p", policy};
  const std::string deny_connect = " in least-probe[*]: denied by [syscalls] deny \"connect\"";
  expect_one_refusal(p, {"connect-tcp", "8080"},
                     "least: blocked connect(3, 127.0.0.1:8080)" + deny_connect);
  expect_one_refusal(p, {"connect-tcp6", "8443"},
                     "least: blocked connect(3, [::1]:8443)" + deny_connect);
  expect_one_refusal(p, {"connect-unix", work_ + "/sock"},
                     "least: blocked connect(3, unix \"" + work_ + "/sock\")" + deny_connect);
  expect_one_refusal(p, {"bind-unix", "@least-denials-test"},
                     "least: blocked bind(3, unix abstract \"@least-denials-test\") in "
                     "least-probe[*]: denied by [syscalls] deny \"bind\"");
  expect_one_refusal(p, {"bind-tcp", "8081"},
                     "least: blocked bind(3, 127.0.0.1:8081) in least-probe[*]: denied by "
                     "[syscalls] deny \"bind\"");
  EXPECT_FALSE(exists(work_ + "/sock"));
}

TEST_P(Denials, IoctlRequestsAreNamed) {
  const std::string never = ": never allowed: it would inject input into a terminal";
  expect_one_refusal({}, {"ioctl", "TIOCSTI"},
                     "least: blocked ioctl(0, TIOCSTI) in least-probe[*]" + never);
  // The high half of the request is ignored by the kernel: still TIOCSTI.
  expect_one_refusal(
      {}, {"ioctl-raw", "0x100005412"},
      "least: blocked ioctl(0, TIOCSTI (with high bits 0x1)) in least-probe[*]" + never);
  expect_one_refusal({}, {"ioctl-pty", "TIOCLINUX"},
                     "least: blocked ioctl(3, TIOCLINUX) in least-probe[*]" + never);
  expect_one_refusal({"--promise", "stdio rpath"}, {"ioctl", "TIOCSPGRP"},
                     "least: blocked ioctl(0, TIOCSPGRP) in least-probe[*]: needs promise \"tty\"");
}

TEST_P(Denials, CloneFlagsAreNamed) {
  expect_one_refusal({"--promise", "stdio rpath proc"}, {"clone", "CLONE_NEWUSER|SIGCHLD"},
                     "least: blocked clone(CLONE_NEWUSER|signal 17) in least-probe[*]: no promise "
                     "allows these arguments; [syscalls] allow = [\"clone\"] would allow any");
  expect_one_refusal({"--promise", "stdio rpath"}, {"clone", "CLONE_THREAD|CLONE_VM|CLONE_SIGHAND"},
                     "least: blocked clone(CLONE_THREAD|CLONE_VM|CLONE_SIGHAND) in "
                     "least-probe[*]: needs promise \"thread\"");
  // glibc's fork: CLONE_CHILD_SETTID|CLONE_CHILD_CLEARTID, unnamed.
  expect_one_refusal({"--promise", "stdio rpath"}, {"fork"},
                     "least: blocked clone(0x1200000|signal 17) in least-probe[*]: needs promise "
                     "\"proc\"");
  expect_one_refusal({"--promise", "stdio rpath proc"}, {"unshare", "CLONE_NEWUSER|CLONE_NEWNET"},
                     "least: blocked unshare(CLONE_NEWUSER|CLONE_NEWNET) in least-probe[*]: "
                     "refused as dangerous (enters or creates namespaces (the sandbox sets them "
                     "up itself)); only [syscalls] allow = [\"unshare\"] would allow it");
}

// The hint names the first promise that allows the call; adding it does.
TEST_P(Denials, HintNamesThePromiseThatAllowsIt) {
  const std::string w = work_;
  file("f");
  struct Case {
    std::vector<std::string> probe_args;
    std::string call_prefix, promise;
  };
  const std::vector<Case> cases = {
      {{"mkdir", w + "/d"}, "mkdir(", "cpath"},
      {{"socket", "AF_INET", "SOCK_STREAM"}, "socket(", "inet"},
      {{"fork"}, "clone(", "proc"},
      {{"chmod", w + "/f", "600"}, "chmod(", "fattr"},
      {{"truncate", w + "/f", "0"}, "truncate(", "wpath"},
      {{"mknod-fifo", w + "/fifo"}, "mknodat(", "dpath"},
      {{"mmap", "PROT_WRITE|PROT_EXEC"}, "mmap(", "prot_exec"},
      {{"clone", "CLONE_THREAD|CLONE_VM|CLONE_SIGHAND"}, "clone(", "thread"},
      {{"execve", LEAST_PROBE, "getpid"}, "execve(", "exec"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.promise);
    auto refused = run({"--promise", "stdio rpath"}, probe(c.probe_args));
    EXPECT_EQ(refused.out, "ERRNO EPERM\n") << refused.describe();
    auto d = denials_in(refused.err);
    ASSERT_EQ(d.size(), 1u) << refused.describe();
    EXPECT_EQ(d[0].verb, "blocked");
    EXPECT_EQ(d[0].comm, "least-probe");
    EXPECT_EQ(d[0].call.rfind(c.call_prefix, 0), 0u) << refused.describe();
    EXPECT_EQ(d[0].hint, "needs promise \"" + c.promise + "\"") << refused.describe();
    auto allowed = run({"--promise", "stdio rpath " + c.promise}, probe(c.probe_args));
    EXPECT_EQ(allowed.out, "OK\n") << allowed.describe();
    EXPECT_EQ(least_lines(allowed.err), std::vector<std::string>{}) << allowed.describe();
  }
}

// --- Repeats ----------------------------------------------------------------

TEST_P(Denials, RepeatsAreCountedNotRepeated) {
  auto r = run({"--promise", "stdio rpath"}, probe({"repeat", "50", "mkdir", work_ + "/d"}));
  EXPECT_EQ(r.out, repeat("ERRNO EPERM\n", 50)) << r.describe();
  EXPECT_EQ(least_lines(r.err),
            (std::vector<std::string>{"least: blocked mkdir(\"" + work_ +
                                          "/d\") in least-probe[*]: needs promise \"cpath\"",
                                      "least: 50 calls blocked (1 distinct)"}))
      << r.describe();
  // The same calls from different processes (one mkdir each) are one line
  // each; different arguments are different lines.
  auto sh =
      run({"--promise", "stdio rpath proc exec"},
          {"/bin/sh", "-c", "for i in 1 2 3; do mkdir a; mkdir b; done 2>/dev/null; echo end"});
  EXPECT_EQ(sh.status, 0) << sh.describe();
  EXPECT_EQ(sh.out, "end\n") << sh.describe();
  EXPECT_EQ(
      least_lines(sh.err),
      (std::vector<std::string>{"least: blocked mkdir(\"a\") in mkdir[*]: needs promise \"cpath\"",
                                "least: blocked mkdir(\"b\") in mkdir[*]: needs promise \"cpath\"",
                                "least: 6 calls blocked (2 distinct)"}))
      << sh.describe();
  EXPECT_FALSE(exists(work_ + "/a"));
}

// --- Complain mode ------------------------------------------------------------

TEST_P(Denials, CheckRefusesNothing) {
  auto sock = check({"--promise", "stdio rpath"}, probe({"socket", "AF_INET", "SOCK_STREAM"}));
  EXPECT_EQ(sock.out, "OK\n") << sock.describe();
  EXPECT_EQ(sock.status, 0) << sock.describe();
  EXPECT_EQ(least_lines(sock.err),
            (std::vector<std::string>{"least: would block socket(AF_INET, SOCK_STREAM, 0) in "
                                      "least-probe[*]: needs promise \"inet\"",
                                      "least: 1 call would have been blocked (1 distinct)"}))
      << sock.describe();
  // The call really happens.
  auto dir = check({"--promise", "stdio rpath"}, probe({"mkdir", work_ + "/made"}));
  EXPECT_EQ(dir.out, "OK\n") << dir.describe();
  EXPECT_TRUE(exists(work_ + "/made")) << dir.describe();
  // A deny rule that kills is reported, not applied: the connect reaches the
  // kernel, which refuses it (a bound port nobody listens on).
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  struct sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::string port = std::to_string(ntohs(addr.sin_port));
  auto killed = run({"--promise", "stdio rpath inet", "--deny-syscall", "connect=kill"},
                    probe({"connect-tcp", port}));
  EXPECT_EQ(killed.status, 128 + SIGSYS) << killed.describe();
  auto connect = check({"--promise", "stdio rpath inet", "--deny-syscall", "connect=kill"},
                       probe({"connect-tcp", port}));
  close(fd);
  EXPECT_EQ(connect.out, "ERRNO ECONNREFUSED\n") << connect.describe();
  EXPECT_EQ(connect.status, ECONNREFUSED) << connect.describe();
  EXPECT_EQ(least_lines(connect.err),
            (std::vector<std::string>{"least: would block connect(3, 127.0.0.1:" + port +
                                          ") in least-probe[*]: denied by [syscalls] deny "
                                          "\"connect\"",
                                      "least: 1 call would have been blocked (1 distinct)"}))
      << connect.describe();
}

// A shell workload under a narrow policy: check lets it all happen, run
// refuses it, and both report the same calls with the same hints.
TEST_P(Denials, CheckReportsWhatRunRefuses) {
  const std::string script =
      "ls / >/dev/null; mkdir new; ln -s target link; chmod 600 target; rm victim; "
      "rmdir old; echo done; test -d new";
  const std::vector<std::string> policy = {"--promise", "stdio rpath proc exec"};
  std::map<std::string, SpawnResult> results;
  std::map<std::string, std::string> dirs;
  for (const std::string mode : {"run", "check"}) {
    std::string d = subdir(mode);
    for (const char* name : {"target", "victim"}) {
      dir_.write("work/" + mode + "/" + name, "x\n", 0644);
      own(d + "/" + name);
    }
    subdir(mode + "/old");
    SpawnOptions o;
    o.cwd = d;
    results[mode] = mode == "run" ? run(policy, {"/bin/sh", "-c", script}, o)
                                  : check(policy, {"/bin/sh", "-c", script}, o);
    dirs[mode] = d;
  }
  const SpawnResult& r = results["run"];
  const SpawnResult& c = results["check"];
  // check: everything happened.
  EXPECT_EQ(c.status, 0) << c.describe();
  EXPECT_EQ(c.out, "done\n") << c.describe();
  struct stat st;
  EXPECT_TRUE(stat((dirs["check"] + "/new").c_str(), &st) == 0 && S_ISDIR(st.st_mode));
  EXPECT_TRUE(lstat((dirs["check"] + "/link").c_str(), &st) == 0 && S_ISLNK(st.st_mode));
  EXPECT_TRUE(stat((dirs["check"] + "/target").c_str(), &st) == 0 && (st.st_mode & 0777) == 0600);
  EXPECT_FALSE(exists(dirs["check"] + "/victim"));
  EXPECT_FALSE(exists(dirs["check"] + "/old"));
  // run: nothing did.
  EXPECT_EQ(r.status, 1) << r.describe();
  EXPECT_EQ(r.out, "done\n") << r.describe();
  EXPECT_FALSE(exists(dirs["run"] + "/new"));
  EXPECT_FALSE(exists(dirs["run"] + "/link"));
  EXPECT_TRUE(stat((dirs["run"] + "/target").c_str(), &st) == 0 && (st.st_mode & 0777) == 0644);
  EXPECT_TRUE(exists(dirs["run"] + "/victim"));
  EXPECT_TRUE(exists(dirs["run"] + "/old"));
  // The same report, word for word but the verb.
  auto run_d = denials_in(r.err), check_d = denials_in(c.err);
  std::vector<std::string> run_what, check_what;
  for (const auto& d : run_d) {
    EXPECT_EQ(d.verb, "blocked");
    run_what.push_back(d.what());
  }
  for (const auto& d : check_d) {
    EXPECT_EQ(d.verb, "would block");
    check_what.push_back(d.what());
  }
  EXPECT_EQ(check_what, run_what) << "run:\n" << r.describe() << "\ncheck:\n" << c.describe();
  EXPECT_EQ(run_what, (std::vector<std::string>{
                          "mkdir(\"new\") in mkdir: needs promise \"cpath\"",
                          "symlinkat(\"target\", \"link\") in ln: needs promise \"cpath\"",
                          "fchmodat(\"target\") in chmod: needs promise \"fattr\"",
                          "unlinkat(\"victim\") in rm: needs promise \"cpath\"",
                          "rmdir(\"old\") in rmdir: needs promise \"cpath\"",
                      }))
      << r.describe();
  EXPECT_TRUE(has_line_starting_with(r.err, "least: 5 calls blocked (5 distinct)")) << r.describe();
  EXPECT_TRUE(has_line_starting_with(c.err, "least: 5 calls would have been blocked (5 distinct)"))
      << c.describe();
}

// Known bug: run answers the exec of a missing file ENOENT without a word
// (supervisor.cc, when rpath is promised), but check reports it as a call
// it "would block", so check's report is not the set run refuses.
TEST_P(Denials, CheckDoesNotReportExecOfAMissingFile) {
  const std::vector<std::string> policy = {"--promise", "stdio rpath"};
  const std::vector<std::string> command = {"/usr/bin/env", "PATH=/nonexistent:/usr/bin", "true"};
  auto r = run(policy, command);
  auto c = check(policy, command);
  EXPECT_EQ(r.status, 126) << r.describe();
  EXPECT_EQ(c.status, 0) << c.describe();
  std::set<std::string> run_what, check_what;
  for (const auto& d : denials_in(r.err)) run_what.insert(d.what());
  for (const auto& d : denials_in(c.err)) check_what.insert(d.what());
  EXPECT_EQ(run_what,
            (std::set<std::string>{"execve(\"/usr/bin/true\") in env: needs promise \"exec\""}))
      << r.describe();
  EXPECT_EQ(check_what, run_what) << c.describe();
}

// --- The JSON log ---------------------------------------------------------------

const std::set<std::string> kKeys = {"time", "pid",    "comm", "syscall",
                                     "args", "action", "rule", "hint"};
const std::set<std::string> kRules = {"no promise", "arguments", "dangerous", "[syscalls] deny",
                                      "never"};

// Every key of docs/denials.md, of its type and form.
void expect_valid_event(const json& e, const std::string& line) {
  SCOPED_TRACE(line);
  ASSERT_TRUE(e.is_object());
  std::set<std::string> keys;
  for (const auto& [k, v] : e.items()) keys.insert(k);
  EXPECT_EQ(keys, kKeys);
  for (const char* k : {"time", "comm", "syscall", "action", "rule", "hint"})
    ASSERT_TRUE(e.contains(k) && e[k].is_string()) << k;
  ASSERT_TRUE(e.contains("pid") && e["pid"].is_number_integer());
  ASSERT_TRUE(e.contains("args") && e["args"].is_object());
  EXPECT_GT(e["pid"].get<long>(), 0);
  EXPECT_FALSE(e["comm"].get<std::string>().empty());
  EXPECT_FALSE(e["hint"].get<std::string>().empty());
  for (const auto& [k, v] : e["args"].items()) EXPECT_TRUE(v.is_string()) << k;
  // UTC, ISO 8601, milliseconds; and now, give or take.
  const std::string t = e["time"];
  ASSERT_TRUE(std::regex_match(t, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)"))) << t;
  struct tm tm = {};
  ASSERT_NE(strptime(t.c_str(), "%Y-%m-%dT%H:%M:%S", &tm), nullptr) << t;
  EXPECT_LT(std::abs(static_cast<long>(timegm(&tm) - time(nullptr))), 300) << t;
  const std::string action = e["action"];
  std::smatch m;
  if (action != "allowed (check mode)") {
    ASSERT_TRUE(std::regex_match(action, m, std::regex("refused (E[A-Z0-9]+)"))) << action;
    EXPECT_GT(errno_from_name(m[1]), 0) << action;
  }
  EXPECT_EQ(kRules.count(e["rule"].get<std::string>()), 1u) << e["rule"];
}

// The printed call, `syscall(a, b)`, as the event says it: the syscall's
// name and its decoded values (the object's keys come sorted, so the values
// are compared as a set; a value may lack the quotes the line puts on paths).
bool event_says(const json& e, const Denial& d) {
  const std::string name = e["syscall"];
  if (d.call.rfind(name + "(", 0) != 0 || d.call.back() != ')') return false;
  std::string inner = d.call.substr(name.size() + 1, d.call.size() - name.size() - 2);
  std::multiset<std::string> printed, logged;
  for (size_t at = 0; !inner.empty();) {
    size_t comma = inner.find(", ", at);
    printed.insert(inner.substr(at, comma - at));
    if (comma == std::string::npos) break;
    at = comma + 2;
  }
  for (const auto& [k, v] : e["args"].items()) {
    std::string s = v;
    logged.insert(printed.count(s) ? s : "\"" + s + "\"");
  }
  return printed == logged && e["comm"] == d.comm && e["hint"] == d.hint;
}

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

TEST_P(Denials, JsonLogIsValidMatchesTheLinesAndIsAppended) {
  file("f");
  const std::string log = work_ + "/events.json";
  // Each rule: no promise (mkdir, twice, and chmod), [syscalls] deny
  // (connect, EACCES), never (TIOCSTI), arguments (AF_PACKET), dangerous
  // (unshare).
  const std::string p = LEAST_PROBE;
  auto r =
      run({"--log-json", log, "--promise", "stdio rpath proc exec inet", "--deny-syscall",
           "connect=EACCES"},
          {"/bin/sh", "-c",
           "mkdir a; mkdir a; chmod 600 f; " + p + " connect-tcp 8080; " + p + " ioctl TIOCSTI; " +
               p + " socket AF_PACKET SOCK_RAW; " + p + " unshare CLONE_NEWUSER; true"});
  EXPECT_EQ(r.status, 0) << r.describe();
  EXPECT_EQ(r.out, "ERRNO EACCES\nERRNO EPERM\nERRNO EPERM\nERRNO EPERM\n") << r.describe();
  EXPECT_TRUE(has_line_starting_with(r.err, "least: 7 calls blocked (6 distinct)")) << r.describe();
  const auto printed = denials_in(r.err);
  ASSERT_EQ(printed.size(), 6u) << r.describe();

  const auto first = read_lines(log);
  ASSERT_EQ(first.size(), 7u) << "one event per call, repeats included\n" << r.describe();
  std::vector<json> events;
  for (const auto& line : first) {
    json e = json::parse(line, nullptr, false);
    ASSERT_FALSE(e.is_discarded()) << line;
    expect_valid_event(e, line);
    if (::testing::Test::HasFatalFailure()) return;
    EXPECT_EQ(e["action"], e["syscall"] == "connect" ? "refused EACCES" : "refused EPERM") << line;
    events.push_back(e);
  }
  // Times never go back.
  for (size_t i = 1; i < events.size(); ++i)
    EXPECT_LE(events[i - 1]["time"].get<std::string>(), events[i]["time"].get<std::string>());
  // Each printed line is an event of that pid; each event, a printed line.
  for (const auto& d : printed) {
    bool found = false;
    for (const auto& e : events) found |= e["pid"] == d.pid && event_says(e, d);
    EXPECT_TRUE(found) << "no event for: " << d.what();
  }
  std::map<std::string, std::string> rule_of;
  for (const auto& e : events) {
    bool found = false;
    for (const auto& d : printed)
      if (event_says(e, d)) {
        found = true;
        rule_of[d.call] = e["rule"];
      }
    EXPECT_TRUE(found) << "printed nowhere: " << e.dump();
  }
  EXPECT_EQ(rule_of, (std::map<std::string, std::string>{
                         {"mkdir(\"a\")", "no promise"},
                         {"fchmodat(\"f\")", "no promise"},
                         {"connect(3, 127.0.0.1:8080)", "[syscalls] deny"},
                         {"ioctl(0, TIOCSTI)", "never"},
                         {"socket(AF_PACKET, SOCK_RAW, 0)", "arguments"},
                         {"unshare(CLONE_NEWUSER)", "dangerous"},
                     }));

  // A second run, in check mode, appends.
  auto c = check({"--log-json", log, "--promise", "stdio rpath"},
                 probe({"socket", "AF_INET", "SOCK_STREAM"}));
  EXPECT_EQ(c.out, "OK\n") << c.describe();
  const auto both = read_lines(log);
  ASSERT_EQ(both.size(), first.size() + 1) << c.describe();
  EXPECT_TRUE(std::equal(first.begin(), first.end(), both.begin())) << "the log was rewritten";
  json e = json::parse(both.back(), nullptr, false);
  ASSERT_FALSE(e.is_discarded()) << both.back();
  expect_valid_event(e, both.back());
  EXPECT_EQ(e["action"], "allowed (check mode)");
  EXPECT_EQ(e["syscall"], "socket");
  EXPECT_EQ(e["args"], (json{{"family", "AF_INET"}, {"type", "SOCK_STREAM"}, {"protocol", "0"}}));
  EXPECT_EQ(e["comm"], "least-probe");
  EXPECT_EQ(e["rule"], "no promise");
  EXPECT_EQ(e["hint"], "needs promise \"inet\"");
  EXPECT_LE(events.back()["time"].get<std::string>(), e["time"].get<std::string>());
  auto d = denials_in(c.err);
  ASSERT_EQ(d.size(), 1u) << c.describe();
  EXPECT_EQ(e["pid"], d[0].pid);
}

TEST_P(Denials, UnwritableJsonLogFailsBeforeTheProgramRuns) {
  const std::vector<std::string> cmd = probe({"mkdir", work_ + "/ran"});
  const std::vector<std::string> promise = {"--promise", "stdio rpath cpath"};
  auto with_log = [&](const std::string& log) {
    std::vector<std::string> args = {"--log-json", log};
    args.insert(args.end(), promise.begin(), promise.end());
    return args;
  };
  struct Case {
    std::string verb, log, why;
  };
  std::vector<Case> cases = {
      {"run", "/nonexistent-least-test/events.json", "No such file or directory"},
      {"check", "/nonexistent-least-test/events.json", "No such file or directory"},
      {"run", work_, "Is a directory"}};
  if (nobody()) {
    std::string root_only = dir_.write("root-only.json", "", 0600);
    cases.push_back({"run", root_only, "Permission denied"});
  }
  for (const auto& c : cases) {
    auto r = c.verb == "run" ? run(with_log(c.log), cmd) : check(with_log(c.log), cmd);
    EXPECT_EQ(r.status, 125) << r.describe();
    EXPECT_EQ(r.out, "") << r.describe();
    EXPECT_EQ(least_lines(r.err),
              (std::vector<std::string>{"least: error: " + c.verb + ": open the JSON log \"" +
                                        c.log + "\": " + c.why}))
        << r.describe();
    EXPECT_FALSE(exists(work_ + "/ran")) << "the program ran\n" << r.describe();
  }
  // The control: a writable log, and the program runs.
  auto ok = run(with_log(work_ + "/events.json"), cmd);
  EXPECT_EQ(ok.out, "OK\n") << ok.describe();
  EXPECT_TRUE(exists(work_ + "/ran"));
}

// --- The supervisor is never the weak point ----------------------------------------

// least is killed while its program makes refused calls as fast as it can:
// the whole tree dies, and no refused call succeeds meanwhile.
TEST_P(Denials, NothingSurvivesSigkillDuringADenialStorm) {
  for (const std::string verb : {"run", "check"}) {
    SCOPED_TRACE(verb);
    const std::string target = subdir(verb) + "/storm";
    const std::vector<std::string> args = {"--promise", "stdio rpath"};
    const std::vector<std::string> cmd = probe({"repeat", "100000000", "mkdir", target});
    SpawnOptions options;
    options.timeout = 10s;
    options.cwd = work_;
    Process least(as_runner(verb == "run" ? least_run(args, cmd) : least_check(args, cmd)),
                  options);
    SpawnResult r;
    std::thread reader([&] { r = least.wait(); });  // keeps the pipes drained
    pid_t prober = -1;
    std::vector<pid_t> tree;
    for (auto until = std::chrono::steady_clock::now() + 5s;
         prober < 0 && std::chrono::steady_clock::now() < until; std::this_thread::sleep_for(5ms)) {
      tree = descendants(least.pid());
      for (pid_t p : tree)
        if (comm_of(p) == "least-probe") prober = p;
    }
    if (prober < 0) {
      kill(least.pid(), SIGKILL);
      reader.join();
      FAIL() << "the probe never started\n" << r.describe();
    }
    std::this_thread::sleep_for(200ms);  // thousands of denials
    ASSERT_EQ(kill(least.pid(), SIGKILL), 0);
    reader.join();
    EXPECT_FALSE(r.timed_out) << "the sandbox kept least's pipes open\n" << r.describe();
    EXPECT_EQ(r.status, 128 + SIGKILL);
    std::vector<pid_t> alive = tree;
    for (auto until = std::chrono::steady_clock::now() + 2s;
         !alive.empty() && std::chrono::steady_clock::now() < until;
         std::this_thread::sleep_for(10ms))
      alive.erase(std::remove_if(alive.begin(), alive.end(), dead), alive.end());
    EXPECT_TRUE(alive.empty()) << alive.size() << " sandboxed processes outlived least";
    // The storm was under way, and reported with the probe's own pid.
    auto out = lines_of(r.out);
    EXPECT_GT(out.size(), 100u) << r.describe().substr(0, 2000);
    auto d = denials_in(r.err);
    ASSERT_EQ(d.size(), 1u) << r.describe().substr(0, 2000);
    EXPECT_EQ(d[0].pid, prober);
    EXPECT_EQ(d[0].call, "mkdir(\"" + target + "\")");
    if (verb == "run") {
      // Refused, then (the supervisor gone) ENOSYS; never done.
      EXPECT_FALSE(exists(target)) << "a refused call succeeded";
      // The last line may have been cut short by the kill.
      for (size_t i = 0; i + 1 < out.size(); ++i)
        if (out[i] != "ERRNO EPERM" && out[i] != "ERRNO ENOSYS") {
          ADD_FAILURE() << "unexpected answer: " << out[i];
          break;
        }
      EXPECT_EQ(std::count(out.begin(), out.end(), "OK"), 0);
    }
  }
}

TEST_P(Denials, ThousandsOfDenialsAreAllAnsweredCountedAndLogged) {
  const std::string log = work_ + "/storm.json";
  SpawnOptions options;
  options.timeout = 30s;
  auto r = run({"--log-json", log, "--promise", "stdio rpath"},
               probe({"repeat", "5000", "mkdir", work_ + "/d"}), options);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.status, EPERM) << r.describe().substr(0, 2000);
  EXPECT_TRUE(r.out == repeat("ERRNO EPERM\n", 5000)) << r.describe().substr(0, 2000);
  EXPECT_EQ(least_lines(r.err),
            (std::vector<std::string>{"least: blocked mkdir(\"" + work_ +
                                          "/d\") in least-probe[*]: needs promise \"cpath\"",
                                      "least: 5000 calls blocked (1 distinct)"}))
      << r.describe();
  auto events = read_lines(log);
  EXPECT_EQ(events.size(), 5000u);
  if (!events.empty()) {
    json e = json::parse(events.back(), nullptr, false);
    expect_valid_event(e, events.back());
  }
}

// --- Allowed calls never reach the supervisor ------------------------------------------

TEST_P(Denials, AllowedCallsAreNeverReported) {
  const std::vector<std::string> dd = {"dd", "if=/dev/zero", "of=/dev/null", "bs=1", "count=10000"};
  for (const auto& r : {run({}, dd), check({}, dd)}) {
    EXPECT_EQ(r.status, 0) << r.describe();
    EXPECT_NE(r.err.find("10000+0 records out"), std::string::npos) << r.describe();
    EXPECT_EQ(least_lines(r.err), std::vector<std::string>{}) << r.describe();
  }
  auto getpid = run({"--promise", "stdio rpath"}, probe({"repeat", "10000", "getpid"}));
  EXPECT_EQ(getpid.status, 0);
  EXPECT_TRUE(getpid.out == repeat("OK\n", 10000)) << getpid.describe().substr(0, 2000);
  EXPECT_EQ(least_lines(getpid.err), std::vector<std::string>{}) << getpid.describe();
}

}  // namespace
}  // namespace least::testing
