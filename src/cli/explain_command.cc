// least explain: what a policy allows, before anything runs.
#include <fmt/format.h>

#include <memory>

#include "cli/app.h"
#include "cli/commands.h"
#include "cli/policy_options.h"
#include "enforce/seccomp_filter.h"
#include "plan/explain.h"

namespace least::cli {

namespace {

struct ExplainOptions {
  PolicyOptions policy;
  bool pfc = false;
};

int explain(const ExplainOptions& o) {
  auto loaded = load_policy(o.policy);
  if (!loaded) return kExitUsage;
  if (o.pfc) {
    auto text = enforce::render_seccomp_pfc(loaded->plan.seccomp);
    if (!text) {
      print_error("explain: " + text.error().str());
      return kExitFailure;
    }
    fmt::print("{}", *text);
    return kExitOk;
  }
  std::string source = !o.policy.file.empty() ? o.policy.file
                       : o.policy.flags.any() ? "command-line flags"
                                              : "none given";
  fmt::print("{}", plan::render_explanation(loaded->plan, source));
  return kExitOk;
}

}  // namespace

Command add_explain_command(CLI::App& app) {
  auto o = std::make_shared<ExplainOptions>();
  CLI::App* sub = app.add_subcommand(
      "explain",
      "Say what a policy allows: promises, the syscalls they bring, argument checks,\n"
      "dangerous syscalls that remain, and a comparison with Docker's default profile.");
  o->policy.add_to(*sub, true);
  sub->add_option("--arch", o->policy.arch, "Explain for this architecture (x86_64, aarch64)");
  sub->add_flag("--pfc", o->pfc, "Print the compiled filter as libseccomp pseudo-code");
  return [o] { return explain(*o); };
}

}  // namespace least::cli
