#include "learn/promise_cover.h"

#include <fmt/format.h>
#include <sched.h>

#include <algorithm>
#include <map>
#include <set>

#include "base/text.h"
#include "policy/catalog.h"
#include "policy/syscall_condition.h"

namespace least::learn {

namespace {

// One call shape to cover: a syscall with one value per argument the
// catalog tells apart.
struct Unit {
  std::string syscall;
  std::map<uint8_t, uint64_t> values;
  uint64_t calls = 0;  // of the syscall (for comments)
};

// Beyond this many value combinations a syscall is allowed by name.
constexpr size_t kMaxCombinations = 4096;
// Beyond this many uncovered combinations, a conditional allow would be
// unreadable: the syscall is allowed by name.
constexpr size_t kMaxConditions = 8;

// The initial execve is the launcher's: `least run` lets it through without
// the exec promise.
bool only_the_initial_exec(const std::string& name, const SyscallUse& use) {
  return name == "execve" && use.count <= 1;
}

// Every combination of the values seen, argument by argument. The recording
// keeps values per argument, so this over-approximates what was seen
// together: sound for coverage, at worst a promise more.
std::vector<std::map<uint8_t, uint64_t>> combinations(const SyscallUse& use, bool& too_many) {
  std::vector<std::map<uint8_t, uint64_t>> out{{}};
  too_many = false;
  for (const auto& [arg, values] : use.values) {
    if (values.empty()) continue;
    if (out.size() * values.size() > kMaxCombinations) {
      too_many = true;
      return {};
    }
    std::vector<std::map<uint8_t, uint64_t>> next;
    for (const auto& partial : out)
      for (uint64_t v : values) {
        auto m = partial;
        m[arg] = v;
        next.push_back(std::move(m));
      }
    out = std::move(next);
  }
  return out;
}

bool grant_covers(const policy::SyscallGrant& g, const Unit& u) {
  if (g.syscall != u.syscall) return false;
  for (const auto& check : g.when) {
    auto v = u.values.find(check.arg);
    if (v == u.values.end() || !policy::check_holds(check, v->second)) return false;
  }
  return true;
}

bool promise_covers(const policy::Promise& p, const Unit& u) {
  return std::any_of(p.grants.begin(), p.grants.end(),
                     [&](const policy::SyscallGrant& g) { return grant_covers(g, u); });
}

// "read, write, close and 12 more"
std::string some_names(const std::vector<std::string>& names, size_t shown = 5) {
  if (names.size() <= shown) return join(names, ", ");
  std::vector<std::string> first(names.begin(), names.begin() + static_cast<long>(shown));
  return fmt::format("{} and {} more", join(first, ", "), names.size() - shown);
}

std::string calls_text(uint64_t n, const CoverOptions& o) {
  return fmt::format("{} {}", n, n == 1 ? o.one : o.many);
}

std::string condition_text(const Unit& u) {
  std::vector<std::string> checks;
  for (const auto& [arg, value] : u.values)
    checks.push_back(policy::render_check(
        u.syscall, policy::ArgCheck{arg, ~uint64_t{0}, value, {}, policy::Compare::kMaskedEq}));
  return join(checks, " && ");
}

}  // namespace

SyscallCover cover_syscalls(const Recording& recording, const std::vector<Entry>& required,
                            const CoverOptions& options) {
  std::vector<Unit> units;
  std::map<std::string, uint64_t> calls;
  std::vector<std::string> by_name;  // too many combinations: allowed by name
  for (const auto& [name, use] : recording.syscalls) {
    if (options.launcher_exec && only_the_initial_exec(name, use)) continue;
    calls[name] = use.count;
    bool too_many = false;
    // clone3 passes its flags in memory that seccomp cannot read, so `least
    // run` answers it ENOSYS and glibc falls back to clone with the same
    // flags: cover those clone calls.
    std::string as = name == "clone3" ? "clone" : name;
    if (name == "clone3" && !use.values.count(0)) {
      // Flags unknown: both kinds of clone.
      units.push_back({as, {{0, 0}}, use.count});
      units.push_back({as, {{0, CLONE_THREAD}}, use.count});
      calls[as] += use.count;
      continue;
    }
    if (as != name) calls[as] += use.count;
    auto combos = combinations(use, too_many);
    if (too_many) {
      by_name.push_back(name);
      continue;
    }
    for (auto& c : combos) units.push_back({as, std::move(c), use.count});
  }

  const auto& catalog = policy::promise_catalog();
  std::vector<const policy::Promise*> chosen;
  std::vector<bool> covered(units.size(), false);
  std::map<std::string, std::set<std::string>> assigned;  // promise -> syscalls it covers first
  auto take = [&](const policy::Promise& p) {
    chosen.push_back(&p);
    for (size_t i = 0; i < units.size(); ++i)
      if (!covered[i] && promise_covers(p, units[i])) {
        covered[i] = true;
        assigned[p.name].insert(units[i].syscall);
      }
  };
  for (const auto& r : required)
    if (const auto* p = policy::find_promise(r.value)) take(*p);
  // Greedy set cover: the promise that covers the most uncovered calls next;
  // ties go to the catalog's order (the more basic promise).
  for (;;) {
    const policy::Promise* best = nullptr;
    size_t best_gain = 0;
    for (const auto& p : catalog) {
      if (std::find(chosen.begin(), chosen.end(), &p) != chosen.end()) continue;
      size_t gain = 0;
      for (size_t i = 0; i < units.size(); ++i)
        if (!covered[i] && promise_covers(p, units[i])) ++gain;
      if (gain > best_gain) {
        best = &p;
        best_gain = gain;
      }
    }
    if (!best) break;
    take(*best);
  }
  // A greedy choice can become redundant once later ones are in: drop it,
  // unless it was required.
  for (size_t k = chosen.size(); k-- > 0;) {
    const policy::Promise* p = chosen[k];
    bool is_required = std::any_of(required.begin(), required.end(),
                                   [&](const Entry& r) { return r.value == p->name; });
    if (is_required) continue;
    bool needed = false;
    for (size_t i = 0; i < units.size() && !needed; ++i) {
      if (!promise_covers(*p, units[i])) continue;
      needed = std::none_of(chosen.begin(), chosen.end(), [&](const policy::Promise* q) {
        return q != p && promise_covers(*q, units[i]);
      });
    }
    if (!needed) {
      // Its syscalls go to the promises that also cover them.
      for (const auto& s : assigned[p->name])
        for (const auto* q : chosen)
          if (q != p)
            for (const auto& u : units)
              if (u.syscall == s && promise_covers(*q, u)) assigned[q->name].insert(s);
      assigned.erase(p->name);
      chosen.erase(chosen.begin() + static_cast<long>(k));
    }
  }

  SyscallCover out;
  for (const auto& p : catalog) {
    if (std::find(chosen.begin(), chosen.end(), &p) == chosen.end()) continue;
    auto why = std::find_if(required.begin(), required.end(),
                            [&](const Entry& r) { return r.value == p.name; });
    std::string comment = why != required.end() ? why->comment : "";
    const auto& mine = assigned[p.name];
    if (!mine.empty()) {
      std::vector<std::string> names(mine.begin(), mine.end());
      // Most used first: what a reader recognises.
      std::stable_sort(names.begin(), names.end(),
                       [&](const auto& a, const auto& b) { return calls[a] > calls[b]; });
      uint64_t total = 0;
      for (const auto& n : names) total += calls[n];
      std::string seen = fmt::format("{} ({})", some_names(names), calls_text(total, options));
      comment = comment.empty() ? seen : comment + "; " + seen;
    }
    out.promises.push_back({p.name, comment});
  }

  // What no promise covers, syscall by syscall.
  std::map<std::string, std::vector<const Unit*>> left;
  for (size_t i = 0; i < units.size(); ++i)
    if (!covered[i]) left[units[i].syscall].push_back(&units[i]);
  for (const auto& n : by_name) left[n];
  for (const auto& [name, list] : left) {
    std::string seen = calls_text(calls[name], options);
    std::string why;
    if (const auto* d = policy::find_dangerous(name))
      why = fmt::format("{}; dangerous: {}", seen, d->why);
    else if (!policy::catalog_knows(name))
      why = fmt::format("{}; not in least's catalog", seen);
    else
      why = fmt::format("{}; in no promise", seen);
    bool conditional =
        !list.empty() && list.size() <= kMaxConditions &&
        std::all_of(list.begin(), list.end(), [](const Unit* u) { return !u->values.empty(); });
    if (!conditional) {
      out.allow.push_back({name, why});
      continue;
    }
    ConditionalEntry c{name, {}, why};
    for (const Unit* u : list) c.when.push_back(condition_text(*u));
    out.allow_when.push_back(std::move(c));
  }
  return out;
}

}  // namespace least::learn
