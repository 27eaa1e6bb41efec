#include "analyze/analysis_report.h"

#include <fmt/format.h>

#include "analyze/value.h"
#include "base/text.h"
#include "learn/draft.h"
#include "learn/event_recorder.h"
#include "learn/promise_cover.h"
#include "sys/syscall_table.h"

namespace least::analyze {

namespace {

// Sites shown with their whole call chain in --json (the rest are counted).
constexpr size_t kSitesWithPath = 3;

std::string site_text(const ProgramGraph& g, const SiteRef& s) {
  return fmt::format("{} at {:#x}", g.describe(s.function), s.address);
}

std::string how_text(const ProgramGraph& g, const std::pair<FunctionRef, Reach>& step) {
  switch (step.second.how) {
    case Reach::How::root:
      return g.describe(step.first) + " (" + step.second.root + ")";
    case Reach::How::call:
      return g.describe(step.first);
    case Reach::How::indirect:
      return g.describe(step.first) + " (indirect call: its address is taken)";
  }
  return g.describe(step.first);
}

}  // namespace

learn::Recording as_recording(const Analysis& a) {
  learn::Recording r;
  r.command = {a.program};
  const ProgramGraph& g = *a.graph;
  auto add = [&](uint64_t nr, const ProgramGraph::SyscallFinding* f) {
    auto name = sys::syscall_name(static_cast<int>(nr), sys::native_arch());
    if (!name) return;
    learn::SyscallUse& use = r.syscalls[*name];
    use.count = f ? f->sites.size() : 0;
    if (!f) return;
    // Values only where every site passes constants: a missing argument is
    // "any value" to the writer.
    uint8_t wanted = learn::capture_spec(static_cast<int>(nr)).value_args;
    for (uint8_t i = 0; i < 6; ++i)
      if ((wanted & (1u << i)) && !f->args[i].any && !f->args[i].constants.empty())
        use.values[i] = f->args[i].constants;
  };
  for (const auto& [nr, finding] : g.syscalls()) add(nr, &finding);
  if (!g.unknown_numbers().empty())
    for (const auto& name : sys::syscall_names(sys::native_arch()))
      if (!r.syscalls.count(name))
        if (auto nr = sys::syscall_number(name, sys::native_arch())) add(*nr, nullptr);
  return r;
}

std::string policy_toml(const Analysis& a) {
  const ProgramGraph& g = *a.graph;
  learn::Recording r = as_recording(a);
  learn::CoverOptions options;
  options.launcher_exec = false;
  options.one = "site";
  options.many = "sites";
  learn::SyscallCover cover = learn::cover_syscalls(r, {}, options);

  learn::Draft d;
  d.header.push_back(
      fmt::format("Written by `least analyze` from the code of {} and the {} "
                  "objects it loads.",
                  a.program, a.objects.size() - 1));
  d.header.push_back(
      fmt::format("{} syscalls are reachable from {} of {} functions; a sound over-approximation: "
                  "code that never runs can still be counted.",
                  g.syscalls().size(), g.reached_count(), g.function_count()));
  if (!g.unknown_numbers().empty()) {
    d.header.push_back(fmt::format(
        "{} reachable syscall site(s) have a number that is not a constant, e.g. {}: so this "
        "policy allows every syscall (the conservative fallback). `least analyze --json` lists "
        "them.",
        g.unknown_numbers().size(), site_text(g, g.unknown_numbers().front().first)));
  }
  for (const auto& e : a.execs)
    d.header.push_back(
        fmt::format("Runs other programs: {} calls {}({}); their syscalls are "
                    "theirs, analyse them too.",
                    e.caller, e.function, e.path ? "\"" + *e.path + "\"" : "?"));
  for (const auto& l : a.dlopens) {
    if (l.resolved)
      d.header.push_back(
          fmt::format("{} dlopens \"{}\": {} is analysed too.", l.caller, *l.name, *l.resolved));
    else
      d.header.push_back(fmt::format("{} dlopens {}: {}; its code is not in this policy.", l.caller,
                                     l.name ? "\"" + *l.name + "\"" : "a library", l.problem));
  }
  for (const auto& n : a.notes) d.header.push_back("Note: " + n);
  for (const auto& u : g.unbound())
    d.header.push_back("Not found in any loaded object (ld.so would refuse to start): " + u);
  d.header.push_back(
      "It has no paths, ports or limits: static analysis cannot see them. Learn them with "
      "`least learn`, then `least merge` the two.");
  d.promises = std::move(cover.promises);
  d.allow = std::move(cover.allow);
  d.allow_when = std::move(cover.allow_when);
  return learn::render_toml(d);
}

nlohmann::json analysis_json(const Analysis& a) {
  const ProgramGraph& g = *a.graph;
  nlohmann::json j;
  j["program"] = a.program;
  j["seconds"] = a.seconds;
  for (const auto& o : a.objects)
    j["objects"].push_back({{"path", o.path}, {"why", o.why}, {"cached", o.cached}});
  j["functions"] = {{"total", g.function_count()}, {"reachable", g.reached_count()}};
  j["indirect_calls_reachable"] = g.indirect_calls_reached();
  j["syscalls"] = nlohmann::json::array();
  for (const auto& [nr, f] : g.syscalls()) {
    auto name = sys::syscall_name(static_cast<int>(nr), sys::native_arch());
    nlohmann::json s{{"nr", nr}, {"name", name ? *name : fmt::format("#{}", nr)}};
    s["site_count"] = f.sites.size();
    for (size_t i = 0; i < f.sites.size() && i < kSitesWithPath; ++i) {
      std::vector<std::string> chain;
      for (const auto& step : g.path_to(f.sites[i].function)) chain.push_back(how_text(g, step));
      s["sites"].push_back({{"site", site_text(g, f.sites[i])}, {"reached_through", chain}});
    }
    for (size_t i = 0; i < 6; ++i)
      if (!f.args[i].any) s["args"][std::to_string(i)] = f.args[i].constants;
    j["syscalls"].push_back(std::move(s));
  }
  j["unknown_numbers"] = nlohmann::json::array();
  for (const auto& [site, why] : g.unknown_numbers()) {
    std::vector<std::string> chain;
    for (const auto& step : g.path_to(site.function)) chain.push_back(how_text(g, step));
    j["unknown_numbers"].push_back(
        {{"site", site_text(g, site)}, {"why", why}, {"reached_through", chain}});
  }
  j["execs"] = nlohmann::json::array();
  for (const auto& e : a.execs)
    j["execs"].push_back({{"caller", e.caller},
                          {"function", e.function},
                          {"path", e.path ? nlohmann::json(*e.path) : nlohmann::json()}});
  j["dlopens"] = nlohmann::json::array();
  for (const auto& l : a.dlopens)
    j["dlopens"].push_back(
        {{"caller", l.caller},
         {"name", l.name ? nlohmann::json(*l.name) : nlohmann::json()},
         {"resolved", l.resolved ? nlohmann::json(*l.resolved) : nlohmann::json()},
         {"problem", l.problem}});
  j["unbound"] = g.unbound();
  j["notes"] = a.notes;
  return j;
}

}  // namespace least::analyze
