#include "policy/parser.h"

#include <fmt/format.h>
#include <sys/capability.h>
#include <sys/stat.h>
#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <set>
#include <sstream>

#include "base/text.h"
#include "policy/catalog.h"
#include "sys/syscall_table.h"

namespace least::policy {

namespace {

Origin origin_of(const toml::node& node, const std::string& file) {
  const auto& src = node.source();
  return Origin{file, src.begin.line, src.begin.column, {}};
}

std::string quoted(std::string_view s) {
  return fmt::format("\"{}\"", s);
}

std::string did_you_mean(std::string_view word, std::span<const std::string_view> candidates) {
  if (auto m = closest_match(word, candidates)) return fmt::format("did you mean \"{}\"?", *m);
  return {};
}

// Reads one table, reporting keys it does not know.
class TableReader {
 public:
  TableReader(const toml::table& table, std::string section, const std::string& file,
              Diagnostics& diags)
      : table_(table), section_(std::move(section)), file_(file), diags_(diags) {}

  void check_keys(std::span<const std::string_view> known) {
    for (const auto& [key, node] : table_) {
      std::string_view k = key.str();
      if (std::find(known.begin(), known.end(), k) != known.end()) continue;
      std::string where = section_.empty() ? "at the top level" : fmt::format("in [{}]", section_);
      std::string hint = did_you_mean(k, known);
      if (hint.empty()) {
        std::vector<std::string> names(known.begin(), known.end());
        hint = "expected one of: " + join(names, ", ");
      }
      diags_.error(origin_of(node, file_), fmt::format("unknown key {} {}", quoted(k), where),
                   hint);
    }
  }

  // An array of strings; a single string is accepted as a one-element array.
  std::vector<Located<std::string>> strings(std::string_view key) {
    std::vector<Located<std::string>> out;
    const toml::node* node = table_.get(key);
    if (!node) return out;
    if (auto s = node->as_string()) {
      out.push_back({s->get(), origin_of(*node, file_)});
      return out;
    }
    const toml::array* arr = node->as_array();
    if (!arr) {
      type_error(*node, key, "an array of strings");
      return out;
    }
    for (const auto& item : *arr) {
      if (auto s = item.as_string())
        out.push_back({s->get(), origin_of(item, file_)});
      else
        type_error(item, key, "a string");
    }
    return out;
  }

  // A count ("processes = 64") or a size ("memory = \"256M\"").
  std::optional<Located<uint64_t>> number(std::string_view key, bool size) {
    const toml::node* node = table_.get(key);
    if (!node) return std::nullopt;
    Origin where = origin_of(*node, file_);
    if (auto i = node->as_integer()) {
      if (i->get() < 0) {
        diags_.error(where, fmt::format("{} must not be negative", key));
        return std::nullopt;
      }
      return Located<uint64_t>{static_cast<uint64_t>(i->get()), where};
    }
    if (auto s = node->as_string(); s && size) {
      if (auto bytes = parse_size(s->get())) return Located<uint64_t>{*bytes, where};
      diags_.error(where, fmt::format("{} {} is not a size", key, quoted(s->get())),
                   "write a number of bytes with an optional unit: \"512K\", \"256M\", \"2G\"");
      return std::nullopt;
    }
    type_error(*node, key, size ? "a number or a size such as \"256M\"" : "a whole number");
    return std::nullopt;
  }

  std::optional<Located<bool>> boolean(std::string_view key) {
    const toml::node* node = table_.get(key);
    if (!node) return std::nullopt;
    if (auto b = node->as_boolean()) return Located<bool>{b->get(), origin_of(*node, file_)};
    type_error(*node, key, "true or false");
    return std::nullopt;
  }

  const toml::table* subtable(std::string_view key) {
    const toml::node* node = table_.get(key);
    if (!node) return nullptr;
    if (auto t = node->as_table()) return t;
    type_error(*node, key, fmt::format("a table ([{}])", key));
    return nullptr;
  }

  const toml::node* node(std::string_view key) { return table_.get(key); }

  void type_error(const toml::node& node, std::string_view key, std::string_view expected) {
    std::string name = section_.empty() ? std::string(key) : fmt::format("{}.{}", section_, key);
    diags_.error(origin_of(node, file_),
                 fmt::format("{} must be {}, not {}", name, expected, type_name(node.type())));
  }

 private:
  static std::string_view type_name(toml::node_type t) {
    switch (t) {
      case toml::node_type::table:
        return "a table";
      case toml::node_type::array:
        return "an array";
      case toml::node_type::string:
        return "a string";
      case toml::node_type::integer:
        return "an integer";
      case toml::node_type::floating_point:
        return "a floating-point number";
      case toml::node_type::boolean:
        return "a boolean";
      default:
        return "a date or time";
    }
  }

  const toml::table& table_;
  std::string section_;
  const std::string& file_;
  Diagnostics& diags_;
};

constexpr std::array<std::string_view, 6> kTopKeys = {"promises", "filesystem", "network",
                                                      "limits",   "isolation",  "syscalls"};
constexpr std::array<std::string_view, 4> kFilesystemKeys = {"read", "write", "create", "exec"};
constexpr std::array<std::string_view, 2> kNetworkKeys = {"connect", "bind"};
constexpr std::array<std::string_view, 6> kLimitsKeys = {"processes", "memory", "open_files",
                                                         "core",      "stack",  "cpu_seconds"};
constexpr std::array<std::string_view, 2> kIsolationKeys = {"capabilities", "private_tmp"};
constexpr std::array<std::string_view, 2> kSyscallsKeys = {"allow", "deny"};

void read_deny(TableReader& syscalls, const std::string& file, Policy& policy, Diagnostics& diags) {
  const toml::node* node = syscalls.node("deny");
  if (!node) return;
  auto add = [&](const toml::node& name_node, std::string name, const toml::node* action_node) {
    SyscallDeny d;
    d.name = {std::move(name), origin_of(name_node, file)};
    d.action.origin = d.name.origin;
    if (action_node) {
      d.action.origin = origin_of(*action_node, file);
      auto text = action_node->value<std::string>();
      auto action = text ? parse_deny_action(*text) : std::nullopt;
      if (!action) {
        diags.error(d.action.origin, "a deny action must be \"kill\" or an errno name",
                    "for example \"EPERM\", \"EACCES\" or \"kill\"");
        return;
      }
      d.action.value = *action;
    }
    policy.syscalls.deny.push_back(std::move(d));
  };
  if (auto table = node->as_table()) {  // deny = { ptrace = "kill" }
    for (const auto& [key, value] : *table) add(value, std::string(key.str()), &value);
    return;
  }
  if (auto arr = node->as_array()) {  // deny = ["ptrace"]
    for (const auto& item : *arr) {
      if (auto s = item.as_string())
        add(item, s->get(), nullptr);
      else
        syscalls.type_error(item, "deny", "a syscall name");
    }
    return;
  }
  syscalls.type_error(*node, "deny", "an array of syscall names or a table of name = action");
}

}  // namespace

std::optional<Policy> parse_policy_text(std::string_view text, const std::string& file,
                                        Diagnostics& diags) {
  diags.add_source(file, std::string(text));
  toml::table root;
  try {
    root = toml::parse(text, file);
  } catch (const toml::parse_error& e) {
    const auto& src = e.source();
    diags.error(Origin{file, src.begin.line, src.begin.column, {}},
                fmt::format("invalid TOML: {}", e.description()));
    return std::nullopt;
  }

  const size_t errors_before = diags.all().size();
  Policy policy;
  TableReader top(root, "", file, diags);
  top.check_keys(kTopKeys);
  policy.promises = top.strings("promises");
  if (const toml::node* n = top.node("promises")) {
    policy.promises_declared = true;
    policy.promises_origin = origin_of(*n, file);
  }
  // `promises = "stdio rpath"` reads naturally too: split a single string.
  if (policy.promises.size() == 1 && policy.promises[0].value.find(' ') != std::string::npos) {
    Origin where = policy.promises[0].origin;
    std::vector<Located<std::string>> split;
    for (auto& w : split_words(policy.promises[0].value)) split.push_back({w, where});
    policy.promises = std::move(split);
  }

  if (auto t = top.subtable("filesystem")) {
    TableReader r(*t, "filesystem", file, diags);
    r.check_keys(kFilesystemKeys);
    policy.filesystem.read = r.strings("read");
    policy.filesystem.write = r.strings("write");
    policy.filesystem.create = r.strings("create");
    policy.filesystem.exec = r.strings("exec");
  }
  if (auto t = top.subtable("network")) {
    TableReader r(*t, "network", file, diags);
    r.check_keys(kNetworkKeys);
    policy.network.connect = r.strings("connect");
    policy.network.bind = r.strings("bind");
  }
  if (auto t = top.subtable("limits")) {
    TableReader r(*t, "limits", file, diags);
    r.check_keys(kLimitsKeys);
    policy.limits.processes = r.number("processes", false);
    policy.limits.memory = r.number("memory", true);
    policy.limits.open_files = r.number("open_files", false);
    policy.limits.core = r.number("core", true);
    policy.limits.stack = r.number("stack", true);
    policy.limits.cpu_seconds = r.number("cpu_seconds", false);
  }
  if (auto t = top.subtable("isolation")) {
    TableReader r(*t, "isolation", file, diags);
    r.check_keys(kIsolationKeys);
    policy.isolation.capabilities = r.strings("capabilities");
    policy.isolation.private_tmp = r.boolean("private_tmp");
  }
  if (auto t = top.subtable("syscalls")) {
    TableReader r(*t, "syscalls", file, diags);
    r.check_keys(kSyscallsKeys);
    policy.syscalls.allow = r.strings("allow");
    read_deny(r, file, policy, diags);
  }

  for (size_t i = errors_before; i < diags.all().size(); ++i)
    if (diags.all()[i].severity == Diagnostic::Severity::kError) return std::nullopt;
  return policy;
}

std::optional<Policy> load_policy_file(const std::string& path, Diagnostics& diags) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int err = errno;
    diags.error(Origin{path, 0, 0, {}}, fmt::format("cannot read the policy: {}", strerror(err)));
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse_policy_text(text.str(), path, diags);
}

std::optional<uint64_t> parse_size(std::string_view text) {
  if (text.empty()) return std::nullopt;
  uint64_t value = 0;
  size_t i = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    if (value > (UINT64_MAX - 9) / 10) return std::nullopt;
    value = value * 10 + static_cast<uint64_t>(text[i] - '0');
  }
  if (i == 0) return std::nullopt;
  std::string unit(text.substr(i));
  if (!unit.empty() && unit.back() == 'B') unit.pop_back();  // "256MB"
  if (unit.size() == 2 && unit[1] == 'i') unit.pop_back();   // "256Mi"
  unsigned shift = 0;
  if (unit.empty())
    shift = 0;
  else if (unit == "K" || unit == "k")
    shift = 10;
  else if (unit == "M")
    shift = 20;
  else if (unit == "G")
    shift = 30;
  else if (unit == "T")
    shift = 40;
  else
    return std::nullopt;
  if (shift && value > (UINT64_MAX >> shift)) return std::nullopt;
  return value << shift;
}

std::optional<Endpoint> parse_endpoint(std::string_view text) {
  auto colon = text.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  Endpoint e;
  e.protocol = std::string(text.substr(0, colon));
  if (e.protocol != "tcp" && e.protocol != "udp") return std::nullopt;
  std::string_view port = text.substr(colon + 1);
  if (port.empty() || port.size() > 5) return std::nullopt;
  unsigned value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value == 0 || value > 65535) return std::nullopt;
  e.port = static_cast<uint16_t>(value);
  return e;
}

std::optional<DenyAction> parse_deny_action(std::string_view text) {
  if (text == "kill") return DenyAction{DenyAction::Kind::kKill, 0};
  if (auto e = errno_from_name(text)) return DenyAction{DenyAction::Kind::kErrno, *e};
  return std::nullopt;
}

namespace {

std::vector<std::string_view> views(const std::vector<std::string>& v) {
  return {v.begin(), v.end()};
}

void validate_promises(const Policy& policy, Diagnostics& diags) {
  auto names = promise_names();
  for (const auto& p : policy.promises) {
    if (find_promise(p.value)) continue;
    std::string hint = did_you_mean(p.value, names);
    if (hint.empty()) hint = "`least promises` lists them all";
    diags.error(p.origin, fmt::format("unknown promise {}", quoted(p.value)), hint);
  }
}

void check_syscall_name(const Located<std::string>& s, Diagnostics& diags) {
  if (sys::syscall_known(s.value)) return;
  std::string hint = did_you_mean(s.value, views(sys::all_syscall_names()));
  diags.error(s.origin, fmt::format("unknown syscall {}", quoted(s.value)), hint);
}

void validate_syscalls(const Policy& policy, Diagnostics& diags) {
  std::set<std::string> allowed;
  for (const auto& s : policy.syscalls.allow) {
    check_syscall_name(s, diags);
    allowed.insert(s.value);
  }
  for (const auto& d : policy.syscalls.deny) {
    check_syscall_name(d.name, diags);
    if (allowed.count(d.name.value)) {
      diags.error(d.name.origin,
                  fmt::format("syscall {} is both allowed and denied", quoted(d.name.value)),
                  "remove it from [syscalls] allow or from [syscalls] deny");
    }
  }
}

void validate_path(const Located<std::string>& p, std::string_view kind, bool check_exists,
                   Diagnostics& diags) {
  if (p.value.empty() || p.value[0] != '/') {
    diags.error(p.origin, fmt::format("{} path {} is not absolute", kind, quoted(p.value)),
                fmt::format("paths are not resolved against any directory; write \"/{}\"",
                            p.value.empty() ? "..." : p.value));
    return;
  }
  struct stat st;
  if (check_exists && ::stat(p.value.c_str(), &st) != 0) {
    diags.error(p.origin, fmt::format("{} path {} does not exist", kind, quoted(p.value)),
                "rules attach to existing files and directories: create it first, or name "
                "its parent directory");
  }
}

void validate_filesystem(const Policy& policy, Diagnostics& diags, bool check_exists) {
  const auto& fs = policy.filesystem;
  for (const auto& p : fs.read) validate_path(p, "read", check_exists, diags);
  for (const auto& p : fs.write) validate_path(p, "write", check_exists, diags);
  for (const auto& p : fs.create) validate_path(p, "create", check_exists, diags);
  for (const auto& p : fs.exec) validate_path(p, "exec", check_exists, diags);
}

bool has_promise(const Policy& policy, std::string_view name) {
  for (const auto& p : policy.promises)
    if (p.value == name) return true;
  return false;
}

void validate_network(const Policy& policy, Diagnostics& diags) {
  auto check = [&](const Located<std::string>& e) {
    if (!parse_endpoint(e.value))
      diags.error(e.origin, fmt::format("network endpoint {} is not valid", quoted(e.value)),
                  "write \"tcp:PORT\" or \"udp:PORT\", for example \"tcp:443\"");
  };
  for (const auto& e : policy.network.connect) check(e);
  for (const auto& e : policy.network.bind) check(e);
  bool any = !policy.network.connect.empty() || !policy.network.bind.empty();
  if (any && !has_promise(policy, "inet")) {
    const auto& first =
        policy.network.connect.empty() ? policy.network.bind[0] : policy.network.connect[0];
    diags.error(first.origin, "[network] endpoints need the promise \"inet\"",
                "add \"inet\" to promises; without it no TCP or UDP socket can be made");
  }
}

void validate_isolation(const Policy& policy, Diagnostics& diags) {
  for (const auto& c : policy.isolation.capabilities) {
    cap_value_t value;
    if (cap_from_name(c.value.c_str(), &value) == 0) continue;
    std::vector<std::string> names;
    for (cap_value_t v = 0; v <= CAP_LAST_CAP; ++v) {
      char* n = cap_to_name(v);
      if (!n) continue;
      std::string upper(n);
      for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      names.push_back(upper);
      cap_free(n);
    }
    diags.error(c.origin, fmt::format("unknown capability {}", quoted(c.value)),
                did_you_mean(c.value, views(names)));
  }
}

}  // namespace

void validate_policy(const Policy& policy, Diagnostics& diags, const ValidateOptions& options) {
  if (policy.promises_declared && policy.promises.empty() && policy.syscalls.allow.empty())
    diags.warning(policy.promises_origin,
                  "the policy makes no promises: the program may not even write or exit",
                  "add promises, at least \"stdio\"");
  validate_promises(policy, diags);
  validate_syscalls(policy, diags);
  validate_filesystem(policy, diags, options.check_paths_exist);
  validate_network(policy, diags);
  validate_isolation(policy, diags);
}

}  // namespace least::policy
