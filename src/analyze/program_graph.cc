#include "analyze/program_graph.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <unordered_map>

#include "analyze/value.h"

namespace least::analyze {

namespace {

// Beyond this many constants a value is treated as any (the constants seen
// are kept): the catalog never needs more.
constexpr size_t kMaxConstants = 64;

// Functions ld.so calls by looking their name up, not through any pointer
// the code or the relocations hold.
constexpr const char* kCalledByName[] = {"__libc_early_init"};

Resolved any_value() {
  return Resolved{};
}

void join(Resolved& into, const Resolved& other) {
  into.any = into.any || other.any;
  for (uint64_t c : other.constants) {
    if (into.constants.size() >= kMaxConstants) {
      into.any = true;
      break;
    }
    into.constants.insert(c);
  }
}

}  // namespace

ProgramGraph::ProgramGraph(std::vector<ProgramObject> objects, std::optional<uint32_t> interpreter,
                           std::set<std::string> looked_up)
    : objects_(std::move(objects)), interpreter_(interpreter), looked_up_(std::move(looked_up)) {
  uint32_t total = 0;
  for (const auto& o : objects_) {
    base_.push_back(total);
    total += static_cast<uint32_t>(o.summary->functions.size());
  }
  reach_.resize(total);
  taken_.resize(total);
  any_arguments_.resize(total);
  bind_imports();
  reach_all();
  collect_syscalls();
}

const Function& ProgramGraph::function(FunctionRef f) const {
  return objects_[f.object].summary->functions[f.function];
}

FunctionRef ProgramGraph::ref(uint32_t id) const {
  auto it = std::upper_bound(base_.begin(), base_.end(), id);
  uint32_t o = static_cast<uint32_t>(it - base_.begin()) - 1;
  return FunctionRef{o, id - base_[o]};
}

size_t ProgramGraph::function_count() const {
  size_t n = 0;
  for (const auto& o : objects_) n += o.summary->functions.size();
  return n;
}

std::optional<FunctionRef> ProgramGraph::function_at(uint32_t object, uint64_t address) const {
  const auto& fs = objects_[object].summary->functions;
  auto it = std::upper_bound(fs.begin(), fs.end(), address,
                             [](uint64_t a, const Function& f) { return a < f.address; });
  if (it == fs.begin()) return std::nullopt;
  --it;
  // An address inside a function (not at its start) still runs its code from
  // there on: the containing function stands for it, soundly.
  if (it->address != address && it->size != 0 && address >= it->address + it->size)
    return std::nullopt;
  return FunctionRef{object, static_cast<uint32_t>(it - fs.begin())};
}

std::string ProgramGraph::describe(FunctionRef f) const {
  const Function& fn = function(f);
  std::string name = fn.name.empty() ? fmt::format("function at {:#x}", fn.address) : fn.name;
  return std::filesystem::path(objects_[f.object].path).filename().string() + ":" + name;
}

void ProgramGraph::bind_imports() {
  // ld.so's global scope: every object in load order, the first definition
  // of a name (with the version asked for) wins.
  std::unordered_map<std::string, std::vector<std::pair<uint32_t, const Export*>>> by_name;
  for (uint32_t o = 0; o < objects_.size(); ++o)
    for (const auto& e : objects_[o].summary->exports) by_name[e.name].emplace_back(o, &e);

  bound_.resize(objects_.size());
  for (uint32_t o = 0; o < objects_.size(); ++o) {
    const auto& imports = objects_[o].summary->imports;
    bound_[o].resize(imports.size());
    for (size_t i = 0; i < imports.size(); ++i) {
      const Import& imp = imports[i];
      auto it = by_name.find(imp.name);
      const std::pair<uint32_t, const Export*>* found = nullptr;
      if (it != by_name.end())
        for (const auto& cand : it->second) {
          const Export& e = *cand.second;
          bool version_ok = imp.version.empty() ? e.default_version
                                                : (e.version == imp.version || e.version.empty());
          if (version_ok) {
            found = &cand;
            break;
          }
        }
      if (!found) {
        if (!imp.weak)
          unbound_.push_back(fmt::format(
              "{}{}{} (needed by {})", imp.name, imp.version.empty() ? "" : "@", imp.version,
              std::filesystem::path(objects_[o].path).filename().string()));
        continue;
      }
      if (!found->second->function) continue;  // data: bound, but nothing to call
      auto target = function_at(found->first, found->second->address);
      if (!target) continue;
      if (!found->second->ifunc) {
        bound_[o][i].push_back(*target);
        continue;
      }
      // An IFUNC: the resolver runs when ld.so binds the symbol, and the
      // call enters whichever candidate it returned: every function it forms.
      bound_[o][i].push_back(*target);  // the resolver itself (a root below)
      for (uint64_t a : function(*target).takes_address)
        if (auto c = function_at(found->first, a)) bound_[o][i].push_back(*c);
    }
  }
}

void ProgramGraph::reach(FunctionRef f, Reach why, std::vector<FunctionRef>& work) {
  auto& r = reach_[id(f)];
  if (r) return;
  r = why;
  reached_order_.push_back(id(f));
  work.push_back(f);
}

void ProgramGraph::reach_all() {
  std::vector<FunctionRef> work;
  auto root = [&](uint32_t o, uint64_t address, const char* what) {
    if (auto f = function_at(o, address)) {
      any_arguments_[id(*f)] = 1;
      reach(*f, Reach{Reach::How::root, std::nullopt, what}, work);
    }
  };
  if (!objects_.empty() && objects_[0].summary->entry) root(0, objects_[0].summary->entry, "entry");
  if (interpreter_ && objects_[*interpreter_].summary->entry)
    root(*interpreter_, objects_[*interpreter_].summary->entry, "ld.so entry");
  for (uint32_t o = 0; o < objects_.size(); ++o) {
    const ObjectSummary& s = *objects_[o].summary;
    for (uint64_t r : s.roots) root(o, r, "init, fini or IFUNC resolver");
    for (const auto& e : s.exports) {
      if (!e.function) continue;
      for (const char* name : kCalledByName)
        if (e.name == name) root(o, e.address, "called by ld.so by name");
      if (objects_[o].dlopened) root(o, e.address, "exported by a dlopen'ed library");
      if (looked_up_.count(e.name)) root(o, e.address, "looked up with dlsym");
    }
  }
  // IFUNC resolvers of every bound import run at load time.
  for (uint32_t o = 0; o < objects_.size(); ++o)
    for (size_t i = 0; i < bound_[o].size(); ++i)
      if (!bound_[o][i].empty() && bound_[o][i].size() > 1) {
        FunctionRef resolver = bound_[o][i].front();
        any_arguments_[id(resolver)] = 1;
        reach(resolver, Reach{Reach::How::root, std::nullopt, "IFUNC resolver"}, work);
      }

  auto take_address = [&](FunctionRef f) {
    if (taken_[id(f)]) return;
    taken_[id(f)] = 1;
    taken_list_.push_back(f);
    if (indirect_reached_) {
      any_arguments_[id(f)] = 1;
      reach(f, Reach{Reach::How::indirect, std::nullopt, ""}, work);
    }
  };
  for (uint32_t o = 0; o < objects_.size(); ++o) {
    const ObjectSummary& s = *objects_[o].summary;
    for (uint64_t a : s.data_address_taken)
      if (auto f = function_at(o, a)) take_address(*f);
    for (uint32_t i : s.data_address_taken_imports)
      if (i < bound_[o].size())
        for (FunctionRef t : bound_[o][i]) take_address(t);
  }

  while (!work.empty()) {
    FunctionRef f = work.back();
    work.pop_back();
    const Function& fn = function(f);
    for (const CallSite& c : fn.calls) {
      // The targets in place, not copied: a vector per call site was a tenth
      // of a warm analysis.
      auto enter = [&](FunctionRef t) {
        calls_found_.emplace_back(id(t), Edge{f, &c});
        reach(t, Reach{Reach::How::call, f, ""}, work);
      };
      if (c.local) {
        if (auto t = function_at(f.object, *c.local)) enter(*t);
      } else if (c.import && *c.import < bound_[f.object].size()) {
        for (FunctionRef t : bound_[f.object][*c.import]) enter(t);
      }
    }
    for (uint64_t a : fn.takes_address)
      if (auto t = function_at(f.object, a)) take_address(*t);
    for (uint32_t i : fn.takes_import)
      if (i < bound_[f.object].size())
        for (FunctionRef t : bound_[f.object][i]) take_address(t);
    if (fn.indirect_calls && !indirect_reached_) {
      indirect_reached_ = true;
      for (FunctionRef t : taken_list_) {
        any_arguments_[id(t)] = 1;
        reach(t, Reach{Reach::How::indirect, f, ""}, work);
      }
    }
  }
  // The callers table, grouped by callee (a counting sort: ids are dense).
  caller_index_.assign(reach_.size() + 1, 0);
  for (const auto& [callee, e] : calls_found_) ++caller_index_[callee + 1];
  for (size_t i = 1; i < caller_index_.size(); ++i) caller_index_[i] += caller_index_[i - 1];
  callers_.resize(calls_found_.size());
  std::vector<uint32_t> fill(caller_index_.begin(), caller_index_.end() - 1);
  for (const auto& [callee, e] : calls_found_) callers_[fill[callee]++] = e;
  calls_found_ = {};
}

Resolved ProgramGraph::argument_of(FunctionRef f, uint8_t k) {
  if (k >= 6) return any_value();
  uint64_t key = uint64_t{id(f)} * 6 + k;
  if (auto m = argument_memo_.find(key); m != argument_memo_.end())
    return m->second ? *m->second : any_value();  // in progress: a cycle, so any
  argument_memo_[key] = std::nullopt;
  Resolved out;
  // Roots and indirect-call targets take anything; the constants their
  // direct callers pass are still among the values.
  out.any = any_arguments_[id(f)] != 0;
  auto callers = callers_of(f);
  if (callers.empty()) {
    out.any = true;  // reached without a known call: nothing limits it
  } else {
    for (const Edge& e : callers) {
      if (!e.site || e.site->args.size() <= k) {
        out.any = true;
        continue;
      }
      join(out, resolve(e.site->args[k], e.caller));
    }
  }
  argument_memo_[key] = out;
  return out;
}

Resolved ProgramGraph::resolve(const Value& v, FunctionRef in) {
  switch (v.kind) {
    case Value::Kind::constants: {
      Resolved r;
      r.any = false;
      r.constants.insert(v.constants.begin(), v.constants.end());
      return r;
    }
    case Value::Kind::argument:
      return argument_of(in, v.argument);
    case Value::Kind::unknown:
      break;
  }
  return any_value();
}

void ProgramGraph::collect_syscalls() {
  for (uint32_t i : reached_order_) {
    FunctionRef f = ref(i);
    const Function& fn = function(f);
    for (const SyscallSite& s : fn.syscalls) {
      Resolved nr = resolve(s.number, f);
      SiteRef site{f, s.address};
      if (nr.any) {  // flagged; the constants known to reach it count below
        std::string reason =
            s.number.kind == Value::Kind::argument
                ? fmt::format(
                      "the number is the function's {}, and a caller passes one that is "
                      "not constant",
                      analyze::describe(s.number))
                : "the number in rax is not a constant";
        unknown_numbers_.emplace_back(site, std::move(reason));
      }
      std::vector<Resolved> args;
      for (uint8_t i = 0; i < 6; ++i)
        args.push_back(i < s.args.size() ? resolve(s.args[i], f) : any_value());
      for (uint64_t n : nr.constants) {
        auto [it, fresh] = syscalls_.try_emplace(n);
        it->second.sites.push_back(site);
        if (fresh) {
          it->second.args = args;
        } else {
          for (size_t i = 0; i < 6; ++i) join(it->second.args[i], args[i]);
        }
      }
    }
  }
}

std::vector<std::pair<FunctionRef, Reach>> ProgramGraph::path_to(FunctionRef f) const {
  std::vector<std::pair<FunctionRef, Reach>> chain;
  std::set<FunctionRef> seen;
  std::optional<FunctionRef> at = f;
  while (at && seen.insert(*at).second) {
    const auto& r = reach_[id(*at)];
    if (!r) break;
    chain.emplace_back(*at, *r);
    at = r->how == Reach::How::root ? std::nullopt : r->from;
  }
  std::reverse(chain.begin(), chain.end());
  return chain;
}

std::vector<NamedCall> ProgramGraph::calls_of(const std::string& name) {
  std::vector<NamedCall> out;
  std::set<FunctionRef> targets;
  for (uint32_t o = 0; o < objects_.size(); ++o)
    for (const auto& e : objects_[o].summary->exports)
      if (e.function && e.name == name)
        if (auto f = function_at(o, e.address)) targets.insert(*f);
  for (FunctionRef t : targets) {
    for (const Edge& e : callers_of(t)) {
      if (!e.site) continue;
      NamedCall call{e.caller, t, e.site->address, {}};
      for (uint8_t i = 0; i < 6; ++i)
        call.args.push_back(i < e.site->args.size() ? resolve(e.site->args[i], e.caller)
                                                    : any_value());
      out.push_back(std::move(call));
    }
  }
  return out;
}

}  // namespace least::analyze
