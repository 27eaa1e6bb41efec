#include "plan/lower.h"

#include <errno.h>
#include <fmt/format.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>

#include "base/text.h"
#include "policy/catalog.h"
#include "policy/parser.h"

namespace least::plan {

const SyscallRule* SeccompPlan::find(std::string_view name) const {
  for (const auto& r : rules)
    if (r.name == name) return &r;
  return nullptr;
}

namespace {

// Syscalls that must answer ENOSYS even though the kernel has them: clone3
// takes its flags in memory BPF cannot read, and libc falls back to clone.
constexpr std::string_view kEnosysSyscalls[] = {"clone3"};

class SeccompBuilder {
 public:
  explicit SeccompBuilder(sys::Arch arch) { plan_.arch = arch; }

  SyscallRule* rule(const std::string& name) {
    auto nr = sys::syscall_number(name, plan_.arch);
    if (!nr) return nullptr;  // this architecture lacks it
    auto [it, inserted] = rules_.try_emplace(*nr);
    if (inserted) {
      it->second.name = name;
      it->second.number = *nr;
    }
    return &it->second;
  }

  void allow(const std::string& name, const std::vector<ArgCond>& when, const std::string& source) {
    SyscallRule* r = rule(name);
    if (!r) return;
    if (r->action.kind != Action::Kind::kAllow && !r->sources.empty()) return;  // denied wins
    add_source(*r, source);
    if (unconditional_.count(r->number)) return;
    if (when.empty()) {
      unconditional_.insert(r->number);
      r->alternatives.clear();
      return;
    }
    if (std::find(r->alternatives.begin(), r->alternatives.end(), when) == r->alternatives.end())
      r->alternatives.push_back(when);
  }

  void set(const std::string& name, Action action, const std::string& source) {
    SyscallRule* r = rule(name);
    if (!r) return;
    r->action = action;
    r->alternatives.clear();
    unconditional_.erase(r->number);
    r->sources = {source};
  }

  void set_number(int number, Action action, const std::string& source) {
    SyscallRule& r = rules_[number];
    r.name = fmt::format("#{}", number);
    r.number = number;
    r.action = action;
    r.sources = {source};
  }

  bool allowed(const std::string& name) const {
    auto nr = sys::syscall_number(name, plan_.arch);
    if (!nr) return false;
    auto it = rules_.find(*nr);
    return it != rules_.end() && it->second.action.kind == Action::Kind::kAllow &&
           !it->second.sources.empty();
  }

  bool has_rule_named(const std::string& name) const {
    auto nr = sys::syscall_number(name, plan_.arch);
    return nr && rules_.count(*nr) && !rules_.at(*nr).sources.empty();
  }

  SeccompPlan finish() {
    for (auto& [nr, r] : rules_)
      if (!r.sources.empty()) plan_.rules.push_back(std::move(r));
    return std::move(plan_);
  }

  sys::Arch arch() const { return plan_.arch; }

 private:
  static void add_source(SyscallRule& r, const std::string& source) {
    if (std::find(r.sources.begin(), r.sources.end(), source) == r.sources.end())
      r.sources.push_back(source);
  }

  SeccompPlan plan_;
  std::map<int, SyscallRule> rules_;
  std::set<int> unconditional_;
};

// The prefixes (mask, value) of 32-bit values that cover every value except
// those in `excluded`: a binary trie walked from the top bit, emitting each
// subtree that holds no excluded value.
void complement(uint32_t prefix, int bit, const std::vector<uint32_t>& excluded,
                std::vector<std::pair<uint32_t, uint32_t>>& out) {
  if (excluded.empty()) {
    uint32_t mask = bit == 31 ? 0 : ~0u << (bit + 1);
    out.emplace_back(mask, prefix & mask);
    return;
  }
  if (bit < 0) return;  // exactly an excluded value
  for (uint32_t b : {0u, 1u}) {
    std::vector<uint32_t> side;
    for (uint32_t v : excluded)
      if (((v >> bit) & 1) == b) side.push_back(v);
    complement(prefix | (b << bit), bit - 1, side, out);
  }
}

// ioctl allowed by name still never reaches TIOCSTI (injects input into a
// terminal) or TIOCLINUX (the same through the console): the allow becomes
// every request but those two, compared on 32 bits as the kernel reads them.
std::vector<std::vector<ArgCond>> every_ioctl_but_terminal_injection() {
  std::vector<std::pair<uint32_t, uint32_t>> prefixes;
  complement(0, 31, {TIOCSTI, TIOCLINUX}, prefixes);
  std::vector<std::vector<ArgCond>> alternatives;
  for (const auto& [mask, value] : prefixes)
    alternatives.push_back({{1, mask, value, "request is not TIOCSTI or TIOCLINUX"}});
  return alternatives;
}

// Whether `alt` pins the request to one value that is not TIOCSTI or
// TIOCLINUX (as every catalog grant does).
bool names_a_safe_request(const std::vector<ArgCond>& alt) {
  for (const auto& c : alt)
    if (c.arg == 1 && c.op == Compare::kMaskedEq && (c.mask & 0xffffffff) == 0xffffffff &&
        (c.value & 0xffffffff) != TIOCSTI && (c.value & 0xffffffff) != TIOCLINUX)
      return true;
  return false;
}

// ioctl's alternatives with TIOCSTI and TIOCLINUX taken out of each one that
// could let them through (an unconditional allow, or a policy's `when`).
std::vector<std::vector<ArgCond>> without_terminal_injection(
    const std::vector<std::vector<ArgCond>>& alternatives) {
  const auto safe = every_ioctl_but_terminal_injection();
  if (alternatives.empty()) return safe;
  std::vector<std::vector<ArgCond>> out;
  for (const auto& alt : alternatives) {
    if (names_a_safe_request(alt)) {
      out.push_back(alt);
      continue;
    }
    for (const auto& s : safe) {
      out.push_back(alt);
      out.back().insert(out.back().end(), s.begin(), s.end());
    }
  }
  return out;
}

std::vector<ArgCond> conditions_of(const policy::SyscallGrant& g) {
  std::vector<ArgCond> out;
  for (const auto& c : g.when) out.push_back({c.arg, c.mask, c.value, c.text, c.op});
  return out;
}

std::vector<std::string> effective_promises(const policy::Policy& policy, bool& is_default) {
  std::set<std::string> wanted;
  is_default = !policy.promises_declared;
  if (is_default)
    wanted.insert(policy::default_promises().begin(), policy::default_promises().end());
  for (const auto& p : policy.promises) wanted.insert(p.value);
  std::vector<std::string> out;  // catalog order reads better than alphabetical
  for (const auto& p : policy::promise_catalog())
    if (wanted.count(p.name)) out.push_back(p.name);
  return out;
}

void lower_syscalls(const policy::Policy& policy, Plan& plan) {
  SeccompBuilder b(plan.seccomp.arch);
  for (const auto& name : plan.promises) {
    const policy::Promise* p = policy::find_promise(name);
    for (const auto& g : p->grants) b.allow(g.syscall, conditions_of(g), "promise " + name);
  }
  for (const auto& a : policy.syscalls.allow) b.allow(a.value, {}, "[syscalls] allow");
  for (const auto& a : policy.syscalls.allow_when)
    for (const auto& w : a.when) {
      auto checks = policy::parse_condition(a.name.value, w.value);  // validated already
      if (!checks) continue;
      std::vector<ArgCond> conds;
      for (const auto& c : *checks) conds.push_back({c.arg, c.mask, c.value, c.text, c.op});
      b.allow(a.name.value, conds, "[syscalls] allow when");
    }

  // Explicit denials override every grant.
  for (const auto& d : policy.syscalls.deny) {
    const auto& act = d.action.value;
    b.set(d.name.value,
          act.kind == policy::DenyAction::Kind::kKill ? Action::kill()
                                                      : Action::notify(act.errno_value),
          "[syscalls] deny");
  }

  for (auto name : kEnosysSyscalls)
    if (!b.allowed(std::string(name)))
      b.set(std::string(name), Action::error(ENOSYS), "answers ENOSYS so libc falls back");

  // Without the exec promise the program may still be started: the
  // supervisor lets exactly the launcher's own execve through.
  for (const char* exec : {"execve", "execveat"})
    if (!b.allowed(exec)) b.set(exec, Action::notify(), "no promise exec: only the initial exec");

  // What the launcher itself needs after the filter is in place: exiting is
  // always allowed (as pledge does), and the listener hand-over below.
  for (const char* exit : {"exit", "exit_group"}) b.allow(exit, {}, "always: exiting");
  b.allow("sendmsg",
          {{0, 0xffffffff, static_cast<uint64_t>(kLauncherSocketFd),
            fmt::format("fd == {} (the launcher's socket, closed at exec)", kLauncherSocketFd)}},
          "launcher: hands the seccomp listener to the supervisor");

  // Syscalls our tables know but the catalog does not, and numbers newer
  // than the tables, answer ENOSYS as if this kernel lacked them.
  const sys::Arch arch = plan.seccomp.arch;
  for (const auto& name : sys::syscall_names(arch))
    if (!policy::catalog_knows(name) && !b.has_rule_named(name))
      b.set(name, Action::error(ENOSYS), "unknown to the catalog");
  for (int nr = sys::highest_known_syscall(arch) + 1; nr <= sys::kSyscallNumberCeiling; ++nr)
    b.set_number(nr, Action::error(ENOSYS), "newer than the syscall tables");

  for (const auto& name : sys::syscall_names(arch)) {
    if (!b.allowed(name) || !policy::find_dangerous(name)) continue;
    plan.dangerous_allowed.push_back(name);
  }
  plan.seccomp = b.finish();
  plan.seccomp.arch = arch;
  for (auto& r : plan.seccomp.rules)
    if (r.name == "ioctl" && r.action.kind == Action::Kind::kAllow)
      r.alternatives = without_terminal_injection(r.alternatives);
}

void lower_limits(const policy::Policy& policy, Plan& plan) {
  const auto& l = policy.limits;
  auto add = [&](const std::optional<policy::Located<uint64_t>>& v, int resource,
                 const char* name) {
    if (v) plan.limits.rlimits.push_back({resource, name, v->value});
  };
  add(l.open_files, RLIMIT_NOFILE, "RLIMIT_NOFILE");
  add(l.core, RLIMIT_CORE, "RLIMIT_CORE");
  add(l.stack, RLIMIT_STACK, "RLIMIT_STACK");
  add(l.cpu_seconds, RLIMIT_CPU, "RLIMIT_CPU");
  if (l.processes) plan.limits.processes = l.processes->value;
  if (l.memory) plan.limits.memory = l.memory->value;
}

// What every dynamically linked program needs once the filesystem is
// restricted: the loader and libraries, the loader's cache, harmless devices.
struct RuntimePath {
  const char* path;
  uint32_t access;
  const char* why;
};
constexpr RuntimePath kRuntimePaths[] = {
    {"/lib", kPathRead | kPathExec, "runtime: shared libraries and the loader"},
    {"/lib64", kPathRead | kPathExec, "runtime: shared libraries and the loader"},
    {"/usr/lib", kPathRead | kPathExec, "runtime: shared libraries and the loader"},
    {"/usr/lib64", kPathRead | kPathExec, "runtime: shared libraries and the loader"},
    {"/usr/local/lib", kPathRead | kPathExec, "runtime: shared libraries"},
    {"/etc/ld.so.cache", kPathRead, "runtime: the loader's cache"},
    {"/dev/null", kPathRead | kPathWrite, "runtime: devices every program may use"},
    {"/dev/zero", kPathRead | kPathWrite, "runtime: devices every program may use"},
    {"/dev/full", kPathRead | kPathWrite, "runtime: devices every program may use"},
    {"/dev/random", kPathRead, "runtime: devices every program may use"},
    {"/dev/urandom", kPathRead, "runtime: devices every program may use"},
};

bool path_exists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0;
}

}  // namespace

std::vector<PathRule> runtime_path_rules() {
  std::vector<PathRule> rules;
  for (const auto& r : kRuntimePaths)
    if (path_exists(r.path)) rules.push_back({r.path, r.access, r.why});
  return rules;
}

namespace {

void lower_filesystem(const policy::Policy& policy, Plan& plan) {
  const auto& fs = policy.filesystem;
  auto add = [&](const std::vector<policy::Located<std::string>>& paths, uint32_t access,
                 const char* source) {
    for (const auto& p : paths) plan.filesystem.rules.push_back({p.value, access, source});
  };
  add(fs.read, kPathRead, "[filesystem] read");
  add(fs.write, kPathRead | kPathWrite, "[filesystem] write");
  add(fs.create, kPathRead | kPathWrite | kPathCreate, "[filesystem] create");
  add(fs.exec, kPathRead | kPathExec, "[filesystem] exec");
  plan.filesystem.restricted = !plan.filesystem.rules.empty();
  if (plan.filesystem.restricted) {
    plan.filesystem.handled = kPathAll;
    for (auto& r : runtime_path_rules()) plan.filesystem.rules.push_back(std::move(r));
    if (contains(plan.promises, "tmppath"))
      plan.filesystem.rules.push_back(
          {"/tmp", kPathRead | kPathWrite | kPathCreate, "promise tmppath: temporary files"});
    return;
  }
  // No paths listed: the promises alone say what may be written or created,
  // and Landlock holds it beneath "/" (reading and exec stay with seccomp).
  const auto& p = plan.promises;
  uint32_t handled = 0;
  if (!contains(p, "wpath") && !contains(p, "cpath")) handled |= kPathWrite;
  if (!contains(p, "cpath")) handled |= kPathCreate;
  if (!contains(p, "cpath") && !contains(p, "dpath")) handled |= kPathFifo;
  if (!contains(p, "cpath") && !contains(p, "unix")) handled |= kPathSocket;
  plan.filesystem.handled = handled;
  if (!handled) return;
  if (handled & kPathWrite)
    for (const auto& r : kRuntimePaths)
      if ((r.access & kPathWrite) && path_exists(r.path))
        plan.filesystem.rules.push_back({r.path, kPathWrite, r.why});
  if (contains(p, "tty"))
    for (const char* dev : {"/dev/tty", "/dev/ptmx", "/dev/pts"})
      if (path_exists(dev))
        plan.filesystem.rules.push_back({dev, kPathWrite, "promise tty: terminals"});
  if (contains(p, "tmppath"))
    plan.filesystem.rules.push_back(
        {"/tmp", kPathWrite | kPathCreate, "promise tmppath: temporary files"});
}

void lower_network(const policy::Policy& policy, Plan& plan) {
  for (const auto& e : policy.network.connect)
    if (auto ep = policy::parse_endpoint(e.value))
      plan.network.connect.push_back({ep->protocol, ep->port});
  for (const auto& e : policy.network.bind)
    if (auto ep = policy::parse_endpoint(e.value))
      plan.network.bind.push_back({ep->protocol, ep->port});
  // Without inet no TCP socket can exist (seccomp); Landlock says the same,
  // so one hole does not open the network. With inet and listed ports, only
  // those ports.
  bool any_ports = !plan.network.connect.empty() || !plan.network.bind.empty();
  plan.network.tcp_restricted = !contains(plan.promises, "inet") || any_ports;
}

void lower_namespaces(const policy::Policy& policy, Plan& plan) {
  NamespacePlan& ns = plan.namespaces;
  ns.net = !contains(plan.promises, "inet") && !contains(plan.promises, "dns");
  ns.private_tmp = policy.isolation.private_tmp && policy.isolation.private_tmp->value;
  ns.read_only = plan.filesystem.restricted;
  for (const auto& r : plan.filesystem.rules)
    if ((r.access & (kPathWrite | kPathCreate)) &&
        (r.source.rfind("[filesystem]", 0) == 0 || r.source.rfind("promise tmppath", 0) == 0))
      ns.writable.push_back(r.path);
}

void lower_capabilities(const policy::Policy& policy, Plan& plan) {
  for (const auto& c : policy.isolation.capabilities) plan.capabilities.push_back(c.value);
}

}  // namespace

Result<Plan> lower_policy(const policy::Policy& policy, sys::Arch arch) {
  Plan plan;
  plan.seccomp.arch = arch;
  plan.promises = effective_promises(policy, plan.default_promises);
  for (const auto& p : policy.promises)
    if (!policy::find_promise(p.value))
      return make_error(ErrorKind::kPolicy, fmt::format("unknown promise \"{}\"", p.value));
  lower_syscalls(policy, plan);
  lower_limits(policy, plan);
  lower_filesystem(policy, plan);
  lower_network(policy, plan);
  lower_capabilities(policy, plan);
  lower_namespaces(policy, plan);
  for (const auto& name : plan.dangerous_allowed) {
    const auto* d = policy::find_dangerous(name);
    plan.warnings.push_back(
        fmt::format("the policy allows the dangerous syscall {} ({})", name, d->why));
  }
  return plan;
}

Plan complain_plan(Plan plan) {
  for (auto& r : plan.seccomp.rules)
    if (r.action.kind == Action::Kind::kKillProcess || r.action.kind == Action::Kind::kErrno) {
      // ENOSYS rules say "absent", not "refused": libc's fallbacks need them.
      if (r.action == Action::error(ENOSYS)) continue;
      r.action =
          Action::notify(r.action.kind == Action::Kind::kErrno ? r.action.errno_value : EPERM);
    }
  plan.filesystem.restricted = false;
  plan.filesystem.handled = 0;
  plan.filesystem.rules.clear();
  plan.network.tcp_restricted = false;
  plan.scope = ScopePlan{false, false};
  plan.namespaces.read_only = false;
  plan.namespaces.net = false;
  return plan;
}

Result<Plan> without_supervisor(Plan plan, bool best_effort) {
  plan.warnings.clear();
  plan.warnings.push_back(
      "another seccomp supervisor owns this process tree (least inside a sandbox that uses one): "
      "refused calls are answered but not reported");
  auto unsupervised = [](const Action& a) {
    return a.kind == Action::Kind::kNotify ? Action::error(a.errno_value) : a;
  };
  plan.seccomp.default_action = unsupervised(plan.seccomp.default_action);
  for (auto& r : plan.seccomp.rules) {
    if (r.action.kind != Action::Kind::kNotify) continue;
    if (r.name == "execve" || r.name == "execveat") {
      if (!best_effort)
        return make_error(ErrorKind::kUnsupported,
                          "refusing exec needs a seccomp supervisor, and another one owns this "
                          "process tree; pass --best-effort to allow exec instead");
      plan.warnings.push_back(
          fmt::format("{} is allowed: refusing it needs the supervisor (--best-effort)", r.name));
      r.action = Action::allow();
      continue;
    }
    r.action = unsupervised(r.action);
  }
  return plan;
}

void allow_program(Plan& plan, const std::string& path) {
  if (!plan.filesystem.restricted) return;
  plan.filesystem.rules.push_back({path, kPathRead | kPathExec, "runtime: the program"});
  // A script names its interpreter on its first line; the kernel executes it.
  std::ifstream in(path, std::ios::binary);
  char head[2] = {};
  if (!in.read(head, 2) || head[0] != '#' || head[1] != '!') return;
  std::string line;
  std::getline(in, line);
  size_t start = line.find_first_not_of(" \t");
  if (start == std::string::npos) return;
  std::string interpreter = line.substr(start, line.find_first_of(" \t\r", start) - start);
  if (!interpreter.empty() && interpreter[0] == '/')
    plan.filesystem.rules.push_back(
        {interpreter, kPathRead | kPathExec, "runtime: the script's interpreter"});
}

}  // namespace least::plan
