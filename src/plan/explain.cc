#include "plan/explain.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "base/text.h"
#include "policy/catalog.h"

namespace least::plan {

SyscallCounts count_allowed(const SeccompPlan& plan) {
  SyscallCounts c;
  for (const auto& r : plan.rules) {
    if (r.action.kind != Action::Kind::kAllow) continue;
    (r.conditional() ? c.conditional : c.outright)++;
  }
  return c;
}

namespace {

std::string describe_action(const Action& a) {
  switch (a.kind) {
    case Action::Kind::kAllow:
      return "allowed";
    case Action::Kind::kErrno:
      return errno_name(a.errno_value);
    case Action::Kind::kKillProcess:
      return "kill the process";
    case Action::Kind::kNotify:
      return errno_name(a.errno_value) + ", reported by the supervisor";
  }
  return "?";
}

std::string describe_alternative(const std::vector<ArgCond>& alt) {
  std::vector<std::string> parts;
  for (const auto& c : alt) parts.push_back(c.text);
  return join(parts, " && ");
}

void section(std::string& out, std::string_view title) {
  out += fmt::format("\n{}\n", title);
}

bool promised(const Plan& plan, std::string_view name) {
  return std::find(plan.promises.begin(), plan.promises.end(), name) != plan.promises.end();
}

bool allowed(const Plan& plan, std::string_view syscall) {
  const SyscallRule* r = plan.seccomp.find(syscall);
  return r && r->action.kind == Action::Kind::kAllow;
}

// One line per rule a person cares about, naming every layer that holds it,
// so a hole in one layer is visibly not a hole in the sandbox.
std::vector<std::string> lockstep_lines(const Plan& plan) {
  std::vector<std::string> out;
  if (!promised(plan, "inet") && !promised(plan, "dns")) {
    out.push_back(
        "no network: seccomp (no AF_INET/AF_INET6/AF_PACKET sockets), an empty network "
        "namespace, Landlock (no TCP bind or connect), CAP_NET_RAW dropped");
  } else if (plan.network.tcp_restricted) {
    out.push_back(
        "TCP only to the listed ports: Landlock net rules; seccomp allows only inet "
        "stream/datagram sockets (no raw or packet sockets), CAP_NET_RAW dropped");
  }
  if (plan.filesystem.restricted)
    out.push_back(
        "files only where listed: Landlock path rules, a read-only mount view but the write "
        "paths, seccomp (the rpath/wpath/cpath promises)");
  else if (plan.filesystem.handled & kPathWrite)
    out.push_back(
        "no writing files (no wpath/cpath): seccomp (no truncate, rename, unlink...), Landlock "
        "(open for writing refused everywhere but harmless devices" +
        std::string(promised(plan, "tmppath") ? " and /tmp" : "") + ")");
  else if (plan.filesystem.handled & kPathCreate)
    out.push_back(
        "no creating or removing files (no cpath): seccomp (no mkdir, rename, unlink...), "
        "Landlock (no file, directory or link created or removed" +
        std::string(promised(plan, "tmppath") ? " outside /tmp" : "") + ")");
  if (!promised(plan, "exec"))
    out.push_back(
        "no exec: seccomp sends execve to the supervisor, which refuses all but the program's "
        "start; no_new_privs");
  else
    out.push_back(
        "no privilege through exec: no_new_privs (setuid and file capabilities ignored), "
        "capabilities dropped");
  out.push_back(
      "no other processes: a pid namespace (only the sandbox's tree is visible), Landlock "
      "signal scope, seccomp (ptrace, process_vm_* refused), CAP_SYS_PTRACE and CAP_KILL "
      "dropped");
  if (!allowed(plan, "mount"))
    out.push_back(
        "no mounts or namespaces: seccomp (mount, unshare, setns, clone namespace flags "
        "refused), CAP_SYS_ADMIN dropped");
  out.push_back(
      "no kernel attack surface beyond the promises: seccomp (bpf, io_uring, keyctl, perf, "
      "userfaultfd, modules refused; the i386 and x32 ABIs kill), capabilities dropped");
  if (plan.limits.processes)
    out.push_back("bounded processes: the pids cgroup (or RLIMIT_NPROC), the pid namespace");
  return out;
}

}  // namespace

std::string render_explanation(const Plan& plan, const std::string& source) {
  std::string out;
  out += fmt::format("Policy: {}\n", source);

  section(out,
          fmt::format("Promises ({}){}", plan.promises.size(),
                      plan.default_promises ? ": the built-in default (no promises given)" : ""));
  std::map<std::string, int> per_promise;
  for (const auto& r : plan.seccomp.rules)
    for (const auto& s : r.sources)
      if (s.rfind("promise ", 0) == 0 && r.action.kind == Action::Kind::kAllow)
        per_promise[s.substr(8)]++;
  for (const auto& name : plan.promises) {
    const auto* p = policy::find_promise(name);
    out +=
        fmt::format("  {:<10} {:>3} syscalls  {}\n", name, per_promise[name], p ? p->summary : "");
  }
  if (plan.promises.empty()) out += "  none: only what [syscalls] allow names\n";

  SyscallCounts counts = count_allowed(plan.seccomp);
  section(out, fmt::format("Syscalls on {}: {} allowed, {} outright, {} only with argument checks",
                           sys::arch_name(plan.seccomp.arch), counts.outright + counts.conditional,
                           counts.outright, counts.conditional));
  std::vector<std::string> outright;
  for (const auto& r : plan.seccomp.rules)
    if (r.action.kind == Action::Kind::kAllow && !r.conditional()) outright.push_back(r.name);
  out += "  outright:\n";
  std::string line = "   ";
  for (const auto& n : outright) {
    if (line.size() + n.size() + 1 > 78) {
      out += line + "\n";
      line = "   ";
    }
    line += " " + n;
  }
  if (line.size() > 3) out += line + "\n";
  out += "  with argument checks (any one alternative suffices):\n";
  for (const auto& r : plan.seccomp.rules) {
    if (r.action.kind != Action::Kind::kAllow || !r.conditional()) continue;
    out += fmt::format("    {:<14} from {}\n", r.name, join(r.sources, ", "));
    std::vector<std::string> shown;  // one line per distinct condition
    for (const auto& alt : r.alternatives)
      if (auto text = describe_alternative(alt);
          std::find(shown.begin(), shown.end(), text) == shown.end())
        shown.push_back(text);
    for (const auto& text : shown) out += fmt::format("      - {}\n", text);
  }

  section(out, "Refused");
  out +=
      fmt::format("  everything else answers {}\n", describe_action(plan.seccomp.default_action));
  for (const auto& r : plan.seccomp.rules) {
    if (r.action.kind == Action::Kind::kAllow) continue;
    bool explicit_rule = !r.sources.empty() && r.sources[0] == "[syscalls] deny";
    if (explicit_rule || r.name == "clone3" || r.action.kind == Action::Kind::kNotify)
      out += fmt::format("  {:<14} {} ({})\n", r.name, describe_action(r.action),
                         join(r.sources, ", "));
  }
  int enosys = 0;
  for (const auto& r : plan.seccomp.rules)
    if (r.action == Action::error(38) && r.name != "clone3") ++enosys;
  out += fmt::format(
      "  {} syscalls unknown to the catalog or newer than the tables answer ENOSYS\n", enosys);
  out += "  the i386 (int 0x80) and x32 syscall ABIs kill the process\n";

  section(out, "Dangerous syscalls still allowed");
  if (plan.dangerous_allowed.empty()) out += "  none\n";
  for (const auto& name : plan.dangerous_allowed) {
    const auto* d = policy::find_dangerous(name);
    out += fmt::format("  {:<14} {}\n", name, d ? d->why : "");
  }

  section(out, "Compared with Docker's default seccomp profile (x86_64)");
  out += fmt::format(
      "  Docker allows {} syscalls outright and {} in all; this policy allows {} outright and {} "
      "in all\n",
      kDockerDefaultOutright, kDockerDefaultTotal, counts.outright,
      counts.outright + counts.conditional);

  section(out, "Filesystem (Landlock)");
  if (!plan.filesystem.restricted) {
    std::vector<std::string> held;
    if (plan.filesystem.handled & kPathWrite) held.push_back("writing to files");
    if (plan.filesystem.handled & kPathCreate) held.push_back("creating or removing entries");
    if (held.empty())
      out += "  not restricted beyond the promises (no [filesystem] rules)\n";
    else
      out += fmt::format(
          "  no [filesystem] rules: reading anywhere; the promises withhold {} everywhere but:\n",
          join(held, " and "));
  }
  for (const auto& r : plan.filesystem.rules) {
    std::string rights;
    if (r.access & kPathRead) rights += "r";
    if (r.access & kPathWrite) rights += "w";
    if (r.access & kPathCreate) rights += "c";
    if (r.access & kPathExec) rights += "x";
    out += fmt::format("  {:<4} {:<28} {}\n", rights, r.path, r.source);
  }
  if (!plan.filesystem.rules.empty())
    out +=
        fmt::format("  (r read, w write, c create/remove, x execute{})\n",
                    plan.filesystem.restricted ? "; the program itself is added at run time" : "");

  section(out, "Network");
  if (std::find(plan.promises.begin(), plan.promises.end(), "inet") == plan.promises.end())
    out +=
        "  no TCP/IP: seccomp refuses AF_INET/AF_INET6 sockets, Landlock refuses TCP bind and "
        "connect\n";
  else if (!plan.network.tcp_restricted)
    out += "  TCP/IP to any port (promise inet, no [network] ports listed)\n";
  for (const auto& p : plan.network.connect)
    out += fmt::format("  connect {}:{}\n", p.protocol, p.port);
  for (const auto& p : plan.network.bind)
    out += fmt::format("  bind    {}:{}\n", p.protocol, p.port);
  auto is_udp = [](const NetworkPlan::Port& p) { return p.protocol == "udp"; };
  if (std::any_of(plan.network.connect.begin(), plan.network.connect.end(), is_udp) ||
      std::any_of(plan.network.bind.begin(), plan.network.bind.end(), is_udp))
    out += "  note: the kernel cannot restrict UDP ports; UDP reaches any port\n";

  section(out, "Other layers");
  out += "  no_new_privs: always set\n";
  out += fmt::format("  capabilities: all dropped{}\n",
                     plan.capabilities.empty() ? "" : " but " + join(plan.capabilities, ", "));
  std::vector<std::string> ns = {"pid (under a tiny init)", "ipc", "uts", "cgroup"};
  if (plan.namespaces.mount)
    ns.insert(ns.begin(),
              plan.namespaces.read_only ? "mount (host read-only but the write paths)" : "mount");
  if (plan.namespaces.net) ns.push_back("network (loopback only)");
  out += fmt::format("  namespaces: {}; user too when not run by root\n", join(ns, ", "));
  if (plan.namespaces.private_tmp) out += "  private /tmp and /dev/shm\n";
  if (plan.scope.signals || plan.scope.abstract_unix_sockets)
    out +=
        "  Landlock scope (ABI 6+): no signals and no abstract unix sockets beyond the sandbox\n";
  for (const auto& r : plan.limits.rlimits) out += fmt::format("  {}: {}\n", r.name, r.value);
  if (plan.limits.processes)
    out += fmt::format("  processes: at most {} (pids cgroup; RLIMIT_NPROC when unprivileged)\n",
                       *plan.limits.processes);
  if (plan.limits.memory)
    out += fmt::format("  memory: at most {} bytes (memory cgroup; RLIMIT_AS when unprivileged)\n",
                       *plan.limits.memory);

  section(out, "Layers in lockstep (each rule, every layer that holds it)");
  for (const auto& line : lockstep_lines(plan)) out += "  " + line + "\n";
  return out;
}

}  // namespace least::plan
