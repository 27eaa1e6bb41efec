// least merge A B... [-o C]: one policy allowing what any of them allows.
#include <fmt/format.h>

#include <fstream>
#include <memory>
#include <sstream>

#include "cli/app.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "cli/policy_options.h"
#include "learn/policy_writer.h"

namespace least::cli {

namespace {

struct MergeOptions {
  std::vector<std::string> files;
  std::string output;
};

int run_merge(const MergeOptions& o) {
  std::vector<learn::PolicySource> sources;
  for (const auto& f : o.files) {
    std::ifstream in(f, std::ios::binary);
    if (!in) {
      print_error(fmt::format("merge: cannot read \"{}\": {}", f, std::strerror(errno)));
      return kExitUsage;
    }
    std::ostringstream text;
    text << in.rdbuf();
    sources.push_back({f, text.str()});
  }
  auto merged = learn::merge_policies(sources);
  if (!merged) {
    // The parser's diagnostics, already rendered with file:line and caret.
    fmt::print(stderr, "{}", merged.error().message);
    return kExitUsage;
  }
  if (auto w = write_output(o.output, *merged); !w) {
    print_error(fmt::format("merge: {}", w.error().str()));
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace

Command add_merge_command(CLI::App& app) {
  auto o = std::make_shared<MergeOptions>();
  CLI::App* sub = app.add_subcommand(
      "merge",
      "Unite policies into one that allows what any of them allows: promises, paths\n"
      "(an entry inside a listed directory is dropped), ports and syscalls united,\n"
      "limits the larger, a deny kept only where no file allows that syscall.\n"
      "Comments at the end of an entry's line are kept. This is how policies learned\n"
      "command by command, or on different CI shards, become one.\n"
      "Exit status: 0, 1 when the output cannot be written, 2 on bad input.\n\n"
      "Example:\n"
      "  least merge shard1.least.toml shard2.least.toml -o app.least.toml");
  sub->add_option("files", o->files, "Policy files (two or more)")
      ->required()
      ->expected(2, -1)
      ->type_name("FILE...");
  sub->add_option("-o,--output", o->output, "Write the merged policy to FILE (default: stdout)")
      ->type_name("FILE");
  return [o] { return run_merge(*o); };
}

}  // namespace least::cli
