// A systemd [Service] drop-in: the Plan in systemd.exec(5) and
// systemd.resource-control(5) terms, for systemd 252 and later. systemd's
// SystemCallFilter= names syscalls and cannot check their arguments, so each
// conditionally allowed syscall is decided here, in one table, and said so.
#include <errno.h>
#include <fmt/format.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>
#include <set>

#include "base/text.h"
#include "export/consumer_plan.h"
#include "export/export.h"

namespace least::exporter {

namespace {

using plan::Action;

const plan::SyscallRule* find(const plan::SeccompPlan& s, std::string_view name) {
  for (const auto& r : s.rules)
    if (r.name == name) return &r;
  return nullptr;
}

bool allowed(const plan::SeccompPlan& s, std::string_view name) {
  const plan::SyscallRule* r = find(s, name);
  return r && r->action.kind == Action::Kind::kAllow;
}

bool allowed_unconditionally(const plan::SeccompPlan& s, std::string_view name) {
  const plan::SyscallRule* r = find(s, name);
  return r && r->action.kind == Action::Kind::kAllow && !r->conditional();
}

bool keeps(const plan::Plan& plan, std::string_view cap) {
  return contains(plan.capabilities, cap);
}

// What becomes of a syscall that least allows only with some arguments.
struct Conditional {
  const char* syscall;
  bool listed;      // listed in SystemCallFilter= (argument checks lost) or left out
  bool lossy;       // allows more than least: named in a note
  const char* why;  // what holds the arguments instead, or what is lost
};

// The one table of decisions. A conditional syscall not named here is left
// out (refused): the sound default for a check systemd cannot make.
constexpr Conditional kConditionals[] = {
    {"mmap", true, false, "W^X is held by MemoryDenyWriteExecute=yes"},
    {"mprotect", true, false, "W^X is held by MemoryDenyWriteExecute=yes"},
    {"pkey_mprotect", true, false, "W^X is held by MemoryDenyWriteExecute=yes"},
    {"socket", true, true,
     "the family is held by RestrictAddressFamilies=; the type and protocol checks are lost"},
    {"socketpair", true, false, "AF_UNIX pairs only in least; systemd does not check the family"},
    {"clone", true, true,
     "namespace flags are held by RestrictNamespaces=yes; threads and processes are no longer "
     "told apart"},
    {"personality", true, false, "held by LockPersonality=yes"},
    {"ioctl", true, true,
     "the request check is lost (TIOCSTI and TIOCLINUX included): a service has no controlling "
     "terminal unless StandardInput=tty"},
    {"fcntl", true, true,
     "the command check is lost (F_SETOWN, F_SETSIG, leases, locks without flock)"},
    {"prctl", true, true,
     "the option check is lost; options that need a capability stay refused by "
     "CapabilityBoundingSet="},
    {"prlimit64", true, true,
     "not only its own limits: other processes' too, of the same user or with CAP_SYS_RESOURCE"},
    {"newfstatat", true, true,
     "stat of any path, not only of a descriptor (metadata, never contents); ProtectSystem= and "
     "InaccessiblePaths= still hold where"},
    {"statx", true, true,
     "stat of any path, not only of a descriptor (metadata, never contents); ProtectSystem= and "
     "InaccessiblePaths= still hold where"},
};

// FIFOs only in least; device nodes need CAP_MKNOD, dropped unless kept.
constexpr const char* kMknod[] = {"mknod", "mknodat"};

struct Filter {
  // SystemCallFilter= names, grouped by the first source that granted them.
  std::vector<std::pair<std::string, std::vector<std::string>>> groups;
  std::vector<std::string> conditional_comments;  // "ioctl: ..."
};

void add_to_group(Filter& f, const std::string& source, const std::string& name) {
  for (auto& [s, names] : f.groups)
    if (s == source) {
      names.push_back(name);
      return;
    }
  f.groups.push_back({source, {name}});
}

std::string errno_text(int e) {
  std::string n = errno_name(e);
  return n.empty() ? std::to_string(e) : n;
}

// systemd's Limit*= for RLIMIT_*: the same names.
std::string limit_directive(const std::string& rlimit_name) {
  std::string_view n = rlimit_name;
  if (n.starts_with("RLIMIT_")) n.remove_prefix(7);
  return fmt::format("Limit{}", n);
}

// Wraps a long list into several assignments of the same directive (systemd
// merges them).
void list_directive(std::string& out, std::string_view directive,
                    const std::vector<std::string>& items) {
  std::string line;
  for (const auto& item : items) {
    if (!line.empty() && line.size() + item.size() + 1 > 90) {
      out += fmt::format("{}={}\n", directive, line);
      line.clear();
    }
    if (!line.empty()) line += ' ';
    line += item;
  }
  if (!line.empty()) out += fmt::format("{}={}\n", directive, line);
}

struct Out {
  std::string text;
  void comment(std::string_view c) { text += fmt::format("# {}\n", c); }
  void set(std::string_view key, std::string_view value) {
    text += fmt::format("{}={}\n", key, value);
  }
  void blank() { text += '\n'; }
};

const char* family_name(uint64_t family) {
  switch (family) {
    case AF_UNIX:
      return "AF_UNIX";
    case AF_INET:
      return "AF_INET";
    case AF_INET6:
      return "AF_INET6";
    case AF_NETLINK:
      return "AF_NETLINK";
    case AF_PACKET:
      return "AF_PACKET";
    case AF_ALG:
      return "AF_ALG";
    case AF_VSOCK:
      return "AF_VSOCK";
    case AF_BLUETOOTH:
      return "AF_BLUETOOTH";
    case AF_CAN:
      return "AF_CAN";
    case AF_XDP:
      return "AF_XDP";
    default:
      return nullptr;
  }
}

// socket() families the Plan lets through; nullopt when any family may be.
std::optional<std::vector<std::string>> socket_families(const plan::SeccompPlan& s,
                                                        std::vector<std::string>& notes) {
  const plan::SyscallRule* r = find(s, "socket");
  std::vector<std::string> out;
  if (!r || r->action.kind != Action::Kind::kAllow) return out;
  if (!r->conditional()) return std::nullopt;
  std::set<uint64_t> families;
  for (const auto& alt : r->alternatives) {
    std::optional<uint64_t> family;
    for (const auto& c : alt)
      if (c.arg == 0 && c.op == plan::Compare::kMaskedEq && (c.mask & 0xffffffff) == 0xffffffff)
        family = c.value;
    if (!family) return std::nullopt;
    families.insert(*family);
  }
  for (uint64_t f : families) {
    if (const char* n = family_name(f))
      out.push_back(n);
    else
      notes.push_back(fmt::format(
          "socket family {} has no name systemd takes here: RestrictAddressFamilies= refuses it",
          f));
  }
  return out;
}

// Real top-level directories of this host (not symlinks, not the kernel's
// API file systems) that hold no listed path and lie beneath none.
std::vector<std::string> unlisted_top_dirs(const plan::Plan& plan,
                                           const std::set<std::string>& skip) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/", ec)) {
    std::error_code sec;
    if (!entry.is_directory(sec) || entry.is_symlink(sec)) continue;
    std::string dir = entry.path().string();
    if (skip.count(dir)) continue;
    bool covered = false;
    for (const auto& r : plan.filesystem.rules) {
      // A listed symlink (/etc/resolv.conf into /run) covers its target too.
      std::error_code cec;
      std::string target = std::filesystem::canonical(r.path, cec).string();
      for (const std::string& p : {r.path, cec ? r.path : target})
        if (path_beneath(p, dir) || path_beneath(dir, p)) covered = true;
    }
    if (!covered) out.push_back("-" + dir);
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool is_proc_self(std::string_view p) {
  return path_beneath(p, "/proc/self") || path_beneath(p, "/proc/thread-self");
}

}  // namespace

Result<Exported> export_systemd(const plan::Plan& plan, const ExportOptions& options) {
  Exported exported;
  ConsumerSeccomp consumer = consumer_seccomp(plan);
  const plan::SeccompPlan& sc = consumer.seccomp;
  std::vector<std::string>& notes = exported.notes;
  notes = consumer.notes;
  Out o;

  o.comment(fmt::format(
      "systemd drop-in \"{}\", written by `least export --format systemd` from the same plan",
      options.name));
  o.comment(fmt::format("`least run` enforces. Promises: {}{}.", join(plan.promises, " "),
                        plan.default_promises ? " (the built-in default)" : ""));
  o.comment(
      "Install: /etc/systemd/system/UNIT.service.d/least.conf, then `systemctl daemon-reload`.");
  o.comment("For systemd 252 and later; check with `systemd-analyze verify UNIT.service`.");
  o.text += "[Service]\n";

  // --- Syscalls.
  const bool restrict_namespaces =
      !allowed(sc, "unshare") && !allowed(sc, "setns") && !allowed_unconditionally(sc, "clone");
  const bool mdwe = !allowed_unconditionally(sc, "mprotect");
  const bool lock_personality = !allowed_unconditionally(sc, "personality");
  Filter filter;
  std::vector<std::string> omitted, lost;
  std::set<std::string> listed;
  for (const auto& r : sc.rules) {
    if (is_numbered(r) || r.action.kind != Action::Kind::kAllow) continue;
    std::string source = r.sources.empty() ? "least" : r.sources.front();
    if (r.conditional()) {
      const Conditional* c = nullptr;
      for (const auto& k : kConditionals)
        if (r.name == k.syscall) c = &k;
      bool mknod = std::find(std::begin(kMknod), std::end(kMknod), r.name) != std::end(kMknod);
      if (mknod && !keeps(plan, "CAP_MKNOD")) {
        filter.conditional_comments.push_back(fmt::format(
            "{}: FIFOs only in least; device nodes need CAP_MKNOD, which is dropped", r.name));
      } else if (c && c->listed) {
        // The holds named in the table only exist when this drop-in sets them.
        bool held = true;
        if ((r.name == "mmap" || r.name == "mprotect" || r.name == "pkey_mprotect") && !mdwe)
          held = false;
        if (r.name == "clone" && !restrict_namespaces) held = false;
        if (r.name == "personality" && !lock_personality) held = false;
        if (!held) {
          omitted.push_back(r.name);
          continue;
        }
        filter.conditional_comments.push_back(fmt::format("{}: {}", r.name, c->why));
        if (std::string_view(c->why).find("lost") != std::string_view::npos) lost.push_back(r.name);
      } else {
        omitted.push_back(r.name);
        continue;
      }
    }
    add_to_group(filter, source, r.name);
    listed.insert(r.name);
  }
  // clone3 answers ENOSYS in least so libc falls back to clone. systemd's
  // allow list would answer EPERM, which glibc does not fall back from; with
  // RestrictNamespaces=yes systemd answers clone3 itself with ENOSYS, but
  // only when the allow list lets it reach that filter.
  const plan::SyscallRule* clone3 = find(sc, "clone3");
  bool clone3_enosys = clone3 && clone3->action == Action::error(ENOSYS);
  if (clone3_enosys && restrict_namespaces) {
    add_to_group(filter, "RestrictNamespaces=yes answers it with ENOSYS, so libc uses clone",
                 "clone3");
    listed.insert("clone3");
  }

  o.blank();
  o.comment("--- syscalls: only the ones the promises allow, by name; the rest answer");
  o.comment("SystemCallErrorNumber=. systemd itself always allows execve, exit, exit_group,");
  o.comment("getrlimit, rt_sigreturn and the calls that read the time or sleep.");
  for (const auto& [source, names] : filter.groups) {
    o.comment(source);
    list_directive(o.text, "SystemCallFilter", names);
  }
  if (!filter.conditional_comments.empty()) {
    o.comment("Allowed by least only with some arguments; systemd checks none of them:");
    for (const auto& c : filter.conditional_comments) o.comment("  " + c);
  }
  if (!omitted.empty()) {
    o.comment("Left out (refused), since least allows them only with arguments systemd cannot");
    o.comment("check: " + join(omitted, " "));
    notes.push_back(fmt::format(
        "refused under systemd, which cannot check the arguments least allows them with: {}",
        join(omitted, ", ")));
  }
  if (!lost.empty())
    notes.push_back(fmt::format(
        "allowed by name under systemd, without least's argument checks (see the comments): {}",
        join(lost, ", ")));

  std::vector<std::string> other_errno, killed;
  for (const auto& r : sc.rules) {
    if (is_numbered(r) || listed.count(r.name)) continue;
    if (r.action.kind == Action::Kind::kKillProcess) killed.push_back(r.name);
    if (r.action.kind == Action::Kind::kErrno && r.action != sc.default_action &&
        r.action != Action::error(ENOSYS))
      other_errno.push_back(fmt::format("{} ({})", r.name, errno_text(r.action.errno_value)));
  }
  if (!killed.empty())
    notes.push_back(fmt::format(
        "answered with {} instead of killing the process (SystemCallFilter= has one action "
        "in allow-list mode): {}",
        errno_text(sc.default_action.errno_value), join(killed, ", ")));
  if (!other_errno.empty())
    notes.push_back(fmt::format("answered with {} instead of their own errno: {}",
                                errno_text(sc.default_action.errno_value),
                                join(other_errno, ", ")));
  notes.push_back(
      "calls least answers with ENOSYS (unknown to its catalog, newer than its tables) answer " +
      errno_text(sc.default_action.errno_value) +
      " under systemd, or ENOSYS where systemd itself does not know them");

  if (sc.default_action.kind == Action::Kind::kErrno) {
    o.comment("What a refused syscall returns, as under `least run`.");
    o.set("SystemCallErrorNumber", errno_text(sc.default_action.errno_value));
  } else {
    o.comment("Refused syscalls kill the process (systemd's default without");
    o.comment("SystemCallErrorNumber=).");
  }
  o.comment("Native syscalls only: least kills the i386 and x32 ABIs' calls.");
  o.set("SystemCallArchitectures", "native");

  // --- Memory, personality, namespaces.
  o.blank();
  o.comment("--- process");
  o.comment("setuid and file-capability binaries gain nothing (no_new_privs, always).");
  o.set("NoNewPrivileges", plan.no_new_privs ? "yes" : "no");
  if (mdwe) {
    o.comment("No promise prot_exec: memory is writable or executable, never both.");
    o.set("MemoryDenyWriteExecute", "yes");
  } else {
    o.comment("MemoryDenyWriteExecute= not set: promise prot_exec allows W+X memory (JITs).");
  }
  if (lock_personality) {
    o.comment("personality() may not change the execution domain (least allows only");
    o.comment("PER_LINUX, PER_LINUX32, UNAME26 and queries).");
    o.set("LockPersonality", "yes");
  }
  if (restrict_namespaces) {
    o.comment("No namespaces: unshare, setns and clone's namespace flags are refused.");
    o.set("RestrictNamespaces", "yes");
  } else {
    o.comment("RestrictNamespaces= not set: the policy allows unshare, setns or any clone.");
  }
  if (!keeps(plan, "CAP_SYS_NICE")) {
    o.comment("No realtime scheduling: it needs CAP_SYS_NICE, which is dropped.");
    o.set("RestrictRealtime", "yes");
  }
  o.comment("No set-user-ID or set-group-ID files: nothing the promises are for, and least");
  o.comment("cannot refuse such modes where systemd can.");
  o.set("RestrictSUIDSGID", "yes");

  // --- Capabilities.
  o.blank();
  o.comment("--- capabilities");
  if (plan.capabilities.empty()) {
    o.comment("[isolation] capabilities is empty: every capability is dropped.");
    o.set("CapabilityBoundingSet", "");
    o.set("AmbientCapabilities", "");
  } else {
    o.comment("[isolation] capabilities: kept, every other one dropped; ambient so that a");
    o.comment("service run as another user than root holds them too.");
    o.set("CapabilityBoundingSet", join(plan.capabilities, " "));
    o.set("AmbientCapabilities", join(plan.capabilities, " "));
  }

  // --- Network.
  o.blank();
  o.comment("--- network");
  auto families = socket_families(sc, notes);
  if (!families) {
    o.comment("RestrictAddressFamilies= not set: the policy allows socket() of any family.");
  } else if (families->empty()) {
    o.comment("No socket() at all (socketpair, when allowed, is not affected).");
    o.set("RestrictAddressFamilies", "none");
  } else {
    const plan::SyscallRule* r = find(sc, "socket");
    o.comment(
        fmt::format("The families the socket rule lets through ({}).", join(r->sources, ", ")));
    o.set("RestrictAddressFamilies", join(*families, " "));
  }
  if (plan.namespaces.net) {
    o.comment("No promise inet or dns: an empty network namespace, loopback only.");
    o.set("PrivateNetwork", "yes");
  }
  if (plan.network.tcp_restricted && !plan.network.bind.empty() && !plan.namespaces.net) {
    o.comment("[network] bind: TCP binds only to these ports (needs systemd built with BPF");
    o.comment("support; without it systemd warns at start and does not hold them).");
    for (const auto& p : plan.network.bind)
      if (p.protocol == "tcp") o.set("SocketBindAllow", fmt::format("tcp:{}", p.port));
    o.set("SocketBindDeny", "tcp");
  }
  if (plan.network.tcp_restricted && !plan.namespaces.net &&
      (!plan.network.connect.empty() || !plan.network.bind.empty()))
    notes.push_back(
        "[network] connect ports are not held by systemd (least holds them with Landlock); "
        "bind ports only with SocketBindAllow=, which needs systemd built with BPF support");

  // --- Filesystem.
  o.blank();
  o.comment("--- files");
  const auto& fs = plan.filesystem;
  auto writes_under = [&](std::string_view dir) {
    for (const auto& r : fs.rules)
      if ((r.access & (plan::kPathWrite | plan::kPathCreate)) &&
          r.source.rfind("[filesystem]", 0) == 0 && path_beneath(r.path, dir))
        return true;
    return false;
  };
  auto any_rule_under = [&](std::string_view dir) {
    for (const auto& r : fs.rules)
      if (path_beneath(r.path, dir)) return true;
    return false;
  };
  std::vector<std::string> writable;
  for (const auto& p : plan.namespaces.writable)
    if (!is_proc_self(p)) writable.push_back("-" + p);
  bool protect_home = false;
  if (fs.restricted) {
    o.comment("[filesystem] lists paths: the host is read-only but the write and create paths.");
    o.set("ProtectSystem", "strict");
    if (!writable.empty()) {
      o.comment("[filesystem] write and create paths (and /tmp with promise tmppath).");
      list_directive(o.text, "ReadWritePaths", writable);
    }
    std::vector<std::string> read_only;
    for (const auto& r : fs.rules) {
      if (r.access & (plan::kPathWrite | plan::kPathCreate) || is_proc_self(r.path)) continue;
      for (const auto& wp : plan.namespaces.writable)
        if (path_beneath(r.path, wp) && r.path != wp) read_only.push_back("-" + r.path);
    }
    if (!read_only.empty()) {
      o.comment("Read-only paths beneath writable ones.");
      list_directive(o.text, "ReadOnlyPaths", read_only);
    }
    protect_home =
        !any_rule_under("/home") && !any_rule_under("/root") && !any_rule_under("/run/user");
    if (protect_home) {
      o.comment("No listed path under /home, /root or /run/user: they are hidden.");
      o.set("ProtectHome", "yes");
    }
    std::set<std::string> skip = {"/proc", "/sys", "/dev"};
    if (protect_home) skip.insert({"/home", "/root"});
    if (plan.namespaces.private_tmp) skip.insert("/tmp");
    auto hidden = unlisted_top_dirs(plan, skip);
    if (!hidden.empty()) {
      o.comment("Top-level directories of the exporting host that hold no listed path. systemd");
      o.comment("hides whole directories only: within those that hold a listed path");
      o.comment("everything stays readable, where least allows only the paths themselves.");
      list_directive(o.text, "InaccessiblePaths", hidden);
    }
    notes.push_back(
        "systemd cannot allow reading only listed paths: InaccessiblePaths= hides the top-level "
        "directories that hold none, the rest of directories holding a listed path stays "
        "readable");
  } else if (fs.handled & plan::kPathWrite) {
    o.comment("No promise wpath or cpath: nothing is written but where the promises allow.");
    o.set("ProtectSystem", "strict");
    if (!writable.empty()) {
      o.comment("promise tmppath: temporary files.");
      list_directive(o.text, "ReadWritePaths", writable);
    }
  } else {
    std::vector<std::string> why;
    for (const char* p : {"wpath", "cpath"})
      if (contains(plan.promises, p)) why.push_back(fmt::format("promise {}", p));
    o.comment(fmt::format("No [filesystem] paths and {}: writing anywhere the user may.",
                          join(why, ", ")));
    o.set("ProtectSystem", "no");
    if (fs.handled & plan::kPathCreate)
      notes.push_back(
          "without the promise cpath least refuses creating files (Landlock); systemd cannot "
          "refuse creating where it allows writing");
  }
  if (plan.namespaces.private_tmp) {
    o.comment("[isolation] private_tmp: a fresh /tmp and /var/tmp.");
    o.set("PrivateTmp", "yes");
  }
  if (plan.namespaces.mount) {
    o.comment("Private mounts, as least's mount namespace.");
    o.set("PrivateMounts", "yes");
  }

  // --- Kernel and devices: least drops the capabilities these need; systemd
  // also takes the files away.
  o.blank();
  o.comment("--- kernel and devices");
  const std::set<std::string> pseudo_devices = {"/dev/null",   "/dev/zero",    "/dev/full",
                                                "/dev/random", "/dev/urandom", "/dev/tty",
                                                "/dev/ptmx",   "/dev/pts",     "/dev/shm"};
  bool real_device = false;
  for (const auto& r : fs.rules)
    if (path_beneath(r.path, "/dev") && r.path != "/dev" && !pseudo_devices.count(r.path))
      real_device = true;
  if (!real_device && !keeps(plan, "CAP_MKNOD") && !keeps(plan, "CAP_SYS_RAWIO")) {
    o.comment("Only pseudo devices (null, zero, random, tty, ...): no rule names another device.");
    o.set("PrivateDevices", "yes");
  }
  if (!writes_under("/proc/sys") && !writes_under("/sys")) {
    o.comment("Kernel tunables read-only: no [filesystem] rule writes beneath /proc/sys or /sys.");
    o.set("ProtectKernelTunables", "yes");
  }
  if (!keeps(plan, "CAP_SYS_MODULE") && !allowed(sc, "init_module") &&
      !allowed(sc, "finit_module")) {
    o.comment("No kernel modules: the syscalls and CAP_SYS_MODULE are refused.");
    o.set("ProtectKernelModules", "yes");
  }
  if (!keeps(plan, "CAP_SYSLOG") && !allowed(sc, "syslog")) {
    o.comment("No kernel log: syslog() is refused.");
    o.set("ProtectKernelLogs", "yes");
  }
  if (!writes_under("/sys/fs/cgroup")) {
    o.comment("cgroups read-only, as least's cgroup namespace.");
    o.set("ProtectControlGroups", "yes");
  }
  if (!keeps(plan, "CAP_SYS_TIME") && !allowed(sc, "clock_settime") &&
      !allowed(sc, "settimeofday") && !allowed(sc, "adjtimex")) {
    o.comment("No setting the clock: no promise settime.");
    o.set("ProtectClock", "yes");
  }
  if (plan.namespaces.uts && !allowed(sc, "sethostname")) {
    o.comment("Own hostname, as least's UTS namespace.");
    o.set("ProtectHostname", "yes");
  }
  if (plan.namespaces.ipc) {
    o.comment("Own System V IPC and POSIX message queues, as least's IPC namespace.");
    o.set("PrivateIPC", "yes");
  }
  if (plan.namespaces.pid) {
    o.comment("least gives the program its own pid namespace; systemd 252 has none for a");
    o.comment("service, and hides only other users' processes.");
    o.set("ProtectProc", "invisible");
    notes.push_back(
        "systemd 252 has no pid namespace for a service: ProtectProc=invisible hides other "
        "users' processes only");
  }

  // --- Limits.
  const auto& lim = plan.limits;
  if (lim.processes || lim.memory || !lim.rlimits.empty()) {
    o.blank();
    o.comment("--- limits ([limits])");
    if (lim.processes) {
      o.comment("processes: the pids controller.");
      o.set("TasksMax", std::to_string(*lim.processes));
    }
    if (lim.memory) {
      o.comment("memory: the memory controller, in bytes.");
      o.set("MemoryMax", std::to_string(*lim.memory));
    }
    for (const auto& r : lim.rlimits) {
      o.comment(fmt::format("{} (soft and hard)", r.name));
      o.set(limit_directive(r.name), std::to_string(r.value));
    }
  }

  notes.push_back("Landlock's signal and abstract unix socket scopes have no systemd counterpart");
  exported.content = std::move(o.text);
  return exported;
}

}  // namespace least::exporter
