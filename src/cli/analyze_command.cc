// least analyze BINARY [-o FILE] [--json]: the syscalls a binary and its
// libraries can make, from their code, as a policy or as JSON with provenance.
#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

#include "analyze/analysis.h"
#include "analyze/analysis_report.h"
#include "analyze/summary_cache.h"
#include "cli/app.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "cli/policy_options.h"

namespace least::cli {

namespace {

struct AnalyzeCliOptions {
  std::string binary;
  std::string output;
  bool json = false;
  bool no_cache = false;
  std::string cache_dir;
};

// A bare name is looked up in $PATH, as a shell would.
std::string find_binary(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  for (size_t start = 0; start <= dirs.size();) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string dir = dirs.substr(start, end - start);
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return name;
}

int run_analyze(const AnalyzeCliOptions& o) {
  analyze::AnalyzeOptions options;
  if (!o.no_cache)
    options.cache_dir = o.cache_dir.empty() ? analyze::SummaryCache::default_dir() : o.cache_dir;
  std::string binary = find_binary(o.binary);
  auto analysis = analyze::analyze_program(binary, options);
  if (!analysis) {
    print_error(fmt::format("analyze: {}", analysis.error().str()));
    // A program or library that is missing or not an x86-64 ELF object is
    // bad input; anything else is least failing.
    switch (analysis.error().kind) {
      case ErrorKind::kUsage:
      case ErrorKind::kNotFound:
      case ErrorKind::kCannotExec:
      case ErrorKind::kUnsupported:  // not an x86-64 ELF object
        return kExitUsage;
      default:
        return kExitFailure;
    }
  }
  const analyze::Analysis& a = *analysis;
  if (!a.cache_problem.empty())
    print_warning(fmt::format("analyze: summaries not cached ({}); the next run disassembles again",
                              a.cache_problem));
  std::string text = o.json ? analyze::analysis_json(a).dump(2) + "\n" : analyze::policy_toml(a);
  if (auto w = write_output(o.output, text); !w) {
    print_error(fmt::format("analyze: {}", w.error().str()));
    return kExitFailure;
  }
  size_t cached = 0;
  for (const auto& obj : a.objects) cached += obj.cached;
  const auto& g = *a.graph;
  fmt::print(stderr,
             "least: analyze: {} syscalls reachable from {} of {} functions in {} objects ({} "
             "from the cache), {:.2f} s{}\n",
             g.syscalls().size(), g.reached_count(), g.function_count(), a.objects.size(), cached,
             a.seconds,
             g.unknown_numbers().empty()
                 ? ""
                 : fmt::format("; {} sites with a non-constant number: every syscall allowed",
                               g.unknown_numbers().size()));
  // The analysis is a million small blocks; the process returns them to the
  // kernel at once, where freeing them one by one took an eighth of a warm
  // run (as compilers do). Everything has been written and flushed.
  std::fflush(stdout);
  std::fflush(stderr);
  std::_Exit(kExitOk);
}

}  // namespace

Command add_analyze_command(CLI::App& app) {
  auto o = std::make_shared<AnalyzeCliOptions>();
  CLI::App* sub = app.add_subcommand(
      "analyze",
      "Compute, from the code, every syscall a binary and the libraries it loads can\n"
      "make, and write it as a policy: promises first, then [syscalls] for the rest.\n"
      "The libraries are found as ld.so finds them; each is disassembled once and\n"
      "its summary cached by build-id, so a second program on the same libc is quick.\n"
      "The result is a sound over-approximation: code that never runs may be counted,\n"
      "code that runs is never missed. What the code alone cannot tell is said in the\n"
      "policy's header: programs it executes, libraries it dlopens by a name that is\n"
      "not constant, syscall numbers that are not constants (every syscall is then\n"
      "allowed). Paths, ports and limits are not in the code: learn them with\n"
      "`least learn` and `least merge` the two.\n"
      "Exit status: 0; 1 when the output cannot be written; 2 when the binary or a\n"
      "library it needs is missing or is not an x86-64 ELF object.\n\n"
      "Examples:\n"
      "  least analyze /usr/sbin/nginx -o nginx.least.toml\n"
      "  least analyze --json tar | jq '.syscalls[] | .name'");
  sub->add_option("binary", o->binary, "The program (a path, or a name found in $PATH)")
      ->required()
      ->type_name("BINARY");
  sub->add_option("-o,--output", o->output, "Write to FILE (default: stdout)")->type_name("FILE");
  sub->add_flag("--json", o->json,
                "JSON instead of a policy: each syscall with the sites that make it and the "
                "chain of calls that reaches them, plus what was flagged");
  sub->add_flag("--no-cache", o->no_cache, "Neither read nor write the summary cache");
  sub->add_option("--cache-dir", o->cache_dir,
                  "Summary cache (default: $XDG_CACHE_HOME/least/analyze, else "
                  "~/.cache/least/analyze)")
      ->type_name("DIR");
  return [o] { return run_analyze(*o); };
}

}  // namespace least::cli
