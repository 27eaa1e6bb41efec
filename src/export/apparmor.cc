// An AppArmor profile in the style people write by hand: file rules from the
// Plan's filesystem rules, network rules from the families its socket rule
// lets through, capability rules for the capabilities it keeps, explicit
// denials for kernel tunables and process memory. AppArmor has no syscall
// filter: the seccomp half of the Plan goes to the other formats.
#include <fmt/format.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <optional>
#include <set>

#include "base/text.h"
#include "export/export.h"

namespace least::exporter {

namespace {

// True when the Plan lets the syscall through on some arguments.
bool allowed(const plan::Plan& plan, std::string_view name) {
  const plan::SyscallRule* r = plan.seccomp.find(name);
  return r && r->action.kind == plan::Action::Kind::kAllow;
}

bool allowed_unconditionally(const plan::Plan& plan, std::string_view name) {
  const plan::SyscallRule* r = plan.seccomp.find(name);
  return r && r->action.kind == plan::Action::Kind::kAllow && !r->conditional();
}

// A path as AppArmor reads it: glob characters escaped, quoted when it holds
// spaces. Control characters cannot be written at all.
Result<std::string> aa_path(std::string_view path) {
  std::string out;
  bool quote = false;
  for (char c : path) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      return make_error(ErrorKind::kUnsupported,
                        fmt::format("path \"{}\" holds a control character, which an AppArmor "
                                    "profile cannot name",
                                    path));
    if (std::string_view("*?[]{}^\\\"").find(c) != std::string_view::npos) out += '\\';
    if (c == ' ' || c == '\t' || c == ',' || c == '#') quote = true;
    out += c;
  }
  return quote ? "\"" + out + "\"" : out;
}

std::string quoted_if_needed(std::string s) {
  return s.find_first_of(" \t,#") == std::string::npos ? s : "\"" + s + "\"";
}

// /proc/self and /proc/thread-self are symlinks the kernel resolves before
// AppArmor sees the path: the rule becomes the process's own /proc entry.
std::optional<std::string> proc_self(std::string_view path, std::string& rest) {
  for (auto [prefix, replacement] :
       {std::pair<std::string_view, std::string_view>{"/proc/self", "@{PROC}/@{pid}"},
        {"/proc/thread-self", "@{PROC}/@{pid}/task/@{tid}"}}) {
    if (path_beneath(path, prefix)) {
      rest = std::string(path.substr(prefix.size()));
      return std::string(replacement);
    }
  }
  return std::nullopt;
}

enum class Kind { kDirectory, kFile, kUnknown };

Kind kind_of(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return Kind::kUnknown;
  return S_ISDIR(st.st_mode) ? Kind::kDirectory : Kind::kFile;
}

struct Writer {
  std::string out;
  void line(std::string_view text = {}) {
    pending.clear();
    out += text;
    out += '\n';
  }
  void comment(std::string_view text) { line(fmt::format("  # {}", text)); }
  // Each rule once: a symlink and its target (/bin and /usr/bin) both in the
  // policy resolve to the same rules. The comment of rules that were all
  // written already is dropped with them.
  void rule_comment(std::string_view text) { pending = fmt::format("  # {}\n", text); }
  void rule(std::string_view text) {
    std::string r = fmt::format("  {},", text);
    if (!written.insert(r).second) return;
    out += pending;
    line(r);
  }
  std::set<std::string> written;
  std::string pending;
};

// The permissions of one filesystem rule, in AppArmor's letters.
struct Perms {
  std::string letters;
  std::string why;  // what the letters leave out, for the comment
};

Perms perms_for(const plan::PathRule& r, bool exec_promise, bool flock_promise) {
  Perms p;
  const bool library = r.source.rfind("runtime: shared libraries", 0) == 0;
  const bool writes =
      r.access & (plan::kPathWrite | plan::kPathCreate | plan::kPathFifo | plan::kPathSocket);
  // m maps files executable: libraries, and whatever may be executed.
  if (r.access & plan::kPathExec) p.letters += 'm';
  if (r.access & (plan::kPathRead | plan::kPathExec)) p.letters += 'r';
  if (writes) p.letters += 'w';
  if (r.access & plan::kPathCreate) p.letters += 'l';
  if (flock_promise && (r.access & (plan::kPathRead | plan::kPathWrite))) p.letters += 'k';
  if ((r.access & plan::kPathExec) && !library) {
    if (exec_promise)
      p.letters += "ix";
    else
      p.why = "executing needs the promise exec: mapped and read only";
  }
  return p;
}

Status file_rule(Writer& w, const plan::PathRule& r, bool exec_promise, bool flock_promise) {
  Perms p = perms_for(r, exec_promise, flock_promise);
  if (p.letters.empty()) return ok_status();
  std::string comment = r.source;
  if (!p.why.empty()) comment += "; " + p.why;
  // AppArmor checks the path a symlink resolves to (/etc/resolv.conf is often
  // one, into /run); Landlock follows it too when the rule is made.
  std::error_code ec;
  std::string resolved = std::filesystem::canonical(r.path, ec).string();
  if (!ec && resolved != r.path && !r.path.starts_with("/proc/")) {
    plan::PathRule target = r;
    target.path = resolved;
    target.source = r.source + " (" + r.path + " resolves here)";
    LEAST_TRY(file_rule(w, target, exec_promise, flock_promise));
  }
  w.rule_comment(comment);
  std::string rest;
  if (auto proc = proc_self(r.path, rest)) {
    auto escaped = aa_path(rest);
    if (!escaped) return std::move(escaped).error();
    // A directory beneath /proc/self or the entry itself: cover both.
    w.rule(fmt::format("owner {}{}{{,/**}} {}", *proc, *escaped, p.letters));
    return ok_status();
  }
  auto path = aa_path(r.path);
  if (!path) return std::move(path).error();
  std::string base = *path;
  bool quoted = !base.empty() && base.front() == '"';
  if (quoted) base = base.substr(1, base.size() - 2);
  auto q = [&](const std::string& s) { return quoted ? "\"" + s + "\"" : s; };
  switch (kind_of(r.path)) {
    case Kind::kDirectory: {
      std::string dir = base.ends_with('/') ? base : base + "/";
      if (r.access & (plan::kPathRead | plan::kPathExec)) w.rule(fmt::format("{} r", q(dir)));
      w.rule(fmt::format("{} {}", q(dir + "**"), p.letters));
      break;
    }
    case Kind::kFile:
      w.rule(fmt::format("{} {}", q(base), p.letters));
      break;
    case Kind::kUnknown:  // absent here: the path itself or anything beneath it
      w.rule(fmt::format("{} {}", q(base + "{,/**}"), p.letters));
      break;
  }
  return ok_status();
}

// socket() families and types the Plan lets through, read from its socket
// rule's conditions (domain == X, type & 0xf == Y).
struct Families {
  bool any = false;                         // no condition on the family
  std::map<uint64_t, std::set<int>> types;  // family -> types; -1 means any type
};

Families socket_families(const plan::Plan& plan) {
  Families f;
  const plan::SyscallRule* r = plan.seccomp.find("socket");
  if (!r || r->action.kind != plan::Action::Kind::kAllow) return f;
  if (!r->conditional()) {
    f.any = true;
    return f;
  }
  for (const auto& alt : r->alternatives) {
    std::optional<uint64_t> family;
    int type = -1;
    for (const auto& c : alt) {
      if (c.arg == 0 && c.op == plan::Compare::kMaskedEq && (c.mask & 0xffffffff) == 0xffffffff)
        family = c.value;
      if (c.arg == 1 && c.op == plan::Compare::kMaskedEq && c.mask == 0xf)
        type = static_cast<int>(c.value);
    }
    if (!family) {
      f.any = true;
      return f;
    }
    f.types[*family].insert(type);
  }
  return f;
}

const char* aa_family(uint64_t family) {
  switch (family) {
    case AF_UNIX:
      return "unix";
    case AF_INET:
      return "inet";
    case AF_INET6:
      return "inet6";
    case AF_NETLINK:
      return "netlink";
    case AF_PACKET:
      return "packet";
    case AF_ALG:
      return "alg";
    case AF_VSOCK:
      return "vsock";
    case AF_BLUETOOTH:
      return "bluetooth";
    case AF_CAN:
      return "can";
    case AF_XDP:
      return "xdp";
    default:
      return nullptr;
  }
}

const char* aa_type(int type) {
  switch (type) {
    case SOCK_STREAM:
      return "stream";
    case SOCK_DGRAM:
      return "dgram";
    case SOCK_SEQPACKET:
      return "seqpacket";
    case SOCK_RAW:
      return "raw";
    case SOCK_RDM:
      return "rdm";
    case SOCK_PACKET:
      return "packet";
    default:
      return nullptr;
  }
}

std::string sources_of(const plan::Plan& plan, std::string_view syscall) {
  const plan::SyscallRule* r = plan.seccomp.find(syscall);
  return r ? join(r->sources, ", ") : std::string();
}

void network_rules(Writer& w, const plan::Plan& plan, std::vector<std::string>& notes) {
  Families f = socket_families(plan);
  const std::string socket_src = sources_of(plan, "socket");
  if (f.any) {
    w.comment(fmt::format("socket() of any family ({})", socket_src));
    w.rule("network");
    return;
  }
  bool unix_listed = false;
  if (!f.types.empty())
    w.comment(fmt::format("The families and types the socket rule lets through ({}):", socket_src));
  for (const auto& [family, types] : f.types) {
    const char* name = aa_family(family);
    if (!name) {
      notes.push_back(fmt::format(
          "socket family {} has no AppArmor name here: the profile refuses it", family));
      continue;
    }
    unix_listed |= family == AF_UNIX;
    if (types.count(-1)) {
      w.rule(fmt::format("network {}", name));
      continue;
    }
    for (int t : types)
      if (const char* tn = aa_type(t)) w.rule(fmt::format("network {} {}", name, tn));
  }
  // socketpair() makes a connected AF_UNIX pair that reaches nothing outside;
  // AppArmor checks it as the creation of unix sockets.
  const plan::SyscallRule* pair = plan.seccomp.find("socketpair");
  if (!unix_listed && pair && pair->action.kind == plan::Action::Kind::kAllow) {
    w.comment(
        fmt::format("socketpair(AF_UNIX) ({}); AppArmor cannot tell a pair from socket(AF_UNIX), "
                    "seccomp can",
                    join(pair->sources, ", ")));
    w.rule("network unix");
  }
  if (f.types.empty() && !(pair && pair->action.kind == plan::Action::Kind::kAllow))
    w.comment("No network rules: no socket may be created");
  else if (!f.types.count(AF_INET) && !f.types.count(AF_INET6))
    w.comment("No network inet: no promise inet or dns");
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool valid_name(std::string_view name) {
  if (name.empty() || name.front() == '/' || name.front() == '^' || name.front() == '@')
    return false;
  for (char c : name)
    if (static_cast<unsigned char>(c) < 0x21 || c == 0x7f || c == '"' || c == '\\' || c == '{' ||
        c == '}' || c == ',' || c == '#')
      return false;
  return true;
}

}  // namespace

Result<Exported> export_apparmor(const plan::Plan& plan, const ExportOptions& options) {
  if (!valid_name(options.name))
    return make_error(ErrorKind::kUsage,
                      fmt::format("\"{}\" cannot name an AppArmor profile: use letters, digits "
                                  "and -._+:; an attachment path goes after the name in the "
                                  "profile, not in --name",
                                  options.name));
  Exported out;
  Writer w;
  const std::string& name = options.name;
  const bool exec_promise = allowed_unconditionally(plan, "execve");
  const bool flock_promise = allowed(plan, "flock");
  const auto& fs = plan.filesystem;

  w.line(
      fmt::format("# AppArmor profile \"{}\", written by `least export --format apparmor`", name));
  w.line("# from the same plan `least run` enforces.");
  w.line(fmt::format("# Promises: {}{}.", join(plan.promises, " "),
                     plan.default_promises ? " (the built-in default)" : ""));
  w.line("#");
  w.line("# Load it:  sudo cp THIS_FILE /etc/apparmor.d/" + name +
         " && sudo apparmor_parser -r /etc/apparmor.d/" + name);
  w.line("# Use it:   aa-exec -p " + name + " -- PROGRAM ARGS...");
  w.line("#           docker run --security-opt apparmor=" + name + " IMAGE ...");
  w.line("#           or attach it by path: `profile " + name + " /usr/bin/PROGRAM flags=(...) {`");
  w.line("# AppArmor has no syscall filter: pair this profile with the seccomp half of the");
  w.line("# same policy (least export --format docker, oci or systemd).");
  w.line();
  w.line("abi <abi/3.0>,");
  w.line();
  w.line("include <tunables/global>");
  w.line();
  // attach_disconnected and mediate_deleted, as container profiles have:
  // paths outside the namespace's root and deleted files are still checked.
  w.line(fmt::format("profile {} flags=(attach_disconnected, mediate_deleted) {{",
                     quoted_if_needed(name)));
  w.comment("What every program needs: the loader, libc's files, locales, /dev/null.");
  w.line("  include <abstractions/base>");
  w.line();

  // Files.
  w.comment("--- files");
  if (fs.restricted) {
    w.comment("[filesystem] lists paths: nothing else may be read, written or executed.");
    for (const auto& r : fs.rules) LEAST_TRY(file_rule(w, r, exec_promise, flock_promise));
  } else {
    w.comment("No [filesystem] paths: reading is limited by the promises alone (rpath).");
    w.rule(flock_promise ? "/** rk" : "/** r");
    w.comment("Mapping files executable (libraries): promise stdio allows it for files.");
    w.rule("/** m");
    if (exec_promise) {
      w.comment(fmt::format("Executing any program, confined by this same profile ({})",
                            sources_of(plan, "execve")));
      w.rule("/** ix");
    }
    if (!(fs.handled & plan::kPathWrite)) {
      std::vector<std::string> why;
      for (const char* p : {"wpath", "cpath"})
        if (contains(plan.promises, p)) why.push_back(fmt::format("promise {}", p));
      const bool create = !(fs.handled & plan::kPathCreate);
      w.comment(fmt::format("Writing{} anywhere the user may ({})",
                            create ? ", creating and removing" : "", join(why, ", ")));
      w.rule(create ? "/** wl" : "/** w");
      if (!create)
        out.notes.push_back(
            "AppArmor's w permission also creates and removes files: without the promise cpath "
            "least refuses creating (Landlock), the profile cannot");
    } else {
      w.comment("Writing only where the promises allow it (no wpath, no cpath):");
      for (const auto& r : fs.rules) LEAST_TRY(file_rule(w, r, exec_promise, flock_promise));
    }
  }
  if (!exec_promise) {
    w.comment("No promise exec: nothing may be executed. The program itself is started into");
    w.comment("this profile by aa-exec (or by an attachment path), which is not an exec the");
    w.comment("profile has to allow.");
    out.notes.push_back(
        "without the promise exec the profile allows no exec at all: start the program with "
        "`aa-exec -p " +
        name + " -- PROGRAM` or add its path as the profile's attachment");
  }
  w.line();

  // Network.
  w.comment("--- network");
  network_rules(w, plan, out.notes);
  w.line();

  // Capabilities.
  w.comment("--- capabilities");
  if (plan.capabilities.empty()) {
    w.comment("No capability rules: every capability is refused ([isolation] capabilities).");
  } else {
    w.comment("[isolation] capabilities: kept; every other one is refused.");
    for (const auto& c : plan.capabilities) {
      std::string cap = lower(c);
      if (cap.rfind("cap_", 0) == 0) cap = cap.substr(4);
      w.rule("capability " + cap);
    }
  }
  w.line();

  // Signals and ptrace within the sandbox, the way Landlock scopes them.
  w.comment("--- processes");
  if (plan.scope.signals) {
    w.comment("Signals only to processes in this profile (Landlock's signal scope); the");
    w.comment("base abstraction lets unconfined processes signal it.");
    w.rule("signal peer=@{profile_name}");
  } else {
    w.rule("signal");
  }
  w.comment("Reading its own processes' /proc entries.");
  w.rule("ptrace (read) peer=@{profile_name}");
  if (allowed(plan, "ptrace")) {
    w.comment(fmt::format("ptrace ({})", sources_of(plan, "ptrace")));
    w.rule("ptrace (trace) peer=@{profile_name}");
  } else {
    w.comment("ptrace is refused: the policy does not allow the syscall.");
    w.rule("deny ptrace (trace)");
  }
  const struct {
    const char* syscall;
    const char* rule;
  } kMountish[] = {{"mount", "mount"}, {"umount2", "umount"}, {"pivot_root", "pivot_root"}};
  for (const auto& m : kMountish) {
    if (allowed(plan, m.syscall)) {
      w.comment(fmt::format("{} ({})", m.syscall, sources_of(plan, m.syscall)));
      w.rule(m.rule);
    } else {
      w.comment(fmt::format("{} is refused: the policy does not allow the syscall.", m.syscall));
      w.rule(fmt::format("deny {}", m.rule));
    }
  }
  w.line();

  // Explicit denials: they win over every allow rule above.
  w.comment("--- never, whatever the rules above allow");
  auto writes_under = [&](std::string_view dir) {
    for (const auto& r : fs.rules)
      if ((r.access & (plan::kPathWrite | plan::kPathCreate)) &&
          r.source.rfind("[filesystem]", 0) == 0 && path_beneath(r.path, dir))
        return true;
    return false;
  };
  if (!writes_under("/proc/sys")) {
    w.comment("Kernel tunables.");
    w.rule("deny /proc/sys/** w");
  }
  if (!writes_under("/sys")) {
    w.comment("Kernel and device state.");
    w.rule("deny /sys/** w");
  }
  w.comment("Other processes' memory, the kernel's memory, magic SysRq.");
  w.rule("deny @{PROC}/*/mem rw");
  w.rule("deny @{PROC}/kcore rw");
  w.rule("deny @{PROC}/sysrq-trigger rw");
  w.rule("deny /dev/mem rw");
  w.rule("deny /dev/kmem rw");
  w.rule("deny /dev/port rw");
  w.line();
  w.comment("Site-specific additions, kept out of this generated file.");
  w.line("  include if exists <local/" + name + ">");
  w.line("}");

  out.content = std::move(w.out);
  out.notes.push_back(
      "AppArmor has no syscall filter: the promises' syscalls and argument checks need the "
      "seccomp profile (--format docker, oci or systemd)");
  out.notes.push_back(
      "AppArmor network rules name families and types only: [network] ports, protocols and "
      "the netlink protocol are not held");
  out.notes.push_back(
      "namespaces, resource limits and no_new_privs are not AppArmor's: the runtime sets them");
  return out;
}

}  // namespace least::exporter
