// least run: the program, confined.
#include <fmt/format.h>

#include <csignal>
#include <memory>

#include "cli/app.h"
#include "cli/commands.h"
#include "cli/policy_options.h"
#include "enforce/landlock_ruleset.h"
#include "enforce/launcher.h"
#include "enforce/filter_cache.h"
#include "plan/lower.h"

namespace least::cli {

namespace {

struct RunOptions {
  PolicyOptions policy;
  bool best_effort = false;
  std::vector<std::string> command;
};

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

int run(const RunOptions& o) {
  if (o.command.empty()) {
    print_error("run: no program given: write it after --, as in `least run -- ls -l`");
    return kExitLeastFailed;
  }
  auto loaded = load_policy(o.policy);
  if (!loaded) return kExitLeastFailed;
  plan::Plan& plan = loaded->plan;
  auto program = enforce::resolve_program(o.command[0]);
  if (!program) {
    print_error("run: " + program.error().str());
    return exit_code_for(program.error());
  }
  plan::allow_program(plan, *program);

  auto filter = enforce::load_or_compile_seccomp(plan.seccomp);
  if (!filter) {
    print_error("run: compile the seccomp filter: " + filter.error().str());
    return kExitLeastFailed;
  }
  auto landlock = enforce::build_landlock_ruleset(plan, o.best_effort);
  if (!landlock) {
    print_error("run: Landlock: " + landlock.error().str());
    return kExitLeastFailed;
  }
  for (const auto& w : landlock->warnings) print_warning("run: Landlock: " + w);
  auto caps = enforce::prepare_capabilities(plan.capabilities);
  if (!caps) {
    print_error("run: capabilities: " + caps.error().str());
    return kExitLeastFailed;
  }
  enforce::LaunchRequest request;
  request.argv = o.command;
  request.plan = &plan;
  request.filter = &*filter;
  request.landlock = &*landlock;
  request.capabilities = *caps;
  request.best_effort = o.best_effort;
  request.warn = [](const std::string& w) { print_warning("run: " + w); };
  auto status = enforce::run_confined(request);
  if (!status) {
    print_error("run: " + status.error().str());
    return exit_code_for(status.error());
  }
  if (*status == 128 + SIGSYS)
    print_warning(fmt::format(
        "run: {} was killed by SIGSYS: a [syscalls] deny = \"kill\" rule, or a syscall through "
        "a non-native ABI (i386 int 0x80, x32)",
        o.command[0]));
  return *status;
}

}  // namespace

Command add_run_command(CLI::App& app) {
  auto o = std::make_shared<RunOptions>();
  CLI::App* sub = app.add_subcommand(
      "run",
      "Run a program confined by a policy.\n"
      "With no -p and no flags, the built-in default policy applies: everyday\n"
      "programs work, dangerous syscalls (mount, ptrace, bpf, ...) are refused.");
  o->policy.add_to(*sub, true);
  sub->add_flag("--best-effort", o->best_effort,
                "Run even when a layer the policy needs cannot be enforced (each is named)");
  sub->add_option("command", o->command, "The program and its arguments, after --")
      ->type_name("PROGRAM ARGS...");
  sub->footer(
      "Exit status: the program's; 128+N when killed by signal N; 125 when least\n"
      "fails (bad policy included); 126 cannot execute; 127 not found.");
  return [o] { return run(*o); };
}

}  // namespace least::cli
