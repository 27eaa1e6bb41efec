// Lockstep: one Plan, every enforcer. A matrix of probe calls (allowed and
// refused ones, with argument conditions) must give the same answer under
// `least run` and under each consumer that runs here: runc and crun (the OCI
// bundle from `least bundle`) and bwrap (the raw filter from `least export
// --format bpf`), for several policies including the built-in default.
//
// Where a consumer cannot hold what `least run` holds, the difference is
// listed below with its reason and checked to be exactly that: never skipped,
// and a listed difference that no longer differs fails too.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <sstream>

#include "consumer.h"

namespace least::testing {
namespace {

using Args = std::vector<std::string>;

struct Policy {
  std::string name;
  Args least;  // options for least run / bundle / export; empty: the built-in default
};

const Policy kPolicies[] = {
    {"default", {}},
    {"stdio", {"--promise", "stdio"}},
    {"client", {"--promise", "stdio rpath inet dns"}},
    {"worker", {"--promise", "stdio rpath wpath cpath proc thread unix tmppath flock"}},
    {"server", {"--promise", "stdio inet", "--bind", "tcp:47611"}},
    {"conditions", {"-p", LEAST_SOURCE_DIR "/tests/exports/conditions.least.toml"}},
};

struct Call {
  std::string name;
  Args args;  // the probe's; "{probe}" is the probe's own path for that consumer
};

// Every thread flag glibc's pthread_create passes, as clone() takes them.
const char* const kThreadFlags =
    "CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM";

const Call kCalls[] = {
    {"getpid", {"getpid"}},
    {"socket-inet-tcp", {"socket", "AF_INET", "SOCK_STREAM"}},
    {"socket-inet6-udp", {"socket", "AF_INET6", "SOCK_DGRAM"}},
    {"socket-unix", {"socket", "AF_UNIX", "SOCK_STREAM"}},
    {"socket-packet", {"socket", "AF_PACKET", "SOCK_RAW"}},
    {"socket-netlink-route", {"socket", "AF_NETLINK", "SOCK_RAW", "NETLINK_ROUTE"}},
    {"socket-netlink-audit", {"socket", "AF_NETLINK", "SOCK_RAW", "NETLINK_AUDIT"}},
    {"bind-allowed-port", {"bind-tcp", "47611"}},
    {"bind-other-port", {"bind-tcp", "47612"}},
    {"fork", {"fork"}},
    {"clone-thread", {"clone", kThreadFlags}},
    {"clone-newuser", {"clone", "CLONE_NEWUSER|SIGCHLD"}},
    {"clone3", {"clone3"}},
    {"unshare-newns", {"unshare", "CLONE_NEWNS"}},
    {"mmap-rwx", {"mmap", "PROT_READ|PROT_WRITE|PROT_EXEC"}},
    {"mmap-rx", {"mmap", "PROT_READ|PROT_EXEC"}},
    {"mprotect-x", {"mprotect", "PROT_READ|PROT_EXEC"}},
    {"personality-linux", {"personality", "PER_LINUX"}},
    {"personality-read-implies-exec", {"personality", "READ_IMPLIES_EXEC"}},
    {"ioctl-tiocsti", {"ioctl", "TIOCSTI"}},
    // On fd 0, whatever it is: runc hands the container a pipe, crun and bwrap
    // the caller's /dev/null, so only requests that work on both are compared.
    {"ioctl-fioclex", {"ioctl", "FIOCLEX"}},
    {"fcntl-getfl", {"fcntl", "F_GETFL"}},
    {"fcntl-setlk", {"fcntl", "F_SETLK", "/dev/null"}},
    {"prctl-set-name", {"prctl", "PR_SET_NAME"}},
    {"prctl-set-mm", {"prctl", "PR_SET_MM"}},
    {"memfd-create", {"memfd_create"}},
    {"setuid", {"setuid"}},
    {"kill-self", {"kill-self", "0"}},
    {"ptrace-traceme", {"ptrace-traceme"}},
    {"mount", {"mount-invalid"}},
    {"execve", {"execve", "{probe}", "getpid"}},
    {"i386-abi", {"int80-getpid"}},
    {"x32-abi", {"x32-getpid"}},
    {"open-read", {"open", "/proc/self/status", "O_RDONLY"}},
    {"open-write", {"open", "/dev/null", "O_WRONLY"}},
    {"no-new-privs", {"status", "NoNewPrivs"}},
    {"capabilities", {"status", "CapEff"}},
};

// Processes at a time: most of a container start is waiting on the kernel.
constexpr int kJobs = 4;

enum Consumer { kRunc, kCrun, kBwrap, kConsumers };
const char* const kConsumerNames[] = {"runc", "crun", "bwrap"};

// What a consumer cannot hold, said once, with the reason: the consumer's
// answer is checked to be exactly this, and to differ from `least run`'s.
struct Difference {
  std::string policy;
  std::string call;
  std::vector<Consumer> consumers;
  std::string answer;  // the consumers' answer
  std::string reason;
};

const char* const kRuncStart =
    "runc opens its exec fifo (openat O_WRONLY|O_CLOEXEC) and lists /proc/self/fd (openat "
    "O_RDONLY|O_CLOEXEC, fstatfs) after installing the filter, so the OCI profile allows "
    "openat with exactly those flags (allow_runtime_start in oci_bundle.cc); the probe opens "
    "with O_CLOEXEC, so it gets through; crun shares the profile";

const Difference kDifferences[] = {
    {"stdio",
     "execve",
     {kRunc, kCrun, kBwrap},
     "OK",
     "without the promise exec, `least run` refuses every exec but the program's start, which "
     "needs its supervisor; a runtime execs the program after installing the filter, so the "
     "exported filter must allow execve (consumer_plan.cc)"},
    {"client", "execve", {kRunc, kCrun, kBwrap}, "OK", "as above: exec is not in client"},
    {"server", "execve", {kRunc, kCrun, kBwrap}, "OK", "as above: exec is not in server"},
    {"worker", "execve", {kRunc, kCrun, kBwrap}, "OK", "as above: exec is not in worker"},
    {"conditions", "execve", {kRunc, kCrun, kBwrap}, "OK", "as above: exec is not promised"},
    // Reading /proc/self/status needs open: refused without rpath, except
    // with the exact flags runc needs after installing the filter.
    {"stdio", "open-read", {kRunc, kCrun}, "OK", kRuncStart},
    {"stdio", "open-write", {kRunc, kCrun}, "OK", kRuncStart},
    {"stdio", "no-new-privs", {kRunc, kCrun}, "OK 1", kRuncStart},
    {"stdio", "capabilities", {kRunc, kCrun}, "OK 0000000000000000", kRuncStart},
    {"conditions", "open-read", {kRunc, kCrun}, "OK", kRuncStart},
    {"conditions", "open-write", {kRunc, kCrun}, "OK", kRuncStart},
    {"conditions", "no-new-privs", {kRunc, kCrun}, "OK 1", kRuncStart},
    {"conditions", "capabilities", {kRunc, kCrun}, "OK 0000000000000000", kRuncStart},
    {"server", "open-read", {kRunc, kCrun}, "OK", kRuncStart},
    {"server", "open-write", {kRunc, kCrun}, "OK", kRuncStart},
    {"server", "no-new-privs", {kRunc, kCrun}, "OK 1", kRuncStart},
    {"server", "capabilities", {kRunc, kCrun}, "OK 0000000000000000", kRuncStart},
    {"server",
     "bind-other-port",
     {kRunc, kCrun, kBwrap},
     "OK",
     "TCP ports are Landlock's ([network] bind tcp:47611): OCI has no field for them and the "
     "raw filter is seccomp only, which cannot read the sockaddr"},
};

const Difference* find_difference(const std::string& policy, const std::string& call,
                                  Consumer consumer) {
  for (const auto& d : kDifferences)
    if (d.policy == policy && d.call == call &&
        std::find(d.consumers.begin(), d.consumers.end(), consumer) != d.consumers.end())
      return &d;
  return nullptr;
}

Args substitute(const Args& args, const std::string& probe) {
  Args out;
  for (const auto& a : args) out.push_back(a == "{probe}" ? probe : a);
  return out;
}

bool refused(const std::string& answer) {
  return answer.starts_with("ERRNO") || answer.starts_with("KILLED");
}

class Lockstep : public ::testing::TestWithParam<Policy> {
 protected:
  TempDir tmp_;
};

TEST_P(Lockstep, SameAnswerUnderEveryConsumer) {
  const Policy& policy = GetParam();
  const auto start = std::chrono::steady_clock::now();

  // The exports: the raw filter for bwrap, the bundle for runc and crun.
  std::string bpf = tmp_ / "filter.bpf";
  {
    Args args = {"export"};
    args.insert(args.end(), policy.least.begin(), policy.least.end());
    args.insert(args.end(), {"--format", "bpf", "-o", bpf});
    SpawnResult exported = least(args);
    ASSERT_EQ(exported.status, 0) << exported.describe();
  }
  std::string dir = tmp_ / "bundle";
  make_bundle(dir, policy.least, {kProbeInRootfs, "getpid"});
  ASSERT_FALSE(::testing::Test::HasFatalFailure());

  // Every run of the matrix in one pool: least run (the reference), then
  // bwrap, runc and crun, each call in a process or container of its own.
  std::vector<Args> argvs, in_rootfs;
  for (const auto& c : kCalls)
    argvs.push_back(least_run(policy.least, probe(substitute(c.args, LEAST_PROBE))));
  for (const auto& c : kCalls)
    argvs.push_back(bwrap_argv(bpf, probe(substitute(c.args, LEAST_PROBE))));
  for (const auto& c : kCalls) {
    Args a = {kProbeInRootfs};
    for (const auto& x : substitute(c.args, kProbeInRootfs)) a.push_back(x);
    in_rootfs.push_back(a);
  }
  for (Runtime r : {Runtime::kRunc, Runtime::kCrun})
    for (auto& a : container_argvs(r, dir, tmp_ / "state", in_rootfs)) argvs.push_back(a);
  std::vector<SpawnResult> all = spawn_all(argvs, kJobs);
  const size_t n = std::size(kCalls);
  auto slice = [&](size_t k) {
    return std::vector<SpawnResult>(all.begin() + static_cast<long>(k * n),
                                    all.begin() + static_cast<long>((k + 1) * n));
  };
  std::vector<SpawnResult> reference = slice(0);
  std::vector<std::vector<SpawnResult>> got(kConsumers);
  got[kBwrap] = slice(1);
  got[kRunc] = slice(2);
  got[kCrun] = slice(3);

  std::ostringstream table;
  int mismatches = 0, allowed = 0, refusals = 0;
  for (size_t i = 0; i < std::size(kCalls); ++i) {
    const std::string& call = kCalls[i].name;
    const std::string expect = probe_answer(reference[i]);
    ASSERT_TRUE(expect.starts_with("OK") || refused(expect))
        << "least run did not answer " << call << ": " << reference[i].describe();
    (refused(expect) ? refusals : allowed)++;
    for (int c = 0; c < kConsumers; ++c) {
      const std::string answer = probe_answer(got[c][i]);
      const Difference* d = find_difference(policy.name, call, Consumer(c));
      const std::string want = d ? d->answer : expect;
      if (answer == want && (!d || answer != expect)) continue;
      ++mismatches;
      table << "  " << call << " under " << kConsumerNames[c] << ": " << answer
            << ", least run: " << expect;
      if (d)
        table << (answer == expect ? " (listed as a difference, but no longer differs)"
                                   : " (listed difference expects " + d->answer + ")");
      table << "\n    " << got[c][i].describe() << "\n";
    }
  }
  EXPECT_EQ(mismatches, 0) << "policy " << policy.name << ":\n" << table.str();
  EXPECT_GT(allowed, 0) << "the matrix must hold allowed calls";
  EXPECT_GT(refusals, 0) << "the matrix must hold refused calls";
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
  RecordProperty("matrix_ms", static_cast<int>(ms));
}

INSTANTIATE_TEST_SUITE_P(Policies, Lockstep, ::testing::ValuesIn(kPolicies),
                         [](const auto& info) { return info.param.name; });

// Every listed difference names a policy and a call of the matrix.
TEST(LockstepDifferences, NameRealCases) {
  for (const auto& d : kDifferences) {
    bool policy = std::any_of(std::begin(kPolicies), std::end(kPolicies),
                              [&](const Policy& p) { return p.name == d.policy; });
    bool call = std::any_of(std::begin(kCalls), std::end(kCalls),
                            [&](const Call& c) { return c.name == d.call; });
    EXPECT_TRUE(policy && call) << d.policy << " / " << d.call;
    EXPECT_FALSE(d.reason.empty());
  }
}

}  // namespace
}  // namespace least::testing
