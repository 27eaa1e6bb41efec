// docker_to_bpf: compiles a Docker seccomp profile (JSON) to a raw BPF program
// that `bwrap --seccomp FD` loads, for comparing least's filter with Docker's.
//
//   docker_to_bpf PROFILE.json OUT.bpf [--cap CAP_NAME]... [--pfc OUT.pfc] [--binary-tree]
//
// It follows what Docker (moby's profiles/seccomp setupSeccomp) and runc do on
// x86_64, so the filter is the one a container would get:
//   - defaultAction / defaultErrnoRet; errnoRet per rule, EPERM when absent;
//   - archMap: the x86_64 entry and its subArchitectures (x86, x32);
//   - an entry is skipped when excludes.arches names amd64, when excludes.caps
//     names a capability the container has, when includes.arches does not
//     name amd64, when includes.caps names one it lacks, or when
//     includes.minKernel is newer than the running kernel (excludes.minKernel:
//     the reverse). The capability set is empty unless --cap adds some;
//   - each name becomes one rule; names libseccomp does not know are skipped
//     (runc ignores them); args become conditions ANDed together, except that
//     several conditions on the same argument become one rule each (runc's
//     workaround, since libseccomp cannot AND them);
//   - SCMP_CMP_MASKED_EQ: value is the mask, valueTwo the expected result.
// libseccomp's default filter layout is kept (runc does not ask for the
// binary tree); --binary-tree asks for it, as least does.
// Prints how many rules it added and how many BPF instructions it wrote.

#include <fcntl.h>
#include <seccomp.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using nlohmann::json;

// Docker names the host architecture as Go does; older profiles used x86_64.
constexpr std::array kHostArchNames = {"amd64", "x86_64"};
constexpr const char* kHostSeccompArch = "SCMP_ARCH_X86_64";
constexpr unsigned kMaxArgs = 6;

struct Options {
  std::string profile;
  std::string out;
  std::string pfc;
  std::vector<std::string> caps;
  bool binary_tree = false;
};

struct Counts {
  int rules = 0;
  int entries_used = 0;
  int entries_skipped = 0;
  int unknown_names = 0;
};

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what);
}

void check(int rc, const std::string& what) {
  if (rc < 0) fail(what + ": " + std::strerror(-rc));
}

std::vector<std::string> strings(const json& entry, const char* key) {
  if (!entry.is_object() || !entry.contains(key) || entry[key].is_null()) return {};
  return entry[key].get<std::vector<std::string>>();
}

bool contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

bool names_host_arch(const std::vector<std::string>& arches) {
  return std::any_of(kHostArchNames.begin(), kHostArchNames.end(),
                     [&](const char* a) { return contains(arches, a); });
}

// "4.8" or "5.10.3" -> {4, 8}; the running kernel from uname.
std::pair<int, int> parse_version(const std::string& text) {
  int major = 0, minor = 0;
  if (std::sscanf(text.c_str(), "%d.%d", &major, &minor) < 1)
    fail("bad kernel version \"" + text + "\"");
  return {major, minor};
}

std::pair<int, int> running_kernel() {
  utsname u{};
  if (uname(&u) != 0) fail("uname failed");
  return parse_version(u.release);
}

std::optional<std::string> min_kernel(const json& clause) {
  if (!clause.is_object() || !clause.contains("minKernel") || clause["minKernel"].is_null())
    return std::nullopt;
  return clause["minKernel"].get<std::string>();
}

// Docker's include/exclude rules for one syscalls entry.
bool entry_applies(const json& entry, const std::vector<std::string>& caps) {
  const json none = json::object();
  const json& excludes = entry.contains("excludes") ? entry["excludes"] : none;
  const json& includes = entry.contains("includes") ? entry["includes"] : none;
  const auto kernel = running_kernel();

  auto ex_arches = strings(excludes, "arches");
  if (!ex_arches.empty() && names_host_arch(ex_arches)) return false;
  for (const auto& c : strings(excludes, "caps"))
    if (contains(caps, c)) return false;
  if (auto k = min_kernel(excludes); k && kernel >= parse_version(*k)) return false;

  auto in_arches = strings(includes, "arches");
  if (!in_arches.empty() && !names_host_arch(in_arches)) return false;
  for (const auto& c : strings(includes, "caps"))
    if (!contains(caps, c)) return false;
  if (auto k = min_kernel(includes); k && kernel < parse_version(*k)) return false;
  return true;
}

uint32_t action(const std::string& name, int errno_ret) {
  if (name == "SCMP_ACT_ALLOW") return SCMP_ACT_ALLOW;
  if (name == "SCMP_ACT_ERRNO") return SCMP_ACT_ERRNO(errno_ret);
  if (name == "SCMP_ACT_KILL" || name == "SCMP_ACT_KILL_THREAD") return SCMP_ACT_KILL_THREAD;
  if (name == "SCMP_ACT_KILL_PROCESS") return SCMP_ACT_KILL_PROCESS;
  if (name == "SCMP_ACT_TRAP") return SCMP_ACT_TRAP;
  if (name == "SCMP_ACT_TRACE") return SCMP_ACT_TRACE(errno_ret);
  if (name == "SCMP_ACT_LOG") return SCMP_ACT_LOG;
  if (name == "SCMP_ACT_NOTIFY") return SCMP_ACT_NOTIFY;
  fail("unknown action " + name);
}

int errno_ret(const json& object, const char* key) {
  return object.contains(key) && !object[key].is_null() ? object[key].get<int>() : EPERM;
}

scmp_compare compare_op(const std::string& op) {
  static const std::map<std::string, scmp_compare> ops = {
      {"SCMP_CMP_NE", SCMP_CMP_NE},
      {"SCMP_CMP_LT", SCMP_CMP_LT},
      {"SCMP_CMP_LE", SCMP_CMP_LE},
      {"SCMP_CMP_EQ", SCMP_CMP_EQ},
      {"SCMP_CMP_GE", SCMP_CMP_GE},
      {"SCMP_CMP_GT", SCMP_CMP_GT},
      {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ}};
  auto it = ops.find(op);
  if (it == ops.end()) fail("unknown comparison " + op);
  return it->second;
}

std::vector<scmp_arg_cmp> conditions(const json& entry) {
  std::vector<scmp_arg_cmp> out;
  if (!entry.contains("args") || entry["args"].is_null()) return out;
  for (const auto& a : entry["args"]) {
    auto index = a.at("index").get<unsigned>();
    if (index >= kMaxArgs) fail("argument index out of range");
    scmp_arg_cmp c{};
    c.arg = index;
    c.op = compare_op(a.at("op").get<std::string>());
    c.datum_a = a.at("value").get<uint64_t>();
    c.datum_b = a.contains("valueTwo") ? a["valueTwo"].get<uint64_t>() : 0;
    out.push_back(c);
  }
  return out;
}

// The rules for one name, as runc adds them; returns how many were added.
int add_rules(scmp_filter_ctx ctx, uint32_t act, int nr, const std::string& name,
              const std::vector<scmp_arg_cmp>& conds) {
  std::array<int, kMaxArgs> per_arg{};
  for (const auto& c : conds) per_arg[c.arg]++;
  bool repeated = std::any_of(per_arg.begin(), per_arg.end(), [](int n) { return n > 1; });
  if (!repeated) {
    check(seccomp_rule_add_array(ctx, act, nr, conds.size(), conds.data()), "rule for " + name);
    return 1;
  }
  for (const auto& c : conds)
    check(seccomp_rule_add_array(ctx, act, nr, 1, &c), "rule for " + name);
  return static_cast<int>(conds.size());
}

void add_architectures(scmp_filter_ctx ctx, const json& profile) {
  std::vector<std::string> arches;
  for (const auto& a : strings(profile, "architectures")) arches.push_back(a);
  if (profile.contains("archMap"))
    for (const auto& m : profile["archMap"])
      if (m.at("architecture") == kHostSeccompArch) {
        arches.push_back(m["architecture"].get<std::string>());
        for (const auto& s : strings(m, "subArchitectures")) arches.push_back(s);
      }
  for (auto name : arches) {
    // "SCMP_ARCH_X86_64" -> "x86_64", the spelling libseccomp resolves.
    if (name.rfind("SCMP_ARCH_", 0) == 0) name = name.substr(10);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char ch) { return std::tolower(ch); });
    uint32_t token = seccomp_arch_resolve_name(name.c_str());
    if (token == 0) fail("unknown architecture " + name);
    int rc = seccomp_arch_add(ctx, token);
    if (rc != -EEXIST) check(rc, "add architecture " + name);  // the native one is already there
  }
}

Counts add_syscalls(scmp_filter_ctx ctx, const json& profile,
                    const std::vector<std::string>& caps) {
  Counts n;
  for (const auto& entry : profile.at("syscalls")) {
    if (!entry_applies(entry, caps)) {
      n.entries_skipped++;
      continue;
    }
    n.entries_used++;
    uint32_t act = action(entry.at("action").get<std::string>(), errno_ret(entry, "errnoRet"));
    auto conds = conditions(entry);
    auto names = strings(entry, "names");
    if (entry.contains("name")) names.push_back(entry["name"].get<std::string>());
    for (const auto& name : names) {
      int nr = seccomp_syscall_resolve_name(name.c_str());
      if (nr == __NR_SCMP_ERROR) {
        n.unknown_names++;
        continue;
      }
      n.rules += add_rules(ctx, act, nr, name, conds);
    }
  }
  return n;
}

void write_with(const std::string& path, int (*exporter)(const scmp_filter_ctx, int),
                scmp_filter_ctx ctx) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail("cannot write " + path + ": " + std::strerror(errno));
  int rc = exporter(ctx, fd);
  close(fd);
  check(rc, "export to " + path);
}

Options parse_args(int argc, char** argv) {
  Options o;
  std::vector<std::string> positional;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (a == "--cap" && i + 1 < argc) {
      o.caps.push_back(argv[++i]);
    } else if (a == "--pfc" && i + 1 < argc) {
      o.pfc = argv[++i];
    } else if (a == "--binary-tree") {
      o.binary_tree = true;
    } else if (a.rfind("--", 0) == 0) {
      fail("unknown option " + a);
    } else {
      positional.push_back(a);
    }
  }
  if (positional.size() != 2)
    fail(
        "usage: docker_to_bpf PROFILE.json OUT.bpf [--cap CAP_NAME]... [--pfc OUT.pfc] "
        "[--binary-tree]");
  o.profile = positional[0];
  o.out = positional[1];
  return o;
}

int run(const Options& o) {
  std::ifstream in(o.profile);
  if (!in) fail("cannot read " + o.profile);
  json profile = json::parse(in);

  uint32_t default_action =
      action(profile.at("defaultAction").get<std::string>(), errno_ret(profile, "defaultErrnoRet"));
  scmp_filter_ctx ctx = seccomp_init(default_action);
  if (ctx == nullptr) fail("seccomp_init failed");
  try {
    if (o.binary_tree)
      check(seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2), "ask for the binary tree");
    add_architectures(ctx, profile);
    Counts n = add_syscalls(ctx, profile, o.caps);
    write_with(o.out, seccomp_export_bpf, ctx);
    if (!o.pfc.empty()) write_with(o.pfc, seccomp_export_pfc, ctx);
    struct stat st {};
    stat(o.out.c_str(), &st);
    std::printf(
        "docker_to_bpf: %d rules added from %d entries (%d entries skipped by arch/caps/kernel, "
        "%d names unknown to libseccomp); %lld BPF instructions in %s\n",
        n.rules, n.entries_used, n.entries_skipped, n.unknown_names,
        static_cast<long long>(st.st_size) / 8, o.out.c_str());
  } catch (...) {
    seccomp_release(ctx);
    throw;
  }
  seccomp_release(ctx);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parse_args(argc, argv));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "docker_to_bpf: %s\n", e.what());
    return 1;
  }
}
