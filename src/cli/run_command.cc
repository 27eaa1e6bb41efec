// least run and least check: the program, confined (or watched).
#include <fmt/format.h>

#include <csignal>
#include <cstdio>
#include <memory>

#include "cli/app.h"
#include "cli/commands.h"
#include "cli/policy_options.h"
#include "enforce/filter_cache.h"
#include "enforce/landlock_ruleset.h"
#include "enforce/launcher.h"
#include "enforce/seccomp_filter.h"
#include "plan/lower.h"

namespace least::cli {

namespace {

struct RunOptions {
  PolicyOptions policy;
  bool best_effort = false;
  bool complain = false;  // least check
  std::string log_json;
  std::vector<std::string> command;
};

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

int run(const RunOptions& o) {
  const char* verb = o.complain ? "check" : "run";
  if (o.command.empty()) {
    print_error(fmt::format("{}: no program given: write it after --, as in `least {} -- ls -l`",
                            verb, verb));
    return kExitLeastFailed;
  }
  auto loaded = load_policy(o.policy);
  if (!loaded) return kExitLeastFailed;
  plan::Plan plan = o.complain ? plan::complain_plan(loaded->plan) : loaded->plan;
  if (!enforce::seccomp_listener_available()) {
    if (o.complain) {
      print_error(
          "check: another seccomp supervisor owns this process tree, so calls cannot be "
          "watched here");
      return kExitLeastFailed;
    }
    auto unsupervised = plan::without_supervisor(std::move(plan), o.best_effort);
    if (!unsupervised) {
      print_error(fmt::format("{}: {}", verb, unsupervised.error().str()));
      return kExitLeastFailed;
    }
    plan = std::move(*unsupervised);
    for (const auto& w : plan.warnings) print_warning(fmt::format("{}: {}", verb, w));
  }
  auto program = enforce::resolve_program(o.command[0]);
  if (!program) {
    print_error(fmt::format("{}: {}", verb, program.error().str()));
    return exit_code_for(program.error());
  }
  plan::allow_program(plan, *program);

  std::unique_ptr<std::FILE, FileCloser> json;
  if (!o.log_json.empty()) {
    // Appended to, never truncated: several runs can share one log.
    json.reset(std::fopen(o.log_json.c_str(), "ae"));
    if (!json) {
      print_error(
          fmt::format("{}: open the JSON log \"{}\": {}", verb, o.log_json, std::strerror(errno)));
      return kExitLeastFailed;
    }
  }

  auto filter = enforce::load_or_compile_seccomp(plan.seccomp);
  if (!filter) {
    print_error(fmt::format("{}: compile the seccomp filter: {}", verb, filter.error().str()));
    return kExitLeastFailed;
  }
  auto landlock = enforce::build_landlock_ruleset(plan, o.best_effort);
  if (!landlock) {
    print_error(fmt::format("{}: Landlock: {}", verb, landlock.error().str()));
    return kExitLeastFailed;
  }
  for (const auto& w : landlock->warnings) print_warning(fmt::format("{}: Landlock: {}", verb, w));
  auto caps = enforce::prepare_capabilities(plan.capabilities);
  if (!caps) {
    print_error(fmt::format("{}: capabilities: {}", verb, caps.error().str()));
    return kExitLeastFailed;
  }
  enforce::LaunchRequest request;
  request.argv = o.command;
  request.plan = &plan;
  request.filter = &*filter;
  request.landlock = &*landlock;
  request.capabilities = *caps;
  request.best_effort = o.best_effort;
  request.warn = [verb](const std::string& w) { print_warning(fmt::format("{}: {}", verb, w)); };
  request.supervision.complain = o.complain;
  request.supervision.json = json.get();
  request.supervision.print = [](const std::string& line) {
    std::fprintf(stderr, "%s\n", line.c_str());
  };
  auto status = enforce::run_confined(request);
  if (!status) {
    print_error(fmt::format("{}: {}", verb, status.error().str()));
    return exit_code_for(status.error());
  }
  if (*status == 128 + SIGSYS)
    print_warning(fmt::format(
        "{}: {} was killed by SIGSYS: a [syscalls] deny = \"kill\" rule, or a syscall through "
        "a non-native ABI (i386 int 0x80, x32)",
        verb, o.command[0]));
  return *status;
}

void add_common_options(CLI::App& sub, RunOptions& o) {
  o.policy.add_to(sub, true);
  sub.add_flag("--best-effort", o.best_effort,
               "Run even when a layer the policy needs cannot be enforced (each is named)");
  sub.add_option("--log-json", o.log_json,
                 "Append one JSON object per blocked call to FILE (docs/denials.md)")
      ->type_name("FILE");
  sub.add_option("command", o.command, "The program and its arguments, after --")
      ->type_name("PROGRAM ARGS...");
  sub.footer(
      "Exit status: the program's; 128+N when killed by signal N; 125 when least\n"
      "fails (bad policy included); 126 cannot execute; 127 not found.");
}

}  // namespace

Command add_run_command(CLI::App& app) {
  auto o = std::make_shared<RunOptions>();
  CLI::App* sub = app.add_subcommand(
      "run",
      "Run a program confined by a policy.\n"
      "With no promises given, the built-in default applies: everyday programs\n"
      "work, dangerous syscalls (mount, ptrace, bpf, ...) are refused. Every\n"
      "refused call is reported once, with the policy change that would allow it.");
  add_common_options(*sub, *o);
  return [o] { return run(*o); };
}

Command add_check_command(CLI::App& app) {
  auto o = std::make_shared<RunOptions>();
  o->complain = true;
  CLI::App* sub = app.add_subcommand(
      "check",
      "Try a policy on a real workload without enforcing it (complain mode).\n"
      "Nothing is refused: every call the policy would refuse is reported, with the\n"
      "same hints as run. Landlock is off, so path and port rules are not checked.");
  add_common_options(*sub, *o);
  return [o] { return run(*o); };
}

}  // namespace least::cli
