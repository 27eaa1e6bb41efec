#include "enforce/seccomp_filter.h"

#include <fmt/format.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <memory>

#include "base/unique_fd.h"
#include "plan/conditions.h"

namespace least::enforce {

namespace {

struct CtxDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using SeccompCtx = std::unique_ptr<void, CtxDeleter>;

// libseccomp compares the whole 64-bit argument for these, as the Plan means.
scmp_arg_cmp to_scmp(const plan::ArgCond& c) {
  switch (c.op) {
    case plan::Compare::kMaskedEq:
      break;
    case plan::Compare::kNe:
      return {c.arg, SCMP_CMP_NE, c.value, 0};
    case plan::Compare::kLt:
      return {c.arg, SCMP_CMP_LT, c.value, 0};
    case plan::Compare::kLe:
      return {c.arg, SCMP_CMP_LE, c.value, 0};
    case plan::Compare::kGt:
      return {c.arg, SCMP_CMP_GT, c.value, 0};
    case plan::Compare::kGe:
      return {c.arg, SCMP_CMP_GE, c.value, 0};
  }
  return {c.arg, SCMP_CMP_MASKED_EQ, c.mask, c.value};
}

uint32_t to_scmp(const plan::Action& a) {
  switch (a.kind) {
    case plan::Action::Kind::kAllow:
      return SCMP_ACT_ALLOW;
    case plan::Action::Kind::kErrno:
      return SCMP_ACT_ERRNO(static_cast<uint16_t>(a.errno_value));
    case plan::Action::Kind::kKillProcess:
      return SCMP_ACT_KILL_PROCESS;
    case plan::Action::Kind::kNotify:
      return SCMP_ACT_NOTIFY;
  }
  return SCMP_ACT_KILL_PROCESS;
}

Error scmp_error(std::string what, int rc) {
  return sys_error(std::move(what), -rc);
}

Result<SeccompCtx> build(const plan::SeccompPlan& plan) {
  SeccompCtx ctx(seccomp_init(to_scmp(plan.default_action)));
  if (!ctx) return make_error(ErrorKind::kSystem, "libseccomp could not create a filter");
  // Only the plan's arch: the native arch is added by seccomp_init, so replace
  // it when compiling for another one (tests compile aarch64 on x86_64).
  uint32_t arch = sys::seccomp_arch_token(plan.arch);
  if (arch != seccomp_arch_native()) {
    int rc = seccomp_arch_add(ctx.get(), arch);
    if (rc < 0) return scmp_error("add architecture", rc);
    rc = seccomp_arch_remove(ctx.get(), SCMP_ARCH_NATIVE);
    if (rc < 0) return scmp_error("remove native architecture", rc);
  }
  // Any other ABI (i386 via int 0x80, x32) gets this action: the classic
  // bypass of filters written for one syscall table.
  int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, to_scmp(plan.bad_arch_action));
  if (rc < 0) return scmp_error("set the bad-architecture action", rc);
  rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2);  // binary tree
  if (rc < 0) return scmp_error("enable binary-tree optimisation", rc);
  rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0);  // the launcher sets it itself
  if (rc < 0) return scmp_error("configure no_new_privs", rc);

  const bool cross = arch != seccomp_arch_native();
  for (const auto& r : plan.rules) {
    uint32_t action = to_scmp(r.action);
    // libseccomp reads rule numbers as native numbers and translates them by
    // name for other arches; a number without a name cannot be translated,
    // so a cross-compiled filter leaves those to the default action.
    int number = r.number;
    if (cross) {
      if (r.name.empty() || r.name[0] == '#') continue;
      number = seccomp_syscall_resolve_name(r.name.c_str());
      if (number == __NR_SCMP_ERROR)
        return make_error(ErrorKind::kSystem, fmt::format("libseccomp does not know {}", r.name));
    }
    if (!r.conditional()) {
      // The default already answers this way; libseccomp refuses a rule
      // that repeats the default action.
      if (action == to_scmp(plan.default_action)) continue;
      rc = seccomp_rule_add_exact_array(ctx.get(), action, number, 0, nullptr);
      if (rc < 0) return scmp_error(fmt::format("add rule for {}", r.name), rc);
      continue;
    }
    for (const auto& alt : r.alternatives)
      for (const auto& one : plan::one_check_per_argument(alt)) {
        std::vector<scmp_arg_cmp> cmps;
        for (const auto& c : one) cmps.push_back(to_scmp(c));
        rc = seccomp_rule_add_exact_array(ctx.get(), action, number,
                                          static_cast<unsigned>(cmps.size()), cmps.data());
        if (rc < 0) return scmp_error(fmt::format("add conditional rule for {}", r.name), rc);
      }
  }
  return ctx;
}

// libseccomp 2.5 exports only to a file descriptor: use an anonymous file.
Result<std::string> export_to_memory(void* ctx, bool pfc) {
  UniqueFd fd(memfd_create("least-seccomp", MFD_CLOEXEC));
  if (!fd.valid()) return sys_error("memfd_create", errno);
  int rc = pfc ? seccomp_export_pfc(ctx, fd.get()) : seccomp_export_bpf(ctx, fd.get());
  if (rc < 0) return scmp_error("export the filter", rc);
  off_t size = lseek(fd.get(), 0, SEEK_END);
  if (size < 0) return sys_error("measure the exported filter", errno);
  std::string out(static_cast<size_t>(size), '\0');
  if (pread(fd.get(), out.data(), out.size(), 0) != size)
    return sys_error("read back the exported filter", errno);
  return out;
}

}  // namespace

Result<BpfProgram> compile_seccomp(const plan::SeccompPlan& plan) {
  auto ctx = build(plan);
  if (!ctx) return std::move(ctx).error();
  auto bytes = export_to_memory(ctx->get(), false);
  if (!bytes) return std::move(bytes).error();
  BpfProgram prog;
  prog.code.resize(bytes->size() / sizeof(sock_filter));
  std::memcpy(prog.code.data(), bytes->data(), prog.code.size() * sizeof(sock_filter));
  prog.needs_listener = plan.default_action.kind == plan::Action::Kind::kNotify;
  for (const auto& r : plan.rules)
    if (r.action.kind == plan::Action::Kind::kNotify) prog.needs_listener = true;
  return prog;
}

bool seccomp_listener_available() {
  std::ifstream status("/proc/self/status");
  std::string line;
  bool filtered = false;
  while (std::getline(status, line))
    if (line.rfind("Seccomp_filters:", 0) == 0) filtered = std::stoi(line.substr(16)) > 0;
  if (!filtered) return true;
  pid_t child = fork();
  if (child < 0) return false;
  if (child == 0) {
    struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    struct sock_fprog prog = {1, &allow};
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    long rc =
        syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
    _exit(rc < 0 ? 1 : 0);
  }
  int st = 0;
  waitpid(child, &st, 0);
  return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

Result<std::string> render_seccomp_pfc(const plan::SeccompPlan& plan) {
  auto ctx = build(plan);
  if (!ctx) return std::move(ctx).error();
  return export_to_memory(ctx->get(), true);
}

}  // namespace least::enforce
