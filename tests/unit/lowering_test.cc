// Lowering and compiling, checked in a BPF simulator: table-driven cases of
// (arch, syscall, arguments) -> action, without installing anything.
#include <errno.h>
#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "bpf_simulator.h"
#include "enforce/seccomp_filter.h"
#include "plan/lower.h"
#include "policy/pledge_flags.h"

namespace least {
namespace {

using sys::Arch;

plan::Plan lower_flags(policy::PledgeFlags flags, Arch arch = Arch::kX86_64) {
  policy::Diagnostics d;
  auto p = policy::policy_from_flags(flags, d);
  EXPECT_FALSE(d.has_errors()) << d.render();
  auto plan = plan::lower_policy(p, arch);
  EXPECT_TRUE(plan.ok());
  return std::move(plan).value();
}

plan::Plan lower_promises(const std::string& promises, Arch arch = Arch::kX86_64) {
  policy::PledgeFlags f;
  f.promises = {promises};
  return lower_flags(f, arch);
}

class Filter {
 public:
  explicit Filter(const plan::Plan& plan) : arch_(plan.seccomp.arch) {
    auto prog = enforce::compile_seccomp(plan.seccomp);
    EXPECT_TRUE(prog.ok()) << (prog.ok() ? "" : prog.error().str());
    prog_ = std::move(prog).value();
  }
  uint32_t call(const char* name, std::array<uint64_t, 6> args = {}) const {
    auto nr = sys::syscall_number(name, arch_);
    EXPECT_TRUE(nr) << name;
    return raw(*nr, args, sys::audit_arch(arch_));
  }
  uint32_t raw(int nr, std::array<uint64_t, 6> args, uint32_t audit) const {
    seccomp_data d{};
    d.nr = nr;
    d.arch = audit;
    for (int i = 0; i < 6; ++i) d.args[i] = args[i];
    return test::run_bpf(prog_.code, d);
  }
  const enforce::BpfProgram& program() const { return prog_; }

 private:
  Arch arch_;
  enforce::BpfProgram prog_;
};

constexpr uint32_t kAllow = SECCOMP_RET_ALLOW;
// Refused calls go to the supervisor, which reports them and answers EPERM.
constexpr uint32_t kRefused = SECCOMP_RET_USER_NOTIF;
constexpr uint32_t kEnosys = SECCOMP_RET_ERRNO | ENOSYS;
constexpr uint32_t kKill = SECCOMP_RET_KILL_PROCESS;
constexpr uint32_t kNotify = SECCOMP_RET_USER_NOTIF;

TEST(Lowering, DefaultPolicyOnX86_64) {
  policy::Policy empty;
  auto plan = plan::lower_policy(empty, Arch::kX86_64);
  ASSERT_TRUE(plan.ok());
  EXPECT_TRUE(plan->default_promises);
  EXPECT_TRUE(plan->dangerous_allowed.empty());
  Filter f(*plan);
  EXPECT_EQ(f.call("read"), kAllow);
  EXPECT_EQ(f.call("execve"), kAllow);
  EXPECT_EQ(f.call("socket", {AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0}), kAllow);
  EXPECT_EQ(f.call("socket", {AF_UNIX, SOCK_DGRAM, 0}), kAllow);
  EXPECT_EQ(f.call("socket", {AF_PACKET, SOCK_RAW, 0}), kRefused);
  EXPECT_EQ(f.call("socket", {AF_VSOCK, SOCK_STREAM, 0}), kRefused);
  EXPECT_EQ(f.call("socket", {AF_NETLINK, SOCK_RAW, 9 /* NETLINK_AUDIT */}), kRefused);
  EXPECT_EQ(f.call("ioctl", {0, TCGETS}), kAllow);
  EXPECT_EQ(f.call("ioctl", {0, TIOCSTI}), kRefused);
  EXPECT_EQ(f.call("ioctl", {0, TIOCLINUX}), kRefused);
  EXPECT_EQ(f.call("ioctl", {0, 0x100000000ull | TIOCSTI}), kRefused);
  EXPECT_EQ(f.call("clone", {SIGCHLD}), kAllow);
  EXPECT_EQ(f.call("clone", {CLONE_NEWUSER | SIGCHLD}), kRefused);
  EXPECT_EQ(f.call("clone", {CLONE_VM | CLONE_THREAD | CLONE_SIGHAND}), kAllow);
  EXPECT_EQ(f.call("clone3"), kEnosys);
  EXPECT_EQ(f.call("unshare", {CLONE_NEWUSER}), kRefused);
  for (const char* refused : {"mount", "ptrace", "bpf", "kexec_load", "init_module", "reboot",
                              "io_uring_setup", "userfaultfd", "perf_event_open", "keyctl", "setns",
                              "pivot_root", "open_by_handle_at", "swapon"})
    EXPECT_EQ(f.call(refused), kRefused) << refused;
  // Newer than libseccomp's table: as if the kernel lacked it.
  EXPECT_EQ(f.raw(sys::highest_known_syscall(Arch::kX86_64) + 1, {}, AUDIT_ARCH_X86_64), kEnosys);
  // The i386 ABI and x32 are the classic bypasses: the process dies.
  EXPECT_EQ(f.raw(20 /* i386 getpid */, {}, AUDIT_ARCH_I386), kKill);
  EXPECT_EQ(f.raw(0x40000000 | 39 /* x32 getpid */, {}, AUDIT_ARCH_X86_64), kKill);
}

TEST(Lowering, PromisesGateArguments) {
  Filter stdio(lower_promises("stdio"));
  EXPECT_EQ(stdio.call("write"), kAllow);
  EXPECT_EQ(stdio.call("openat"), kRefused);
  EXPECT_EQ(stdio.call("socket", {AF_INET, SOCK_STREAM}), kRefused);
  EXPECT_EQ(stdio.call("mmap", {0, 4096, PROT_READ | PROT_WRITE}), kAllow);
  EXPECT_EQ(stdio.call("mmap", {0, 4096, PROT_READ | PROT_EXEC}), kAllow);
  EXPECT_EQ(stdio.call("mmap", {0, 4096, PROT_READ | PROT_WRITE | PROT_EXEC}), kRefused);
  EXPECT_EQ(stdio.call("mprotect", {0, 4096, PROT_READ | PROT_EXEC}), kRefused);
  EXPECT_EQ(stdio.call("fork"), kRefused);
  EXPECT_EQ(stdio.call("execve"), kNotify);  // the supervisor lets only the launcher's own exec

  Filter wx(lower_promises("stdio prot_exec"));
  EXPECT_EQ(wx.call("mmap", {0, 4096, PROT_READ | PROT_WRITE | PROT_EXEC}), kAllow);
  EXPECT_EQ(wx.call("mprotect", {0, 4096, PROT_READ | PROT_EXEC}), kAllow);

  Filter inet(lower_promises("stdio inet"));
  EXPECT_EQ(inet.call("socket", {AF_INET6, SOCK_DGRAM}), kAllow);
  EXPECT_EQ(inet.call("socket", {AF_UNIX, SOCK_STREAM}), kRefused);

  Filter dns(lower_promises("stdio dns"));
  EXPECT_EQ(dns.call("socket", {AF_NETLINK, SOCK_RAW, 0 /* NETLINK_ROUTE */}), kAllow);
  EXPECT_EQ(dns.call("socket", {AF_NETLINK, SOCK_RAW, 9}), kRefused);

  Filter proc(lower_promises("stdio proc"));
  EXPECT_EQ(proc.call("fork"), kAllow);
  EXPECT_EQ(proc.call("clone", {SIGCHLD}), kAllow);
  EXPECT_EQ(proc.call("clone", {CLONE_VM | CLONE_THREAD | CLONE_SIGHAND}), kRefused);
  EXPECT_EQ(proc.call("clone", {CLONE_NEWNET | SIGCHLD}), kRefused);
}

TEST(Lowering, ExplicitRules) {
  policy::PledgeFlags f;
  f.promises = {"stdio"};
  f.allow_syscalls = {"ptrace", "sched_setaffinity"};
  f.deny_syscalls = {"write=EACCES", "getpid=kill"};
  plan::Plan plan = lower_flags(f);
  ASSERT_EQ(plan.dangerous_allowed, std::vector<std::string>{"ptrace"});
  ASSERT_EQ(plan.warnings.size(), 1u);
  EXPECT_NE(plan.warnings[0].find("ptrace"), std::string::npos);
  Filter filter(plan);
  EXPECT_EQ(filter.call("ptrace"), kAllow);
  EXPECT_EQ(filter.call("write"), kRefused);  // deny overrides a promise
  EXPECT_EQ(plan.seccomp.find("write")->action, plan::Action::notify(EACCES));
  EXPECT_EQ(filter.call("getpid"), kKill);
}

TEST(Lowering, LauncherNeedsSurviveAnyPolicy) {
  Filter none(lower_promises("rpath"));  // no stdio
  EXPECT_EQ(none.call("exit_group"), kAllow);
  EXPECT_EQ(none.call("exit"), kAllow);
  EXPECT_EQ(none.call("sendmsg", {plan::kLauncherSocketFd}), kAllow);
  EXPECT_EQ(none.call("sendmsg", {3}), kRefused);
  EXPECT_EQ(none.call("write"), kRefused);
}

TEST(Lowering, IoctlAllowedByNameStillNeverInjects) {
  policy::PledgeFlags f;
  f.promises = {"stdio"};
  f.allow_syscalls = {"ioctl"};
  Filter filter(lower_flags(f));
  EXPECT_EQ(filter.call("ioctl", {0, TCGETS}), kAllow);
  EXPECT_EQ(filter.call("ioctl", {0, 0xdeadbeef}), kAllow);
  EXPECT_EQ(filter.call("ioctl", {0, 0}), kAllow);
  EXPECT_EQ(filter.call("ioctl", {0, 0xffffffff}), kAllow);
  EXPECT_EQ(filter.call("ioctl", {0, TIOCSTI}), kRefused);
  EXPECT_EQ(filter.call("ioctl", {0, TIOCLINUX}), kRefused);
  EXPECT_EQ(filter.call("ioctl", {0, 0x100000000ull | TIOCSTI}), kRefused);
  EXPECT_EQ(filter.call("ioctl", {0, TIOCSTI + 1}), kAllow);
  EXPECT_EQ(filter.call("ioctl", {0, TIOCSTI - 1}), kAllow);
}

TEST(Lowering, ComplainPlanReportsInsteadOfKilling) {
  policy::PledgeFlags f;
  f.promises = {"stdio rpath"};
  f.read = {"/etc"};
  f.deny_syscalls = {"getpid=kill"};
  plan::Plan check = plan::complain_plan(lower_flags(f));
  Filter filter(check);
  EXPECT_EQ(filter.call("getpid"), kNotify);  // reported, then continued
  EXPECT_EQ(filter.call("clone3"), kEnosys);  // absent stays absent
  EXPECT_FALSE(check.filesystem.restricted);
  EXPECT_FALSE(check.namespaces.read_only);
  EXPECT_FALSE(check.namespaces.net);
}

TEST(Lowering, HotSyscallsStayUnconditional) {
  // The kernel's per-filter allow cache only covers rules without argument checks.
  plan::Plan plan = plan::lower_policy(policy::Policy{}, Arch::kX86_64).value();
  for (const char* hot : {"read", "write", "close", "futex", "epoll_wait", "fstat", "lseek",
                          "getppid", "clock_gettime", "recvfrom", "sendto"}) {
    const plan::SyscallRule* r = plan.seccomp.find(hot);
    ASSERT_TRUE(r) << hot;
    EXPECT_FALSE(r->conditional()) << hot;
  }
}

TEST(Lowering, Aarch64LowersAndCompiles) {
  plan::Plan plan = lower_promises("stdio rpath inet proc", Arch::kAarch64);
  EXPECT_EQ(plan.seccomp.arch, Arch::kAarch64);
  EXPECT_FALSE(plan.seccomp.find("open"));  // aarch64 has only openat
  EXPECT_TRUE(plan.seccomp.find("openat"));
  Filter f(plan);
  EXPECT_EQ(f.call("openat"), kAllow);
  EXPECT_EQ(f.call("socket", {AF_INET, SOCK_STREAM}), kAllow);
  EXPECT_EQ(f.call("socket", {AF_PACKET, SOCK_RAW}), kRefused);
  EXPECT_EQ(f.call("clone", {CLONE_NEWUSER}), kRefused);
  EXPECT_EQ(f.call("clone3"), kEnosys);
  // An x86_64 syscall arriving at an aarch64 filter is another ABI.
  EXPECT_EQ(f.raw(0, {}, AUDIT_ARCH_X86_64), kKill);
}

TEST(Lowering, FilesystemRulesAddTheRuntime) {
  policy::PledgeFlags f;
  f.promises = {"stdio rpath"};
  f.read = {"/etc"};
  plan::Plan plan = lower_flags(f);
  EXPECT_TRUE(plan.filesystem.restricted);
  bool has_etc = false, has_libs = false;
  for (const auto& r : plan.filesystem.rules) {
    has_etc |= r.path == "/etc" && r.access == plan::kPathRead;
    has_libs |= r.path == "/usr/lib" && (r.access & plan::kPathExec);
  }
  EXPECT_TRUE(has_etc);
  EXPECT_TRUE(has_libs);
  plan::allow_program(plan, "/bin/sh");
  EXPECT_EQ(plan.filesystem.rules.back().path, "/bin/sh");

  plan::Plan open = lower_promises("stdio rpath");
  EXPECT_FALSE(open.filesystem.restricted);
  // Reading is open, writing and creating are not: the promises hold them.
  EXPECT_EQ(open.filesystem.handled & plan::kPathRead, 0u);
  EXPECT_NE(open.filesystem.handled & plan::kPathWrite, 0u);
  EXPECT_NE(open.filesystem.handled & plan::kPathCreate, 0u);
  EXPECT_EQ(lower_promises("stdio rpath wpath").filesystem.handled & plan::kPathWrite, 0u);
  EXPECT_EQ(lower_promises("stdio rpath cpath").filesystem.handled, 0u);
  EXPECT_EQ(lower_promises("stdio rpath unix").filesystem.handled & plan::kPathSocket, 0u);
  EXPECT_EQ(plan::complain_plan(open).filesystem.handled, 0u);
  EXPECT_TRUE(open.network.tcp_restricted);  // no inet: Landlock refuses TCP too
  EXPECT_FALSE(lower_promises("stdio inet").network.tcp_restricted);
}

}  // namespace
}  // namespace least
