#include "cli/app.h"

#include <fmt/format.h>

#include <map>
#include <memory>

#include "cli/commands.h"
#include "cli/policy_options.h"

namespace least::cli {

namespace {

constexpr const char* kDescription =
    "least: run programs with exactly the privileges they need.\n"
    "A policy (*.least.toml, or pledge-style flags) names what a program does;\n"
    "least enforces it with seccomp and no_new_privs and explains what it allows.\n\n"
    "Examples:\n"
    "  least run -- python3 script.py              built-in default policy\n"
    "  least run --promise \"stdio rpath\" -- cat /etc/hostname\n"
    "  least run -p examples/cat.least.toml -- cat /etc/hostname\n"
    "  least explain -p examples/cat.least.toml\n"
    "  least promises                             what each promise allows\n"
    "  least export -p app.least.toml --format docker   also oci, k8s, apparmor, systemd, bpf\n"
    "  least diff old.least.toml new.least.toml   what each allows that the other does not\n"
    "  least merge a.least.toml b.least.toml -o ab.least.toml   one policy allowing both\n"
    "  least learn -o app.least.toml -- ./app      write a policy by watching a run\n"
    "  least analyze /usr/sbin/nginx               every syscall its code can make\n\n"
    "Exit status: run gives the program's status (128+N for signal N), 125 when\n"
    "least itself fails (bad policy included), 126 when the program cannot be\n"
    "executed, 127 when it is not found; other commands 0, 1 on failure, 2 on bad input.";

}  // namespace

int exit_code_for(const Error& e) {
  switch (e.kind) {
    case ErrorKind::kNotFound:
      return kExitNotFound;
    case ErrorKind::kCannotExec:
      return kExitCannotExec;
    default:
      return kExitLeastFailed;
  }
}

int run_app(std::vector<std::string> args) {
  CLI::App app(kDescription, "least");
  app.require_subcommand(1);
  app.set_version_flag("--version", "least 0.1.0");
  app.footer("Run `least COMMAND --help` for the options of one command.");

  std::map<CLI::App*, Command> commands;
  auto add = [&](Command (*adder)(CLI::App&)) {
    size_t before = app.get_subcommands({}).size();
    Command c = adder(app);
    commands[app.get_subcommands({}).at(before)] = std::move(c);
  };
  add(add_run_command);
  add(add_check_command);
  add(add_explain_command);
  add(add_promises_command);
  add(add_export_command);
  add(add_import_command);
  add(add_bundle_command);
  add(add_diff_command);
  add(add_learn_command);
  add(add_merge_command);
  add(add_analyze_command);

  // CLI11 parses argv in reverse order from a vector; argv[0] excluded.
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  if (!reversed.empty()) reversed.pop_back();
  const bool is_run =
      args.size() > 1 && (args[1] == "run" || args[1] == "check" || args[1] == "learn");
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp& e) {
    fmt::print("{}", app.help());
    return kExitOk;
  } catch (const CLI::CallForAllHelp& e) {
    fmt::print("{}", app.help("", CLI::AppFormatMode::All));
    return kExitOk;
  } catch (const CLI::CallForVersion& e) {
    fmt::print("least 0.1.0\n");
    return kExitOk;
  } catch (const CLI::ParseError& e) {
    // Help for a subcommand arrives as CallForHelp from that subcommand.
    if (e.get_exit_code() == 0) {
      for (auto* sub : app.get_subcommands())
        if (sub->parsed()) fmt::print("{}", sub->help());
      return kExitOk;
    }
    print_error(e.what());
    fmt::print(stderr, "Run `least --help` for usage.\n");
    return is_run ? kExitLeastFailed : kExitUsage;
  }
  for (auto* sub : app.get_subcommands())
    if (auto it = commands.find(sub); it != commands.end()) return it->second();
  return kExitUsage;
}

}  // namespace least::cli
