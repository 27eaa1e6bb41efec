#include "cli/policy_options.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>

#include "plan/lower.h"
#include "policy/parser.h"

namespace least::cli {

void PolicyOptions::add_to(CLI::App& app, bool with_pledge_flags) {
  app.add_option("-p,--policy", file, "Policy file (*.least.toml)")->type_name("FILE");
  if (!with_pledge_flags) return;
  app.add_option("--promise", flags.promises,
                 "Promises, pledge-style: --promise \"stdio rpath\" (repeatable)")
      ->type_name("LIST")
      ->allow_extra_args(false);
  app.add_option("--read", flags.read, "Allow reading beneath PATH")
      ->type_name("PATH")
      ->allow_extra_args(false);
  app.add_option("--write", flags.write, "Allow writing beneath PATH")
      ->type_name("PATH")
      ->allow_extra_args(false);
  app.add_option("--create", flags.create, "Allow creating files beneath PATH")
      ->type_name("PATH")
      ->allow_extra_args(false);
  app.add_option("--exec", flags.exec, "Allow executing files beneath PATH")
      ->type_name("PATH")
      ->allow_extra_args(false);
  app.add_option("--connect", flags.connect, "Allow connecting to tcp:PORT")
      ->type_name("PROTO:PORT")
      ->allow_extra_args(false);
  app.add_option("--bind", flags.bind, "Allow binding tcp:PORT")
      ->type_name("PROTO:PORT")
      ->allow_extra_args(false);
  app.add_option("--allow-syscall", flags.allow_syscalls, "Allow a syscall by name")
      ->type_name("NAME")
      ->allow_extra_args(false);
  app.add_option("--deny-syscall", flags.deny_syscalls,
                 "Refuse a syscall by name; NAME=kill or NAME=EACCES picks the answer")
      ->type_name("NAME[=ACTION]")
      ->allow_extra_args(false);
}

bool use_color() {
  const char* no_color = std::getenv("NO_COLOR");
  return isatty(STDERR_FILENO) && !(no_color && *no_color);
}

void print_error(const std::string& message) {
  bool c = use_color();
  fmt::print(stderr, "least: {}error{}: {}\n", c ? "\033[1;31m" : "", c ? "\033[0m" : "", message);
}

void print_warning(const std::string& message) {
  bool c = use_color();
  fmt::print(stderr, "least: {}warning{}: {}\n", c ? "\033[1;35m" : "", c ? "\033[0m" : "",
             message);
}

std::optional<LoadedPolicy> load_policy(const PolicyOptions& options) {
  policy::Diagnostics diags;
  LoadedPolicy loaded;
  if (!options.file.empty()) {
    auto p = policy::load_policy_file(options.file, diags);
    if (p) loaded.policy = std::move(*p);
  }
  policy::Diagnostics flag_diags;
  policy::merge_into(loaded.policy, policy::policy_from_flags(options.flags, flag_diags));
  diags.append(flag_diags);
  if (!diags.has_errors()) policy::validate_policy(loaded.policy, diags);
  fmt::print(stderr, "{}", diags.render(use_color()));
  if (diags.has_errors()) return std::nullopt;

  sys::Arch arch = sys::native_arch();
  if (!options.arch.empty()) {
    auto a = sys::arch_from_name(options.arch);
    if (!a) {
      print_error(
          fmt::format("unknown architecture \"{}\": expected x86_64 or aarch64", options.arch));
      return std::nullopt;
    }
    arch = *a;
  }
  auto plan = plan::lower_policy(loaded.policy, arch);
  if (!plan) {
    print_error(plan.error().str());
    return std::nullopt;
  }
  loaded.plan = std::move(*plan);
  for (const auto& w : loaded.plan.warnings) print_warning(w);
  return loaded;
}

}  // namespace least::cli
