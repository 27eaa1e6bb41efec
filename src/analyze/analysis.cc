#include "analyze/analysis.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <functional>
#include <set>
#include <thread>

#include "analyze/library_closure.h"
#include "analyze/object_scanner.h"
#include "analyze/summary_cache.h"

namespace least::analyze {

namespace {

// The exec family and the argument that names the program (or command).
struct ExecFunction {
  const char* name;
  int path_arg;  // -1: none (fexecve)
};
constexpr ExecFunction kExecFunctions[] = {
    {"execve", 0},       {"execv", 0},  {"execvp", 0},   {"execvpe", 0},  {"execl", 0},
    {"execlp", 0},       {"execle", 0}, {"execveat", 1}, {"fexecve", -1}, {"posix_spawn", 1},
    {"posix_spawnp", 1}, {"system", 0}, {"popen", 0},
};

// dlopen(name, ...) and dlmopen(lmid, name, ...).
struct DlopenFunction {
  const char* name;
  int name_arg;
};
constexpr DlopenFunction kDlopenFunctions[] = {{"dlopen", 0}, {"dlmopen", 1}};

// The strings a resolved argument points at, in the caller's object; nullopt
// when any value is not a known string.
std::optional<std::vector<std::string>> strings_of(const Resolved& r, const ObjectSummary& in) {
  if (r.any || r.constants.empty()) return std::nullopt;
  std::vector<std::string> out;
  for (uint64_t a : r.constants) {
    auto it = in.strings.find(a);
    if (it == in.strings.end()) return std::nullopt;
    out.push_back(it->second);
  }
  return out;
}

uint64_t file_size(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

// Runs `scan` for every item, on as many threads as there are cores (at
// most one per item), the largest first so that the cores finish together.
// Each object is scanned on its own (its own libelf handle and decoder).
void scan_all(std::vector<size_t> items, const std::function<void(size_t)>& scan,
              const std::function<uint64_t(size_t)>& size_of) {
  std::vector<std::pair<uint64_t, size_t>> order;
  for (size_t k : items) order.emplace_back(size_of(k), k);
  std::sort(order.rbegin(), order.rend());
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i; (i = next.fetch_add(1)) < order.size();) scan(order[i].second);
  };
  size_t threads =
      std::min<size_t>(std::max(1u, std::thread::hardware_concurrency()), order.size());
  std::vector<std::jthread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
}

}  // namespace

Result<Analysis> analyze_program(const std::string& program, const AnalyzeOptions& options) {
  auto started = std::chrono::steady_clock::now();
  // A program that is not there is bad input, not a failure of least.
  struct stat st;
  if (stat(program.c_str(), &st) != 0)
    return make_error(errno == ENOENT ? ErrorKind::kNotFound : ErrorKind::kUsage,
                      fmt::format("{}: cannot be read", program), errno);
  if (!S_ISREG(st.st_mode))
    return make_error(ErrorKind::kUsage, fmt::format("{}: not a regular file", program));
  auto closure = resolve_closure(program);
  if (!closure) return std::move(closure).error();

  Analysis a;
  a.program = program;
  std::optional<SummaryCache> cache;
  if (!options.cache_dir.empty()) cache.emplace(options.cache_dir);

  std::vector<ObjectSummary*> summaries;  // by closure index
  std::set<std::pair<size_t, std::string>> dlopens_done;
  std::set<std::string> looked_up;  // constant dlsym names
  for (;;) {
    // Summarise what the closure gained (all of it, the first time): from
    // the cache, else disassembled, the objects spread over the cores (a
    // warm run decodes its summaries in parallel too).
    const size_t first = summaries.size(), count = closure->objects.size() - first;
    std::vector<std::optional<ObjectSummary>> got(count);
    std::vector<std::optional<Result<ObjectSummary>>> scanned(count);
    auto path_of = [&](size_t k) {
      const LoadedObject& o = closure->objects[first + k];
      return o.real_path.empty() ? o.path : o.real_path;
    };
    std::vector<size_t> all(count);
    for (size_t k = 0; k < count; ++k) all[k] = k;
    scan_all(
        all,
        [&](size_t k) {
          const LoadedObject& o = closure->objects[first + k];
          if (cache && !o.info.build_id.empty()) got[k] = cache->load(o.info.build_id);
          if (!got[k]) scanned[k].emplace(summarize_object(path_of(k)));
        },
        [&](size_t k) { return file_size(path_of(k)); });
    for (size_t k = 0; k < count; ++k) {
      const LoadedObject& o = closure->objects[first + k];
      AnalyzedObject seen{o.path, "", got[k].has_value()};
      if (first + k == 0)
        seen.why = "program";
      else if (o.is_interpreter)
        seen.why = "interpreter (PT_INTERP)";
      else if (o.loader)
        seen.why = fmt::format(
            "{} by {}", o.dlopened ? "dlopen'ed" : "needed",
            std::filesystem::path(closure->objects[*o.loader].path).filename().string());
      if (!got[k]) {
        if (!*scanned[k]) return std::move(*scanned[k]).context("analyze " + program).error();
        got[k] = std::move(scanned[k]->value());
        // A cache that cannot be written costs only time, later: said once.
        if (cache)
          if (auto stored = cache->store(*got[k]); !stored && a.cache_problem.empty())
            a.cache_problem = stored.error().str();
      }
      a.summaries_.push_back(std::move(*got[k]));
      summaries.push_back(&a.summaries_.back());
      a.objects.push_back(std::move(seen));
    }

    std::vector<ProgramObject> objects;
    for (size_t i = 0; i < summaries.size(); ++i)
      objects.push_back({closure->objects[i].path, summaries[i], closure->objects[i].dlopened});
    std::optional<uint32_t> interpreter;
    if (closure->interpreter) interpreter = static_cast<uint32_t>(*closure->interpreter);
    a.graph = std::make_unique<ProgramGraph>(std::move(objects), interpreter, looked_up);

    // dlsym by a constant name makes that export a root; by any other name
    // it is taken to look in the dlopen'ed libraries, whose exports are
    // roots already.
    bool grew = false;
    a.notes.clear();
    for (const char* dlsym : {"dlsym", "dlvsym"})
      for (const NamedCall& c : a.graph->calls_of(dlsym)) {
        if (c.caller.object == c.callee.object) continue;
        auto names = strings_of(c.args[1], *summaries[c.caller.object]);
        if (!names) {
          a.notes.push_back(fmt::format(
              "{} calls {} with a name that is not constant: taken to look up the exports of "
              "the dlopen'ed libraries",
              a.graph->describe(c.caller), dlsym));
          continue;
        }
        for (const auto& n : *names) grew |= looked_up.insert(n).second;
      }

    // Libraries dlopen'ed by a constant name join the closure; then again.
    a.dlopens.clear();
    for (const auto& f : kDlopenFunctions)
      for (const NamedCall& c : a.graph->calls_of(f.name)) {
        if (c.caller.object == c.callee.object) continue;  // libc's own plumbing
        DlopenFinding d;
        d.caller = a.graph->describe(c.caller);
        auto names =
            strings_of(c.args[static_cast<size_t>(f.name_arg)], *summaries[c.caller.object]);
        if (!names) {
          d.problem = "the name is not a constant string";
          a.dlopens.push_back(std::move(d));
          continue;
        }
        for (const auto& name : *names) {
          DlopenFinding one = d;
          one.name = name;
          auto added = resolve_dlopen(*closure, c.caller.object, name);
          if (!added) {
            one.problem = added.error().str();
          } else if (!added->empty()) {
            one.resolved = closure->objects[added->front()].path;
            if (dlopens_done.emplace(c.caller.object, name).second &&
                closure->objects.size() > summaries.size())
              grew = true;
          }
          a.dlopens.push_back(std::move(one));
        }
      }
    if (!grew) break;
  }

  std::set<std::tuple<std::string, std::string, std::string>> seen_execs;
  for (const auto& f : kExecFunctions)
    for (const NamedCall& c : a.graph->calls_of(f.name)) {
      if (c.caller.object == c.callee.object) continue;  // e.g. libc's execvp -> execve
      ExecFinding e;
      e.caller = a.graph->describe(c.caller);
      e.function = f.name;
      if (f.path_arg >= 0)
        if (auto paths =
                strings_of(c.args[static_cast<size_t>(f.path_arg)], *summaries[c.caller.object]))
          e.path = paths->front();
      if (seen_execs.emplace(e.caller, e.function, e.path.value_or("")).second)
        a.execs.push_back(std::move(e));
    }

  a.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return a;
}

}  // namespace least::analyze
