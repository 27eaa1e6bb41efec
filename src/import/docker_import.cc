#include "import/docker_import.h"

#include <errno.h>
#include <fmt/format.h>
#include <seccomp.h>
#include <sys/utsname.h>

#include <algorithm>
#include <array>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "base/text.h"
#include "plan/conditions.h"
#include "policy/catalog.h"
#include "policy/diagnostics.h"
#include "policy/parser.h"

namespace least::importer {

namespace {

using nlohmann::json;

Error bad(const std::string& path, const std::string& message) {
  return make_error(ErrorKind::kUsage, path.empty() ? message : path + ": " + message);
}

std::string join_path(const std::string& base, const std::string& key) {
  return base.empty() ? key : base + "." + key;
}

std::string index_path(const std::string& base, size_t i) {
  return fmt::format("{}[{}]", base, i);
}

// Every architecture token libseccomp and the runtime-spec know.
constexpr std::string_view kArchitectures[] = {
    "SCMP_ARCH_NATIVE",      "SCMP_ARCH_X86",     "SCMP_ARCH_X86_64",   "SCMP_ARCH_X32",
    "SCMP_ARCH_ARM",         "SCMP_ARCH_AARCH64", "SCMP_ARCH_MIPS",     "SCMP_ARCH_MIPS64",
    "SCMP_ARCH_MIPS64N32",   "SCMP_ARCH_MIPSEL",  "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32",
    "SCMP_ARCH_PPC",         "SCMP_ARCH_PPC64",   "SCMP_ARCH_PPC64LE",  "SCMP_ARCH_S390",
    "SCMP_ARCH_S390X",       "SCMP_ARCH_PARISC",  "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64",
    "SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_M68K",    "SCMP_ARCH_SH",       "SCMP_ARCH_SHEB"};

// Syscalls newer than the libseccomp this was built with: profiles name them
// (Docker's default does), and runtimes skip what their libseccomp lacks.
constexpr std::string_view kNewerSyscalls[] = {
    "statmount",        "listmount",     "lsm_get_self_attr", "lsm_set_self_attr",
    "lsm_list_modules", "mseal",         "setxattrat",        "getxattrat",
    "listxattrat",      "removexattrat", "open_tree_attr",    "uretprobe",
    "riscv_hwprobe",    "file_getattr",  "file_setattr",      "uprobe"};

const char* scmp_arch(sys::Arch arch) {
  return arch == sys::Arch::kAarch64 ? "SCMP_ARCH_AARCH64" : "SCMP_ARCH_X86_64";
}

// Docker's includes/excludes name architectures as Go does (runtime.GOARCH).
const char* go_arch(sys::Arch arch) {
  return arch == sys::Arch::kAarch64 ? "arm64" : "amd64";
}

std::string describe(const plan::Action& a) {
  switch (a.kind) {
    case plan::Action::Kind::kAllow:
      return "allowed";
    case plan::Action::Kind::kErrno:
    case plan::Action::Kind::kNotify:
      return "refused with " + errno_name(a.errno_value);
    case plan::Action::Kind::kKillProcess:
      return "killed";
  }
  return "?";
}

bool same_action(const plan::Action& a, const plan::Action& b) {
  auto errno_of = [](const plan::Action& x) {
    return x.kind == plan::Action::Kind::kErrno || x.kind == plan::Action::Kind::kNotify
               ? x.errno_value
               : -1;
  };
  if (errno_of(a) >= 0 || errno_of(b) >= 0) return errno_of(a) == errno_of(b);
  return a.kind == b.kind;
}

// "4.8", "5.10.0-rc1" -> {4, 8}.
std::optional<std::pair<int, int>> kernel_version(std::string_view text) {
  int major = 0, minor = 0;
  size_t i = 0;
  auto number = [&](int& out) {
    size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9' && i - start < 6)
      out = out * 10 + (text[i++] - '0');
    return i > start;
  };
  if (!number(major)) return std::nullopt;
  if (i < text.size() && text[i] == '.') {
    ++i;
    if (!number(minor)) return std::nullopt;
  }
  return std::make_pair(major, minor);
}

class Reader {
 public:
  Reader(const ImportOptions& options) : options_(options) {
    for (std::string c : options.capabilities) {
      for (auto& ch : c) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      if (c.rfind("CAP_", 0) != 0) c = "CAP_" + c;
      caps_.insert(c);
    }
  }

  Result<Profile> read(const json& root) {
    std::string base;
    const json* profile = &root;
    if (!root.is_object()) return bad("", "expected a JSON object (a seccomp profile)");
    if (root.contains("linux") || root.contains("ociVersion")) {  // a whole config.json
      const json* linux = root.contains("linux") ? &root["linux"] : nullptr;
      if (!linux || !linux->is_object() || !linux->contains("seccomp"))
        return bad("linux.seccomp", "missing: this config.json has no seccomp profile");
      profile = &(*linux)["seccomp"];
      base = "linux.seccomp";
      if (!profile->is_object()) return bad(base, "expected an object");
    }
    static const std::set<std::string> known = {
        "defaultAction", "defaultErrnoRet", "architectures",    "archMap", "syscalls",
        "flags",         "listenerPath",    "listenerMetadata", "comment"};
    for (const auto& [key, value] : profile->items())
      if (!known.count(key))
        return bad(join_path(base, key),
                   "unknown key (a seccomp profile has defaultAction, defaultErrnoRet, "
                   "architectures or archMap, syscalls, flags)");

    if (!profile->contains("defaultAction"))
      return bad(join_path(base, "defaultAction"), "missing");
    std::optional<int> default_errno;
    if (profile->contains("defaultErrnoRet")) {
      auto e = errno_value((*profile)["defaultErrnoRet"], join_path(base, "defaultErrnoRet"));
      if (!e) return std::move(e).error();
      default_errno = *e;
    }
    auto def = action((*profile)["defaultAction"], default_errno, join_path(base, "defaultAction"));
    if (!def) return std::move(def).error();
    out_.default_action = *def;

    LEAST_TRY(architectures(*profile, base));
    if (profile->contains("flags"))
      out_.notes.push_back("the profile's seccomp flags are not carried: least sets its own");
    if (profile->contains("listenerPath"))
      out_.notes.push_back(
          "the profile's listenerPath (a seccomp agent) is not carried: least run has its own "
          "supervisor");

    if (profile->contains("syscalls")) {
      const json& syscalls = (*profile)["syscalls"];
      std::string path = join_path(base, "syscalls");
      if (!syscalls.is_array() && !syscalls.is_null()) return bad(path, "expected an array");
      if (syscalls.is_array())
        for (size_t i = 0; i < syscalls.size(); ++i)
          LEAST_TRY(entry(syscalls[i], index_path(path, i)));
    }
    for (auto& [name, rule] : rules_) out_.rules.push_back(std::move(rule));
    if (other_arch_ > 0)
      out_.notes.push_back(fmt::format(
          "{} syscall names exist only on other architectures and were left out", other_arch_));
    if (!newer_.empty())
      out_.notes.push_back(fmt::format(
          "{} are newer than this libseccomp's tables and cannot be named: least answers such "
          "new syscalls ENOSYS",
          join(std::vector<std::string>(newer_.begin(), newer_.end()), ", ")));
    return std::move(out_);
  }

 private:
  Result<int> errno_value(const json& v, const std::string& path) {
    if (!v.is_number_unsigned() || v.get<uint64_t>() == 0 || v.get<uint64_t>() > 4095)
      return bad(path, "expected an errno number from 1 to 4095");
    return static_cast<int>(v.get<uint64_t>());
  }

  Result<plan::Action> action(const json& v, std::optional<int> errno_ret,
                              const std::string& path) {
    if (!v.is_string()) return bad(path, "expected an action name such as \"SCMP_ACT_ERRNO\"");
    const std::string& a = v.get_ref<const std::string&>();
    if (a == "SCMP_ACT_ALLOW") return plan::Action::allow();
    if (a == "SCMP_ACT_ERRNO") return plan::Action::error(errno_ret.value_or(EPERM));
    if (a == "SCMP_ACT_KILL_PROCESS") return plan::Action::kill();
    if (a == "SCMP_ACT_KILL" || a == "SCMP_ACT_KILL_THREAD") {
      if (!killed_thread_note_) {
        out_.notes.push_back(a + " kills the calling thread; least kills the whole process");
        killed_thread_note_ = true;
      }
      return plan::Action::kill();
    }
    if (a == "SCMP_ACT_TRAP" || a == "SCMP_ACT_TRACE" || a == "SCMP_ACT_LOG" ||
        a == "SCMP_ACT_NOTIFY")
      return bad(path, fmt::format("unsupported action {}: a least policy allows, refuses with an "
                                   "errno, or kills",
                                   a));
    return bad(path, fmt::format("unknown action \"{}\"", a));
  }

  Status arch_name(const json& v, const std::string& path) {
    if (!v.is_string()) return bad(path, "expected an architecture name such as SCMP_ARCH_X86_64");
    const std::string& name = v.get_ref<const std::string&>();
    for (auto known : kArchitectures)
      if (name == known) {
        if (name == scmp_arch(options_.arch) || name == "SCMP_ARCH_NATIVE") native_listed_ = true;
        return ok_status();
      }
    std::vector<std::string_view> names(std::begin(kArchitectures), std::end(kArchitectures));
    auto hint = closest_match(name, names);
    return bad(path, fmt::format("unknown architecture \"{}\"{}", name,
                                 hint ? fmt::format(" (did you mean {}?)", *hint) : ""));
  }

  Status architectures(const json& profile, const std::string& base) {
    if (profile.contains("architectures") && profile.contains("archMap") &&
        !profile["architectures"].empty() && !profile["archMap"].empty())
      return bad(join_path(base, "archMap"),
                 "both architectures and archMap are given (Docker refuses that too)");
    bool listed = false;
    if (profile.contains("architectures")) {
      const json& a = profile["architectures"];
      std::string path = join_path(base, "architectures");
      if (!a.is_array() && !a.is_null()) return bad(path, "expected an array");
      if (a.is_array())
        for (size_t i = 0; i < a.size(); ++i) {
          LEAST_TRY(arch_name(a[i], index_path(path, i)));
          listed = true;
        }
    }
    if (profile.contains("archMap")) {
      const json& m = profile["archMap"];
      std::string path = join_path(base, "archMap");
      if (!m.is_array() && !m.is_null()) return bad(path, "expected an array");
      if (m.is_array())
        for (size_t i = 0; i < m.size(); ++i) {
          std::string p = index_path(path, i);
          if (!m[i].is_object() || !m[i].contains("architecture"))
            return bad(p, "expected {\"architecture\": ..., \"subArchitectures\": [...]}");
          LEAST_TRY(arch_name(m[i]["architecture"], join_path(p, "architecture")));
          listed = true;
          if (m[i].contains("subArchitectures") && !m[i]["subArchitectures"].is_null()) {
            const json& subs = m[i]["subArchitectures"];
            if (!subs.is_array()) return bad(join_path(p, "subArchitectures"), "expected an array");
            bool native_entry = m[i]["architecture"] == scmp_arch(options_.arch);
            for (size_t j = 0; j < subs.size(); ++j) {
              LEAST_TRY(arch_name(subs[j], index_path(join_path(p, "subArchitectures"), j)));
              if (native_entry) sub_archs_.push_back(subs[j].get<std::string>());
            }
          }
        }
    }
    if (!sub_archs_.empty())
      out_.notes.push_back(fmt::format(
          "the profile also filters {} on this host; least refuses those ABIs outright (their "
          "calls kill the process)",
          join(sub_archs_, ", ")));
    if (listed && !native_listed_)
      out_.notes.push_back(fmt::format(
          "the profile does not list this host's architecture ({}); runtimes add it anyway",
          scmp_arch(options_.arch)));
    return ok_status();
  }

  // includes/excludes, as Docker evaluates them for the container it starts.
  Result<bool> applies(const json& e, const std::string& path) {
    for (const char* which : {"includes", "excludes"}) {
      if (!e.contains(which)) continue;
      const json& f = e[which];
      std::string p = join_path(path, which);
      if (f.is_null()) continue;
      if (!f.is_object()) return bad(p, "expected an object with caps, arches or minKernel");
      const bool include = std::string_view(which) == "includes";
      for (const auto& [key, value] : f.items()) {
        std::string kp = join_path(p, key);
        if (key == "caps" || key == "arches") {
          if (value.is_null()) continue;
          if (!value.is_array()) return bad(kp, "expected an array of strings");
          bool any = false, all = true;
          for (size_t i = 0; i < value.size(); ++i) {
            if (!value[i].is_string()) return bad(index_path(kp, i), "expected a string");
            const std::string& s = value[i].get_ref<const std::string&>();
            bool match = key == "caps" ? caps_.count(s) > 0 : s == go_arch(options_.arch);
            any = any || match;
            all = all && match;
          }
          if (value.empty()) continue;
          // Docker: includes.caps needs every one, includes.arches any one;
          // excludes drops the entry on any match.
          bool holds = key == "caps" && include ? all : any;
          if (include != holds) return false;
        } else if (key == "minKernel") {
          if (value.is_null() || value == "") continue;
          auto want = value.is_string() ? kernel_version(value.get<std::string>()) : std::nullopt;
          if (!want) return bad(kp, "expected a kernel version such as \"4.8\"");
          auto have = host_kernel();
          if (!have) return bad(kp, "cannot tell this host's kernel version");
          if (include != (*have >= *want)) return false;
        } else if (key != "os") {
          return bad(kp, "unknown key (expected caps, arches or minKernel)");
        }
      }
    }
    return true;
  }

  std::optional<std::pair<int, int>> host_kernel() {
    if (!options_.kernel.empty()) return kernel_version(options_.kernel);
    struct utsname u;
    if (uname(&u) != 0) return std::nullopt;
    return kernel_version(u.release);
  }

  // One condition as the profile writes it (the operator kept).
  Result<plan::ArgCond> condition(const json& a, const std::string& path) {
    if (!a.is_object()) return bad(path, "expected {\"index\", \"value\", \"valueTwo\", \"op\"}");
    for (const auto& [key, value] : a.items())
      if (key != "index" && key != "value" && key != "valueTwo" && key != "op")
        return bad(join_path(path, key), "unknown key (expected index, value, valueTwo, op)");
    if (!a.contains("index") || !a["index"].is_number_unsigned() || a["index"].get<uint64_t>() > 5)
      return bad(join_path(path, "index"), "expected an argument index from 0 to 5");
    plan::ArgCond c;
    c.arg = static_cast<uint8_t>(a["index"].get<uint64_t>());
    auto number = [&](const char* key) -> Result<uint64_t> {
      if (!a.contains(key) || a[key].is_null()) return uint64_t{0};
      if (!a[key].is_number_unsigned())
        return bad(join_path(path, key), "expected an unsigned 64-bit integer");
      return a[key].get<uint64_t>();
    };
    auto v1 = number("value");
    if (!v1) return std::move(v1).error();
    auto v2 = number("valueTwo");
    if (!v2) return std::move(v2).error();
    if (!a.contains("op") || !a["op"].is_string())
      return bad(join_path(path, "op"), "expected an operator such as \"SCMP_CMP_EQ\"");
    const std::string& op = a["op"].get_ref<const std::string&>();
    c.value = *v1;
    if (op == "SCMP_CMP_EQ") {
      c.mask = ~uint64_t{0};
    } else if (op == "SCMP_CMP_MASKED_EQ") {
      // libseccomp: (arg & datum_a) == datum_b; runtimes pass value, valueTwo.
      c.mask = *v1;
      c.value = *v2;
    } else {
      auto ordered = policy::compare_of_scmp_name(op);
      if (!ordered)
        return bad(join_path(path, "op"),
                   fmt::format("unknown operator \"{}\" (expected SCMP_CMP_EQ, SCMP_CMP_NE, "
                               "SCMP_CMP_LT, SCMP_CMP_LE, SCMP_CMP_GT, SCMP_CMP_GE or "
                               "SCMP_CMP_MASKED_EQ)",
                               op));
      c.op = *ordered;
    }
    return c;
  }

  Status entry(const json& e, const std::string& path) {
    if (!e.is_object()) return bad(path, "expected an object with names and action");
    static const std::set<std::string> known = {"names", "name",     "action",   "errnoRet",
                                                "args",  "includes", "excludes", "comment"};
    for (const auto& [key, value] : e.items())
      if (!known.count(key))
        return bad(join_path(path, key),
                   "unknown key (expected names, action, errnoRet, args, includes, excludes, "
                   "comment)");
    std::optional<int> errno_ret;
    if (e.contains("errnoRet") && !e["errnoRet"].is_null()) {
      auto v = errno_value(e["errnoRet"], join_path(path, "errnoRet"));
      if (!v) return std::move(v).error();
      errno_ret = *v;
    }
    if (!e.contains("action")) return bad(join_path(path, "action"), "missing");
    auto act = action(e["action"], errno_ret, join_path(path, "action"));
    if (!act) return std::move(act).error();

    // Names first, so that a misspelt one is reported even in an entry that
    // does not apply to this host.
    std::vector<std::string> names;
    if (e.contains("names")) {
      const json& n = e["names"];
      std::string np = join_path(path, "names");
      if (!n.is_array()) return bad(np, "expected an array of syscall names");
      for (size_t i = 0; i < n.size(); ++i) {
        if (!n[i].is_string()) return bad(index_path(np, i), "expected a syscall name");
        LEAST_TRY(syscall_name(n[i].get<std::string>(), index_path(np, i), names));
      }
    } else if (e.contains("name")) {  // the old single-name form
      if (!e["name"].is_string()) return bad(join_path(path, "name"), "expected a syscall name");
      LEAST_TRY(syscall_name(e["name"].get<std::string>(), join_path(path, "name"), names));
    } else {
      return bad(join_path(path, "names"), "missing");
    }

    // Conditions as written (operators kept). Those that always hold are
    // dropped; the set arithmetic below works on their masked rewriting, so
    // its size is bounded here.
    std::vector<plan::ArgCond> conds;
    bool never = false;
    if (e.contains("args") && !e["args"].is_null()) {
      const json& args = e["args"];
      std::string ap = join_path(path, "args");
      if (!args.is_array()) return bad(ap, "expected an array of conditions");
      std::set<uint8_t> seen;
      size_t expanded = 1;
      for (size_t i = 0; i < args.size(); ++i) {
        auto c = condition(args[i], index_path(ap, i));
        if (!c) return std::move(c).error();
        if (!seen.insert(c->arg).second)
          return bad(index_path(ap, i),
                     fmt::format("a second condition on argument {}: runc ORs such conditions, "
                                 "crun and libseccomp AND them; write one entry per alternative",
                                 c->arg));
        auto options = plan::as_masked_equalities(*c);
        if (options.empty()) never = true;
        bool always = std::any_of(options.begin(), options.end(),
                                  [](const plan::ArgCond& m) { return m.mask == 0; });
        if (always || never) continue;
        conds.push_back(*c);
        expanded *= options.size();
        if (expanded > 4096)
          return bad(ap, "these conditions expand to more than 4096 comparisons");
      }
    }
    auto ok = applies(e, path);
    if (!ok) return std::move(ok).error();
    if (!*ok || names.empty()) return ok_status();
    if (never) {
      out_.notes.push_back(fmt::format("{}: its conditions never hold; left out", path));
      return ok_status();
    }
    if (same_action(*act, out_.default_action)) return ok_status();  // repeats the default
    const bool unconditional = conds.empty();
    for (const std::string& name : names) {
      auto [it, inserted] = rules_.try_emplace(name);
      ProfileRule& r = it->second;
      if (inserted) {
        r.name = name;
        r.action = *act;
        r.where = path;
        if (!unconditional) r.alternatives = {conds};
        continue;
      }
      if (!same_action(r.action, *act))
        return bad(path, fmt::format("{} is {} here but {} by {}: least cannot import one syscall "
                                     "with two answers",
                                     name, describe(*act), describe(r.action), r.where));
      if (r.alternatives.empty()) continue;  // already unconditional
      if (unconditional) {
        r.alternatives.clear();
        continue;
      }
      if (std::find(r.alternatives.begin(), r.alternatives.end(), conds) == r.alternatives.end())
        r.alternatives.push_back(conds);
    }
    return ok_status();
  }

  Status syscall_name(const std::string& name, const std::string& path,
                      std::vector<std::string>& out) {
    if (sys::syscall_number(name, options_.arch)) {
      out.push_back(name);
      return ok_status();
    }
    if (seccomp_syscall_resolve_name(name.c_str()) != __NR_SCMP_ERROR || sys::syscall_known(name)) {
      ++other_arch_;  // libseccomp knows it, on another architecture
      return ok_status();
    }
    for (auto newer : kNewerSyscalls)
      if (name == newer) {
        newer_.insert(name);
        return ok_status();
      }
    std::vector<std::string_view> names;
    for (const auto& n : sys::all_syscall_names()) names.push_back(n);
    auto hint = closest_match(name, names);
    return bad(path, fmt::format("unknown syscall \"{}\"{}", name,
                                 hint ? fmt::format(" (did you mean \"{}\"?)", *hint) : ""));
  }

  const ImportOptions& options_;
  std::set<std::string> caps_;
  Profile out_;
  std::map<std::string, ProfileRule> rules_;
  std::vector<std::string> sub_archs_;
  bool native_listed_ = false;
  bool killed_thread_note_ = false;
  int other_arch_ = 0;
  std::set<std::string> newer_;
};

// ---- Set containment of argument conditions --------------------------------

// A conjunction of masked equalities, one per argument.
struct Box {
  std::array<uint64_t, 6> mask{}, value{};
};

std::optional<Box> box_of(const std::vector<plan::ArgCond>& conds) {
  Box b;
  for (const auto& c : conds) {
    if (c.arg > 5) return std::nullopt;
    uint64_t common = b.mask[c.arg] & c.mask;
    if ((b.value[c.arg] & common) != (c.value & common)) return std::nullopt;  // contradiction
    b.mask[c.arg] |= c.mask;
    b.value[c.arg] = (b.value[c.arg] | (c.value & c.mask)) & b.mask[c.arg];
  }
  return b;
}

bool contains(const Box& outer, const Box& inner) {
  for (size_t i = 0; i < 6; ++i)
    if ((outer.mask[i] & ~inner.mask[i]) || ((outer.value[i] ^ inner.value[i]) & outer.mask[i]))
      return false;
  return true;
}

bool disjoint(const Box& a, const Box& b) {
  for (size_t i = 0; i < 6; ++i)
    if ((a.value[i] ^ b.value[i]) & a.mask[i] & b.mask[i]) return true;
  return false;
}

// Whether every value `g` admits is admitted by one of `cover`: split `g` on
// a bit some overlapping box fixes until each part is inside one box or
// outside all. `budget` bounds the work; running out answers false, which
// only makes the import more conservative.
bool covered(const Box& g, const std::vector<Box>& cover, int& budget) {
  if (--budget < 0) return false;
  std::vector<Box> live;
  for (const Box& b : cover) {
    if (contains(b, g)) return true;
    if (!disjoint(b, g)) live.push_back(b);
  }
  if (live.empty()) return false;
  const Box& b = live.front();
  for (size_t i = 0; i < 6; ++i) {
    uint64_t free = b.mask[i] & ~g.mask[i];
    if (!free) continue;
    uint64_t bit = uint64_t{1} << (63 - __builtin_clzll(free));
    Box g0 = g, g1 = g;
    g0.mask[i] |= bit;
    g1.mask[i] |= bit;
    g1.value[i] |= bit;
    return covered(g0, live, budget) && covered(g1, live, budget);
  }
  return false;  // unreachable: b neither contains nor is disjoint from g
}

// The catalog compares int arguments on their low 32 bits (mask 0xffffffff),
// as the kernel reads them; profiles compare all 64. Compared here as the
// values callers pass, zero-extended: the one approximation of the import.
std::vector<plan::ArgCond> as_64_bits(const std::vector<policy::ArgCheck>& checks) {
  std::vector<plan::ArgCond> out;
  for (const auto& c : checks) {
    plan::ArgCond a{c.arg, c.mask, c.value & c.mask, c.text};
    if (c.mask == 0xffffffff) a.mask = ~uint64_t{0};
    out.push_back(a);
  }
  return out;
}

// What a set of grants or a profile rule admits, as boxes; nullopt when it
// admits everything (an unconditional grant).
using Cover = std::optional<std::vector<Box>>;

bool admits(const Cover& cover, const Box& g) {
  if (!cover) return true;
  int budget = 100000;
  return covered(g, *cover, budget);
}

Cover cover_of(const std::vector<std::vector<plan::ArgCond>>& alternatives) {
  if (alternatives.empty()) return std::nullopt;
  std::vector<Box> boxes;
  for (const auto& written : alternatives)
    for (auto alt : plan::as_masked_equalities(written)) {
      for (auto& c : alt)
        if (c.mask == 0xffffffff) c.mask = ~uint64_t{0};  // as as_64_bits does for the catalog
      if (auto b = box_of(alt)) boxes.push_back(*b);
    }
  return boxes;
}

std::string toml_string(const std::string& s) {
  return json(s).dump();  // a JSON string is a TOML basic string for these names
}

// `key = [...]` with `items` quoted, several to a line, then `tables` (inline
// tables, already written) one to a line.
std::string toml_list(const std::vector<std::string>& items, const std::string& key,
                      const std::vector<std::string>& tables = {}) {
  if (items.empty() && tables.empty()) return key + " = []\n";
  std::string out = key + " = [\n";
  std::string line = " ";
  for (const std::string& item : items) {
    std::string word = " " + toml_string(item) + ",";
    if (line.size() + word.size() > 96) {
      out += line + "\n";
      line = " ";
    }
    line += word;
  }
  if (line != " ") out += line + "\n";
  for (const std::string& table : tables) out += "  " + table + ",\n";
  return out + "]\n";
}

std::string comment_lines(const std::string& text, size_t width = 96) {
  std::string out, line = "#";
  std::vector<std::string> words;
  for (size_t i = 0; i < text.size();) {
    size_t end = text.find(' ', i);
    if (end == std::string::npos) end = text.size();
    if (end > i) words.push_back(text.substr(i, end - i));
    i = end + 1;
  }
  for (const std::string& word : words) {
    if (line.size() + 1 + word.size() > width && line != "#") {
      out += line + "\n";
      line = "#";
    }
    line += " " + word;
  }
  return out + line + "\n";
}

}  // namespace

Result<Profile> read_profile(std::string_view json_text, const ImportOptions& options) {
  json root;
  try {
    root = json::parse(json_text);
  } catch (const json::parse_error& e) {
    std::string what = e.what();
    if (auto at = what.find("] "); what.rfind("[json.exception", 0) == 0 && at != std::string::npos)
      what = what.substr(at + 2);
    return make_error(ErrorKind::kUsage, "not valid JSON: " + what);
  }
  Reader reader(options);
  return reader.read(root);
}

Result<ImportedPolicy> import_profile(std::string_view json_text, const ImportOptions& options) {
  auto read = read_profile(json_text, options);
  if (!read) return std::move(read).error();
  Profile& profile = *read;
  ImportedPolicy out;
  out.notes = profile.notes;
  const sys::Arch arch = options.arch;

  if (profile.default_action.kind == plan::Action::Kind::kAllow)
    return make_error(ErrorKind::kUsage,
                      "defaultAction: SCMP_ACT_ALLOW allows every syscall the profile does not "
                      "list; a least policy refuses by default, so a deny-list profile cannot be "
                      "imported");
  const int default_errno = profile.default_action.kind == plan::Action::Kind::kErrno
                                ? profile.default_action.errno_value
                                : EPERM;
  if (profile.default_action.kind == plan::Action::Kind::kKillProcess)
    out.notes.push_back(
        "the profile kills on any syscall it does not list; least refuses those with EPERM "
        "(deny one by name with \"kill\" to kill)");
  else if (default_errno != EPERM)
    out.notes.push_back(
        fmt::format("the profile refuses unlisted syscalls with {}; least refuses them with EPERM",
                    errno_name(default_errno)));

  std::map<std::string, const ProfileRule*> allowed;
  for (const auto& r : profile.rules)
    if (r.action.kind == plan::Action::Kind::kAllow) allowed[r.name] = &r;

  // Promises whose every grant the profile allows (on this architecture).
  std::map<std::string, std::vector<std::vector<plan::ArgCond>>> granted;  // by the chosen promises
  std::set<std::string> granted_fully;
  for (const policy::Promise& p : policy::promise_catalog()) {
    bool fits = true;
    for (const auto& g : p.grants) {
      if (!sys::syscall_number(g.syscall, arch)) continue;
      auto it = allowed.find(g.syscall);
      if (it == allowed.end()) {
        fits = false;
        break;
      }
      auto box = box_of(as_64_bits(g.when));
      if (box && !admits(cover_of(it->second->alternatives), *box)) {
        fits = false;
        break;
      }
    }
    const bool vacuous = std::none_of(p.grants.begin(), p.grants.end(), [&](const auto& g) {
      return sys::syscall_number(g.syscall, arch).has_value();
    });
    if (!fits || (vacuous && std::find(out.promises.begin(), out.promises.end(), "stdio") ==
                                 out.promises.end()))
      continue;
    out.promises.push_back(p.name);
    for (const auto& g : p.grants) {
      if (!sys::syscall_number(g.syscall, arch)) continue;
      if (g.when.empty())
        granted_fully.insert(g.syscall);
      else
        granted[g.syscall].push_back(as_64_bits(g.when));
    }
  }

  // What the promises leave out.
  std::vector<std::string> conditional_lines;  // { name = ..., when = ... }
  for (const auto& [name, rule] : allowed) {
    if (granted_fully.count(name)) continue;
    if (rule->alternatives.empty()) {
      out.allow.push_back(name);
      continue;
    }
    Cover promised = std::nullopt;
    auto g = granted.find(name);
    if (g != granted.end()) promised = cover_of(g->second);
    bool exact = g != granted.end();
    const Cover allowed_by_profile = cover_of(rule->alternatives);  // not nullopt: conditional
    if (exact)
      for (const Box& box : *allowed_by_profile)
        if (!admits(promised, box)) {
          exact = false;
          break;
        }
    if (exact) continue;
    // The profile's own conditions: with the promises' grants (all inside
    // them) they allow exactly what the profile does.
    std::vector<std::string> when;
    for (const auto& alt : rule->alternatives) {
      std::vector<std::string> checks;
      for (const auto& c : alt)
        checks.push_back(policy::render_check(name, {c.arg, c.mask, c.value, {}, c.op}));
      when.push_back(join(checks, " && "));
    }
    out.conditional.push_back(name);
    conditional_lines.push_back(fmt::format(
        "{{ name = {}, when = {} }}", toml_string(name),
        when.size() == 1 ? toml_string(when[0]) : [&] {
          std::vector<std::string> quoted;
          for (const auto& w : when) quoted.push_back(toml_string(w));
          return "[" + join(quoted, ", ") + "]";
        }()));
  }

  // Refusals answered otherwise than by the default, and the syscalls least
  // would answer ENOSYS (unknown to its catalog) where the profile refuses.
  std::vector<std::pair<std::string, std::string>> deny, deny_default;
  std::set<std::string> in_profile;
  for (const auto& r : profile.rules) {
    in_profile.insert(r.name);
    if (r.action.kind == plan::Action::Kind::kAllow) continue;
    if (!r.alternatives.empty()) {
      out.notes.push_back(fmt::format(
          "{} ({}): the profile {} it only under argument conditions; the policy refuses it "
          "with the default answer",
          r.name, r.where, describe(r.action)));
      if (!policy::catalog_knows(r.name) && r.name != "clone3")
        deny_default.emplace_back(r.name, "EPERM");
      continue;
    }
    deny.emplace_back(r.name, r.action.kind == plan::Action::Kind::kKillProcess
                                  ? "kill"
                                  : errno_name(r.action.errno_value));
  }
  for (const auto& name : sys::syscall_names(arch))
    // clone3 answers ENOSYS whatever a deny says (libc's fallback to clone).
    if (!in_profile.count(name) && !policy::catalog_knows(name) && name != "clone3")
      deny_default.emplace_back(name, "EPERM");

  // Differences that come from least itself, not from the import.
  auto profile_allows = [&](const char* n) {
    auto it = allowed.find(n);
    return it != allowed.end() && it->second->alternatives.empty();
  };
  if (profile_allows("ioctl"))
    out.notes.push_back(
        "ioctl: least never lets TIOCSTI or TIOCLINUX through (they inject terminal input), "
        "which the profile allows");
  for (const char* n : {"exit", "exit_group"})
    if (sys::syscall_number(n, arch) && !allowed.count(n))
      out.notes.push_back(
          fmt::format("{}: least always allows exiting; the profile refuses it", n));
  if (!allowed.count("clone3") && !in_profile.count("clone3"))
    out.notes.push_back(
        "clone3: least answers ENOSYS (libc falls back to clone), the profile its default");
  for (const char* n : {"execve", "execveat"})
    if (sys::syscall_number(n, arch) && !allowed.count(n))
      out.notes.push_back(fmt::format(
          "{}: the profile refuses it; least run still lets the program start, and runtimes "
          "given the exported profile allow it (they exec after installing the filter)",
          n));

  // The policy.
  std::string t;
  t += comment_lines(fmt::format(
      "Imported by `least import` from {} (a seccomp profile), read as a container runtime "
      "reads it on {}: entries for other architectures left out; capabilities granted for its "
      "includes/excludes: {}.",
      options.source.empty() ? std::string("a profile") : options.source, sys::arch_name(arch),
      options.capabilities.empty() ? std::string("none (least import --caps CAP,... to grant some)")
                                   : join(options.capabilities, ", ")));
  t += comment_lines(
      "Promises stand where every syscall and argument check they grant is one the profile "
      "allows; the rest is allowed by name. Beyond the profile, least also holds the files "
      "and ports the promises imply (Landlock) and drops every capability not kept below.");
  t += "\n";
  t += toml_list(out.promises, "promises");
  if (!out.allow.empty() || !conditional_lines.empty() || !deny.empty() || !deny_default.empty()) {
    t += "\n[syscalls]\n";
    if (!out.allow.empty() || !conditional_lines.empty()) {
      t += comment_lines(
          "Allowed by the profile and granted by none of the promises above; with `when`, only "
          "under the profile's own argument conditions (any one of them).");
      t += toml_list(out.allow, "allow", conditional_lines);
    }
    if (!deny.empty() || !deny_default.empty()) {
      t += "\n[syscalls.deny]\n";
      if (!deny.empty()) {
        t += "# Refused by the profile otherwise than with its default answer.\n";
        for (const auto& [name, what] : deny) t += name + " = " + toml_string(what) + "\n";
      }
      if (!deny_default.empty()) {
        t += comment_lines(
            "Refused by the profile with its default answer; without these lines least would "
            "answer ENOSYS, as it does for syscalls its catalog does not know.");
        for (const auto& [name, what] : deny_default) t += name + " = " + toml_string(what) + "\n";
      }
    }
  }
  if (!options.capabilities.empty()) {
    t += "\n[isolation]\n";
    std::vector<std::string> caps;
    for (std::string c : options.capabilities) {
      for (auto& ch : c) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      caps.push_back(c.rfind("CAP_", 0) == 0 ? c : "CAP_" + c);
    }
    t += "# Granted with --caps: the profile's entries for them are included above.\n";
    std::string line = "capabilities = [";
    for (size_t i = 0; i < caps.size(); ++i) line += (i ? ", " : "") + toml_string(caps[i]);
    t += line + "]\n";
  }

  // The policy must load: checked here rather than left to the user.
  policy::Diagnostics diags;
  auto parsed = policy::parse_policy_text(t, "imported.least.toml", diags);
  if (parsed) policy::validate_policy(*parsed, diags, {.check_paths_exist = false});
  if (!parsed || diags.has_errors())
    return make_error(
        ErrorKind::kSystem,
        "the imported policy does not load (a bug in least import):\n" + diags.render());
  out.toml = std::move(t);
  return out;
}

}  // namespace least::importer
