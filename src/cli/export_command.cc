// least export: the policy in another tool's format, from the same Plan.
#include <fmt/format.h>

#include <filesystem>
#include <memory>

#include "base/text.h"
#include "cli/app.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "cli/policy_options.h"
#include "export/export.h"

namespace least::cli {

namespace {

struct ExportCommandOptions {
  PolicyOptions policy;
  std::string format;
  std::string output;
  std::string name;
};

// The profile's name: --name, else the policy file's stem ("web.least.toml"
// gives "web"), else "least".
std::string profile_name(const ExportCommandOptions& o) {
  if (!o.name.empty()) return o.name;
  if (o.policy.file.empty()) return "least";
  std::string stem = std::filesystem::path(o.policy.file).filename().string();
  for (const char* suffix : {".least.toml", ".toml"})
    if (stem.size() > std::string_view(suffix).size() && stem.ends_with(suffix)) {
      stem.resize(stem.size() - std::string_view(suffix).size());
      break;
    }
  return stem;
}

int run_export(const ExportCommandOptions& o) {
  const exporter::FormatInfo* format = exporter::find_format(o.format);
  if (!format) {
    std::vector<std::string> names;
    std::vector<std::string_view> views;
    for (const auto& f : exporter::formats()) {
      names.push_back(f.name);
      views.push_back(f.name);
    }
    auto hint = closest_match(o.format, views);
    print_error(fmt::format("export: unknown format \"{}\"{}; formats: {}", o.format,
                            hint ? fmt::format(" (did you mean \"{}\"?)", *hint) : "",
                            join(names, ", ")));
    return kExitUsage;
  }
  auto loaded = load_policy(o.policy);
  if (!loaded) return kExitUsage;
  exporter::ExportOptions options;
  options.name = profile_name(o);
  auto exported = exporter::export_plan(loaded->plan, format->format, options);
  if (!exported) {
    print_error(fmt::format("export --format {}: {}", format->name, exported.error().str()));
    return exported.error().kind == ErrorKind::kUsage ? kExitUsage : kExitFailure;
  }
  for (const auto& note : exported->notes) fmt::print(stderr, "least: note: {}\n", note);
  if (auto written = write_output(o.output, exported->content, exported->binary); !written) {
    print_error("export: " + written.error().str());
    return written.error().kind == ErrorKind::kUsage ? kExitUsage : kExitFailure;
  }
  return kExitOk;
}

}  // namespace

Command add_export_command(CLI::App& app) {
  auto o = std::make_shared<ExportCommandOptions>();
  std::string formats;
  for (const auto& f : exporter::formats()) formats += fmt::format("\n  {:<9} {}", f.name, f.what);
  CLI::App* sub = app.add_subcommand(
      "export",
      "Write the policy in another tool's format, from the same plan least enforces.\n"
      "What the other tool cannot hold is printed as notes on stderr.\n"
      "Formats:" +
          formats +
          "\n\nExamples:\n"
          "  least export -p web.least.toml --format docker -o web.json\n"
          "  docker run --security-opt seccomp=web.json IMAGE\n"
          "  least export --promise \"stdio rpath\" --format bpf -o f.bpf\n"
          "  bwrap --ro-bind / / --seccomp 3 cat /etc/hostname 3<f.bpf");
  o->policy.add_to(*sub, true);
  sub->add_option("-f,--format", o->format, "Output format (see above)")
      ->type_name("FORMAT")
      ->required();
  sub->add_option("-o,--output", o->output, "Write to FILE (replaced atomically); default stdout")
      ->type_name("FILE");
  sub->add_option("--name", o->name,
                  "Profile name (AppArmor profile, Kubernetes resource); default the policy "
                  "file's name")
      ->type_name("NAME");
  return [o] { return run_export(*o); };
}

}  // namespace least::cli
