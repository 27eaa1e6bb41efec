// least import: a Docker/OCI seccomp profile read back into a policy.
#include <fmt/format.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "base/text.h"
#include "cli/app.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "cli/policy_options.h"
#include "import/docker_import.h"

namespace least::cli {

namespace {

struct ImportCommandOptions {
  std::string file;
  std::string output;
  std::vector<std::string> caps;
  std::string arch;
  std::string kernel;
};

int run_import(const ImportCommandOptions& o) {
  importer::ImportOptions options;
  options.source = o.file;
  options.kernel = o.kernel;
  for (const auto& c : o.caps)
    for (auto& word : split_words(c)) options.capabilities.push_back(word);
  if (!o.arch.empty()) {
    auto arch = sys::arch_from_name(o.arch);
    if (!arch) {
      print_error(fmt::format("import: unknown architecture \"{}\" (x86_64 or aarch64)", o.arch));
      return kExitUsage;
    }
    options.arch = *arch;
  }
  std::string text;
  if (o.file == "-") {
    std::ostringstream s;
    s << std::cin.rdbuf();
    text = s.str();
  } else {
    std::ifstream in(o.file, std::ios::binary);
    if (!in) {
      print_error(fmt::format("import: cannot read \"{}\"", o.file));
      return kExitUsage;
    }
    std::ostringstream s;
    s << in.rdbuf();
    text = s.str();
  }
  auto imported = importer::import_profile(text, options);
  if (!imported) {
    print_error(fmt::format("import: {}: {}", o.file, imported.error().str()));
    return imported.error().kind == ErrorKind::kUsage ? kExitUsage : kExitFailure;
  }
  for (const auto& note : imported->notes) fmt::print(stderr, "least: note: {}\n", note);
  if (auto written = write_output(o.output, imported->toml); !written) {
    print_error("import: " + written.error().str());
    return written.error().kind == ErrorKind::kUsage ? kExitUsage : kExitFailure;
  }
  return kExitOk;
}

}  // namespace

Command add_import_command(CLI::App& app) {
  auto o = std::make_shared<ImportCommandOptions>();
  CLI::App* sub = app.add_subcommand(
      "import",
      "Read a Docker/Moby or OCI seccomp profile (JSON; a whole config.json too) into a\n"
      "policy. The profile is read as a runtime reads it on this host: its entries for\n"
      "other architectures, capabilities the container lacks (none unless --caps) and newer\n"
      "kernels are left out. Promises are inferred where they fit exactly; the rest is\n"
      "[syscalls] allow and deny. Argument conditions that neither can say make the policy\n"
      "narrower than the profile, never wider; each is printed as a note.\n\n"
      "Examples:\n"
      "  least import docker-default.json -o docker.least.toml\n"
      "  least import --caps CAP_SYS_PTRACE profile.json -o app.least.toml && least explain -p "
      "app.least.toml");
  sub->add_option("FILE", o->file, "The profile (JSON), or - for stdin")
      ->required()
      ->type_name("FILE");
  sub->add_option("-o,--output", o->output, "Write to FILE (replaced atomically); default stdout")
      ->type_name("FILE");
  sub->add_option("--caps", o->caps,
                  "Capabilities the container holds, for the profile's includes/excludes "
                  "(CAP_SYS_ADMIN,...); the policy keeps them")
      ->type_name("CAPS");
  sub->add_option("--arch", o->arch, "Read the profile for this architecture (x86_64, aarch64)");
  sub->add_option("--kernel", o->kernel,
                  "Kernel version for the profile's minKernel (default this host's)")
      ->type_name("X.Y");
  return [o] { return run_import(*o); };
}

}  // namespace least::cli
