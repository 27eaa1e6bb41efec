#include "plan/diff.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "base/text.h"

namespace least::plan {

namespace {

// How one syscall is treated: its rule, or the default action.
struct Treatment {
  Action action;
  std::set<std::string> alternatives;  // condition texts; empty: unconditional
};

Treatment treatment(const SeccompPlan& s, const std::string& name) {
  const SyscallRule* r = s.find(name);
  if (!r) return {s.default_action, {}};
  Treatment t{r->action, {}};
  for (const auto& alt : r->alternatives) {
    std::vector<std::string> parts;
    for (const auto& c : alt) parts.push_back(c.text);
    t.alternatives.insert(join(parts, " && "));
  }
  return t;
}

std::string answer(const Action& a) {
  switch (a.kind) {
    case Action::Kind::kAllow:
      return "allowed";
    case Action::Kind::kErrno:
    case Action::Kind::kNotify:
      return errno_name(a.errno_value);
    case Action::Kind::kKillProcess:
      return "kills the process";
  }
  return "?";
}

// A conditional allow falls back to the default action when no
// alternative matches.
std::string describe(const Treatment& t, const Action& fallback) {
  if (t.action.kind != Action::Kind::kAllow) return answer(t.action);
  if (t.alternatives.empty()) return "allowed";
  std::vector<std::string> alts(t.alternatives.begin(), t.alternatives.end());
  return fmt::format("only when {}; else {}", join(alts, " || "), answer(fallback));
}

void diff_seccomp(const Plan& a, const Plan& b, PlanDiff& out) {
  std::set<std::string> names;
  for (const auto* p : {&a, &b})
    for (const auto& r : p->seccomp.rules) names.insert(r.name);
  for (const auto& name : names) {
    Treatment ta = treatment(a.seccomp, name), tb = treatment(b.seccomp, name);
    bool allow_a = ta.action.kind == Action::Kind::kAllow;
    bool allow_b = tb.action.kind == Action::Kind::kAllow;
    auto da = describe(ta, a.seccomp.default_action), db = describe(tb, b.seccomp.default_action);
    if (allow_a && allow_b) {
      if (ta.alternatives == tb.alternatives) continue;
      // Wider is what the other side's conditions do not cover.
      auto wider = [](const Treatment& x, const Treatment& y) {
        if (x.alternatives.empty()) return true;
        if (y.alternatives.empty()) return false;
        return !std::includes(y.alternatives.begin(), y.alternatives.end(), x.alternatives.begin(),
                              x.alternatives.end());
      };
      if (wider(tb, ta)) out.only_b.push_back({"seccomp", name + ": " + db, "A: " + da});
      if (wider(ta, tb)) out.only_a.push_back({"seccomp", name + ": " + da, "B: " + db});
    } else if (allow_b) {
      out.only_b.push_back({"seccomp", name + (db == "allowed" ? "" : ": " + db), "A: " + da});
    } else if (allow_a) {
      out.only_a.push_back({"seccomp", name + (da == "allowed" ? "" : ": " + da), "B: " + db});
    } else if (da != db) {
      out.changed.push_back({"seccomp", name, fmt::format("A: {}, B: {}", da, db)});
    }
  }
  if (answer(a.seccomp.default_action) != answer(b.seccomp.default_action))
    out.changed.push_back({"seccomp", "every other syscall",
                           fmt::format("A: {}, B: {}", answer(a.seccomp.default_action),
                                       answer(b.seccomp.default_action))});
}

std::string rights(uint32_t access) {
  std::vector<std::string> r;
  if (access & kPathRead) r.push_back("read");
  if (access & kPathWrite) r.push_back("write");
  if (access & kPathCreate)
    r.push_back("create");
  else {
    if (access & kPathFifo) r.push_back("create FIFOs");
    if (access & kPathSocket) r.push_back("bind unix sockets");
  }
  if (access & kPathExec) r.push_back("exec");
  return join(r, ", ");
}

// Access granted beneath each path; without [filesystem], what the
// promises do not hold is granted everywhere ("/").
std::map<std::string, uint32_t> grants(const FilesystemPlan& fs) {
  std::map<std::string, uint32_t> g;
  if (!fs.restricted) g["/ (everywhere)"] = kPathAll & ~fs.handled;
  for (const auto& r : fs.rules) g[r.path] |= r.access & fs.handled;
  for (auto it = g.begin(); it != g.end();) it = it->second ? std::next(it) : g.erase(it);
  return g;
}

void diff_filesystem(const Plan& a, const Plan& b, PlanDiff& out) {
  auto ga = grants(a.filesystem), gb = grants(b.filesystem);
  std::set<std::string> paths;
  for (const auto& [p, _] : ga) paths.insert(p);
  for (const auto& [p, _] : gb) paths.insert(p);
  for (const auto& p : paths) {
    uint32_t ra = ga.count(p) ? ga[p] : 0, rb = gb.count(p) ? gb[p] : 0;
    if (uint32_t more = rb & ~ra)
      out.only_b.push_back({"filesystem", fmt::format("{} {}", rights(more), p), ""});
    if (uint32_t more = ra & ~rb)
      out.only_a.push_back({"filesystem", fmt::format("{} {}", rights(more), p), ""});
  }
}

template <class T>
void set_diff(const std::string& layer, const std::vector<T>& va, const std::vector<T>& vb,
              PlanDiff& out) {
  std::set<T> sa(va.begin(), va.end()), sb(vb.begin(), vb.end());
  for (const auto& x : sb)
    if (!sa.count(x)) out.only_b.push_back({layer, x, ""});
  for (const auto& x : sa)
    if (!sb.count(x)) out.only_a.push_back({layer, x, ""});
}

std::vector<std::string> endpoints(const Plan& p) {
  std::vector<std::string> v;
  bool inet = std::find(p.promises.begin(), p.promises.end(), "inet") != p.promises.end();
  if (!inet) return v;
  if (!p.network.tcp_restricted) v.push_back("TCP to and from any port");
  for (const auto& c : p.network.connect)
    v.push_back(fmt::format("connect {}:{}", c.protocol, c.port));
  for (const auto& c : p.network.bind) v.push_back(fmt::format("bind {}:{}", c.protocol, c.port));
  return v;
}

// Limits: a missing limit is unlimited, so B allows more when its value is
// higher or absent.
void diff_limit(const std::string& what, std::optional<uint64_t> a, std::optional<uint64_t> b,
                PlanDiff& out) {
  if (a == b) return;
  auto show = [](std::optional<uint64_t> v) {
    return v ? std::to_string(*v) : std::string("unlimited");
  };
  DiffEntry e{"limits", what, fmt::format("A: {}, B: {}", show(a), show(b))};
  bool b_more = !b || (a && *b > *a);
  (b_more ? out.only_b : out.only_a).push_back(e);
}

void diff_limits(const Plan& a, const Plan& b, PlanDiff& out) {
  std::map<std::string, std::pair<std::optional<uint64_t>, std::optional<uint64_t>>> r;
  for (const auto& l : a.limits.rlimits) r[l.name].first = l.value;
  for (const auto& l : b.limits.rlimits) r[l.name].second = l.value;
  for (const auto& [name, v] : r) diff_limit(name, v.first, v.second, out);
  diff_limit("processes", a.limits.processes, b.limits.processes, out);
  diff_limit("memory", a.limits.memory, b.limits.memory, out);
}

void diff_isolation(const Plan& a, const Plan& b, PlanDiff& out) {
  // Each flag is a restriction: having it allows less.
  auto flag = [&](const char* what, bool ra, bool rb) {
    if (ra == rb) return;
    (ra ? out.only_b : out.only_a).push_back({"isolation", what, ""});
  };
  flag("the host network (no empty network namespace)", a.namespaces.net, b.namespaces.net);
  flag("the host's /tmp (no private /tmp)", a.namespaces.private_tmp, b.namespaces.private_tmp);
  flag("a writable host view (not read-only)", a.namespaces.read_only, b.namespaces.read_only);
  flag("signals out of the sandbox", a.scope.signals, b.scope.signals);
  flag("abstract unix sockets out of the sandbox", a.scope.abstract_unix_sockets,
       b.scope.abstract_unix_sockets);
}

void render_list(std::string& out, const std::vector<DiffEntry>& entries) {
  std::string layer;
  for (const auto& e : entries) {
    if (e.layer != layer) out += fmt::format("  {}:\n", layer = e.layer);
    // Long condition lists read better one alternative per line.
    std::string what = e.what;
    for (auto [from, to] :
         {std::pair<std::string_view, std::string_view>{" || ", "\n        or "},
          std::pair<std::string_view, std::string_view>{"; else ", "\n        else "}})
      for (size_t at = 0; (at = what.find(from, at)) != std::string::npos; at += to.size())
        what.replace(at, from.size(), to);
    out += fmt::format("    {}{}\n", what, e.detail.empty() ? "" : "  (" + e.detail + ")");
  }
}

nlohmann::json entries_json(const std::vector<DiffEntry>& entries) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& e : entries) {
    nlohmann::json j = {{"layer", e.layer}, {"what", e.what}};
    if (!e.detail.empty()) j["detail"] = e.detail;
    a.push_back(std::move(j));
  }
  return a;
}

}  // namespace

PlanDiff diff_plans(const Plan& a, const Plan& b) {
  PlanDiff out;
  set_diff("promises", a.promises, b.promises, out);
  diff_seccomp(a, b, out);
  diff_filesystem(a, b, out);
  set_diff("network", endpoints(a), endpoints(b), out);
  set_diff("capabilities", a.capabilities, b.capabilities, out);
  diff_limits(a, b, out);
  diff_isolation(a, b, out);
  return out;
}

std::string render_diff(const PlanDiff& d, const std::string& name_a, const std::string& name_b) {
  std::string out = fmt::format("A: {}\nB: {}\n", name_a, name_b);
  if (d.empty()) return out + "\nThe two policies allow the same on every layer.\n";
  if (!d.only_b.empty()) {
    out += "\nOnly B allows (A refuses):\n";
    render_list(out, d.only_b);
  }
  if (!d.only_a.empty()) {
    out += "\nOnly A allows (B refuses):\n";
    render_list(out, d.only_a);
  }
  if (!d.changed.empty()) {
    out += "\nBoth refuse, with different answers:\n";
    render_list(out, d.changed);
  }
  return out;
}

nlohmann::json diff_json(const PlanDiff& d, const std::string& name_a, const std::string& name_b) {
  return {{"a", name_a},
          {"b", name_b},
          {"same", d.empty()},
          {"only_b", entries_json(d.only_b)},
          {"only_a", entries_json(d.only_a)},
          {"changed", entries_json(d.changed)}};
}

}  // namespace least::plan
