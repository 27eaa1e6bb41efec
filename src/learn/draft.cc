#include "learn/draft.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include "base/text.h"
#include "policy/catalog.h"

namespace least::learn {

namespace {

// TOML basic string: quotes, backslashes and control characters escaped.
std::string toml_string(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      out += fmt::format("\\u{:04x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

// A comment stays on its line.
std::string one_line(std::string_view s) {
  std::string out;
  for (char c : s) out += (c == '\n' || c == '\r') ? ' ' : c;
  return out;
}

std::string with_comment(const std::string& code, const std::string& comment, size_t column) {
  if (comment.empty()) return code;
  std::string line = code;
  if (line.size() < column) line.append(column - line.size(), ' ');
  return line + "  # " + one_line(comment);
}

// `key = [` one entry per line, comments aligned, `]`.
void render_list(std::ostringstream& out, const char* key, const std::vector<std::string>& code,
                 const std::vector<std::string>& comments) {
  if (code.empty()) return;
  size_t column = 0;
  for (const auto& c : code) column = std::max(column, c.size() + 3);
  out << key << " = [\n";
  for (size_t i = 0; i < code.size(); ++i)
    out << with_comment("  " + code[i] + ",", comments[i], column) << "\n";
  out << "]\n";
}

void render_entries(std::ostringstream& out, const char* key, const std::vector<Entry>& list) {
  std::vector<std::string> code, comments;
  for (const auto& e : list) {
    code.push_back(toml_string(e.value));
    comments.push_back(e.comment);
  }
  render_list(out, key, code, comments);
}

// `key = value` lines with their comments aligned.
void render_limits(
    std::ostringstream& out,
    std::initializer_list<std::pair<const char*, const std::optional<LimitEntry>*>> limits) {
  std::vector<std::pair<std::string, std::string>> lines;
  size_t column = 0;
  for (const auto& [key, l] : limits) {
    if (!*l) continue;
    lines.push_back({fmt::format("{} = {}", key, (*l)->value), (*l)->comment});
    column = std::max(column, lines.back().first.size());
  }
  for (const auto& [code, comment] : lines) out << with_comment(code, comment, column) << "\n";
}

// The comment at the end of source line `line` (1-based), if that line
// holds nothing but one entry; '#' inside strings is no comment.
class SourceComments {
 public:
  explicit SourceComments(const std::string& text) {
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) lines_.push_back(line);
  }
  void count(const policy::Origin& o) { ++entries_on_line_[o.line]; }
  std::string at(const policy::Origin& o) const {
    if (o.line == 0 || o.line > lines_.size()) return {};
    auto n = entries_on_line_.find(o.line);
    if (n != entries_on_line_.end() && n->second > 1) return {};
    return comment_of(lines_[o.line - 1]);
  }
  std::vector<std::string> leading_comments() const {
    std::vector<std::string> out;
    for (const auto& l : lines_) {
      if (l.rfind("#", 0) != 0) break;
      std::string c = l.substr(1);
      if (!c.empty() && c[0] == ' ') c.erase(0, 1);
      out.push_back(c);
    }
    return out;
  }

 private:
  static std::string comment_of(const std::string& line) {
    char quote = 0;
    for (size_t i = 0; i < line.size(); ++i) {
      char c = line[i];
      if (quote) {
        if (c == '\\' && quote == '"')
          ++i;
        else if (c == quote)
          quote = 0;
      } else if (c == '"' || c == '\'') {
        quote = c;
      } else if (c == '#') {
        std::string rest = line.substr(i + 1);
        size_t start = rest.find_first_not_of(' ');
        return start == std::string::npos ? std::string() : rest.substr(start);
      }
    }
    return {};
  }
  std::vector<std::string> lines_;
  std::map<uint32_t, int> entries_on_line_;
};

// Strictly beneath: an entry does not cover itself.
bool beneath(const std::string& path, const std::string& dir) {
  return path != dir && path_beneath(path, dir);
}

void unite(std::vector<Entry>& into, const std::vector<Entry>& other) {
  for (const auto& e : other) {
    auto same =
        std::find_if(into.begin(), into.end(), [&](const Entry& x) { return x.value == e.value; });
    if (same == into.end())
      into.push_back(e);
    else if (same->comment.empty())
      same->comment = e.comment;
  }
}

void larger(std::optional<LimitEntry>& into, const std::optional<LimitEntry>& other) {
  if (other && (!into || other->value > into->value)) into = other;
}

}  // namespace

void drop_covered_paths(Draft& d) {
  auto covered_by = [](const std::string& path, const std::vector<Entry>& list) {
    return std::any_of(list.begin(), list.end(),
                       [&](const Entry& e) { return beneath(path, e.value); });
  };
  auto prune = [&](std::vector<Entry>& list, std::vector<const std::vector<Entry>*> stronger) {
    std::erase_if(list, [&](const Entry& e) {
      if (covered_by(e.value, list)) return true;
      for (const auto* s : stronger)
        if (covered_by(e.value, *s) ||
            std::any_of(s->begin(), s->end(), [&](const Entry& x) { return x.value == e.value; }))
          return true;
      return false;
    });
  };
  prune(d.create, {});
  prune(d.write, {&d.create});
  prune(d.exec, {});
  prune(d.read, {&d.create, &d.write, &d.exec});
}

std::string render_toml(const Draft& d) {
  std::ostringstream out;
  for (const auto& h : d.header) out << (h.empty() ? "#" : "# " + one_line(h)) << "\n";
  {
    std::vector<std::string> code, comments;
    for (const auto& p : d.promises) {
      code.push_back(toml_string(p.value));
      comments.push_back(p.comment);
    }
    if (code.empty())
      out << "promises = []\n";
    else
      render_list(out, "promises", code, comments);
  }
  if (!d.read.empty() || !d.write.empty() || !d.create.empty() || !d.exec.empty()) {
    out << "\n[filesystem]\n";
    render_entries(out, "read", d.read);
    render_entries(out, "write", d.write);
    render_entries(out, "create", d.create);
    render_entries(out, "exec", d.exec);
  }
  if (!d.connect.empty() || !d.bind.empty()) {
    out << "\n[network]\n";
    render_entries(out, "connect", d.connect);
    render_entries(out, "bind", d.bind);
  }
  if (d.processes || d.memory || d.open_files || d.core || d.stack || d.cpu_seconds) {
    out << "\n[limits]\n";
    render_limits(out, {{"processes", &d.processes},
                        {"memory", &d.memory},
                        {"open_files", &d.open_files},
                        {"core", &d.core},
                        {"stack", &d.stack},
                        {"cpu_seconds", &d.cpu_seconds}});
  }
  if (!d.capabilities.empty() || d.private_tmp) {
    out << "\n[isolation]\n";
    render_entries(out, "capabilities", d.capabilities);
    if (d.private_tmp) out << "private_tmp = " << (*d.private_tmp ? "true" : "false") << "\n";
  }
  if (!d.allow.empty() || !d.allow_when.empty() || !d.deny.empty()) {
    out << "\n[syscalls]\n";
    std::vector<std::string> code, comments;
    for (const auto& a : d.allow) {
      code.push_back(toml_string(a.value));
      comments.push_back(a.comment);
    }
    for (const auto& a : d.allow_when) {
      std::string when;
      if (a.when.size() == 1) {
        when = toml_string(a.when[0]);
      } else {
        std::vector<std::string> quoted;
        for (const auto& w : a.when) quoted.push_back(toml_string(w));
        when = "[" + join(quoted, ", ") + "]";
      }
      code.push_back(fmt::format("{{ name = {}, when = {} }}", toml_string(a.name), when));
      comments.push_back(a.comment);
    }
    render_list(out, "allow", code, comments);
    if (!d.deny.empty()) {
      out << "\n[syscalls.deny]\n";
      for (const auto& x : d.deny)
        out << with_comment(fmt::format("{} = {}", x.name, toml_string(x.action)), x.comment, 0)
            << "\n";
    }
  }
  return out.str();
}

Draft from_policy(const policy::Policy& p, const std::string& text) {
  SourceComments source(text);
  auto count_all = [&](const std::vector<policy::Located<std::string>>& list) {
    for (const auto& e : list) source.count(e.origin);
  };
  count_all(p.promises);
  count_all(p.filesystem.read);
  count_all(p.filesystem.write);
  count_all(p.filesystem.create);
  count_all(p.filesystem.exec);
  count_all(p.network.connect);
  count_all(p.network.bind);
  count_all(p.isolation.capabilities);
  count_all(p.syscalls.allow);
  for (const auto& a : p.syscalls.allow_when) source.count(a.name.origin);
  for (const auto& x : p.syscalls.deny) source.count(x.name.origin);

  auto entries = [&](const std::vector<policy::Located<std::string>>& list) {
    std::vector<Entry> out;
    for (const auto& e : list) out.push_back({e.value, source.at(e.origin)});
    return out;
  };
  auto limit = [&](const std::optional<policy::Located<uint64_t>>& l) {
    std::optional<LimitEntry> out;
    if (l) out = LimitEntry{l->value, source.at(l->origin)};
    return out;
  };
  Draft d;
  d.header = source.leading_comments();
  if (p.promises_declared) {
    d.promises = entries(p.promises);
  } else {
    // No promises written means the default ones: say them, so the merged
    // file means what this one meant.
    for (const auto& name : policy::default_promises())
      d.promises.push_back({name, "the default promises (the policy named none)"});
  }
  d.read = entries(p.filesystem.read);
  d.write = entries(p.filesystem.write);
  d.create = entries(p.filesystem.create);
  d.exec = entries(p.filesystem.exec);
  d.connect = entries(p.network.connect);
  d.bind = entries(p.network.bind);
  d.processes = limit(p.limits.processes);
  d.memory = limit(p.limits.memory);
  d.open_files = limit(p.limits.open_files);
  d.core = limit(p.limits.core);
  d.stack = limit(p.limits.stack);
  d.cpu_seconds = limit(p.limits.cpu_seconds);
  d.capabilities = entries(p.isolation.capabilities);
  if (p.isolation.private_tmp) d.private_tmp = p.isolation.private_tmp->value;
  d.allow = entries(p.syscalls.allow);
  for (const auto& a : p.syscalls.allow_when) {
    ConditionalEntry c{a.name.value, {}, source.at(a.name.origin)};
    for (const auto& w : a.when) c.when.push_back(w.value);
    d.allow_when.push_back(std::move(c));
  }
  for (const auto& x : p.syscalls.deny) {
    const auto& a = x.action.value;
    std::string action =
        a.kind == policy::DenyAction::Kind::kKill ? "kill" : errno_name(a.errno_value);
    d.deny.push_back({x.name.value, action, source.at(x.name.origin)});
  }
  return d;
}

void merge_draft(Draft& into, const Draft& other) {
  for (const auto& h : other.header)
    if (std::find(into.header.begin(), into.header.end(), h) == into.header.end())
      into.header.push_back(h);
  unite(into.promises, other.promises);
  // Catalog order, as `least explain` shows them.
  auto rank = [](const std::string& name) {
    auto names = policy::promise_names();
    auto it = std::find(names.begin(), names.end(), name);
    return static_cast<size_t>(it - names.begin());
  };
  std::stable_sort(into.promises.begin(), into.promises.end(),
                   [&](const Entry& a, const Entry& b) { return rank(a.value) < rank(b.value); });
  unite(into.read, other.read);
  unite(into.write, other.write);
  unite(into.create, other.create);
  unite(into.exec, other.exec);
  drop_covered_paths(into);
  unite(into.connect, other.connect);
  unite(into.bind, other.bind);
  larger(into.processes, other.processes);
  larger(into.memory, other.memory);
  larger(into.open_files, other.open_files);
  larger(into.core, other.core);
  larger(into.stack, other.stack);
  larger(into.cpu_seconds, other.cpu_seconds);
  unite(into.capabilities, other.capabilities);
  if (other.private_tmp && (!into.private_tmp || !*other.private_tmp))
    into.private_tmp = other.private_tmp;  // either run may need the shared /tmp
  unite(into.allow, other.allow);
  for (const auto& c : other.allow_when) {
    auto same = std::find_if(into.allow_when.begin(), into.allow_when.end(),
                             [&](const ConditionalEntry& x) { return x.name == c.name; });
    if (same == into.allow_when.end()) {
      into.allow_when.push_back(c);
      continue;
    }
    for (const auto& w : c.when)
      if (std::find(same->when.begin(), same->when.end(), w) == same->when.end())
        same->when.push_back(w);
  }
  // Allowed outright by one side: no condition is needed any more.
  std::erase_if(into.allow_when, [&](const ConditionalEntry& c) {
    return std::any_of(into.allow.begin(), into.allow.end(),
                       [&](const Entry& a) { return a.value == c.name; });
  });
  // A deny the other side allows would refuse what that run needed: the
  // allow wins, the deny stays only where both sides agree.
  for (const auto& x : other.deny)
    if (std::none_of(into.deny.begin(), into.deny.end(),
                     [&](const DenyEntry& y) { return y.name == x.name; }))
      into.deny.push_back(x);
  std::erase_if(into.deny, [&](const DenyEntry& x) {
    return std::any_of(into.allow.begin(), into.allow.end(),
                       [&](const Entry& a) { return a.value == x.name; }) ||
           std::any_of(into.allow_when.begin(), into.allow_when.end(),
                       [&](const ConditionalEntry& a) { return a.name == x.name; });
  });
}

}  // namespace least::learn
