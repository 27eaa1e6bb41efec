// least diff A B: what each policy allows that the other does not.
#include <fmt/format.h>

#include <memory>

#include "cli/app.h"
#include "cli/commands.h"
#include "cli/policy_options.h"
#include "plan/diff.h"

namespace least::cli {

namespace {

struct DiffOptions {
  std::string a, b;
  std::string arch;
  bool json = false;
};

int run_diff(const DiffOptions& o) {
  PolicyOptions pa, pb;
  pa.file = o.a;
  pb.file = o.b;
  pa.arch = pb.arch = o.arch;
  auto a = load_policy(pa);
  auto b = load_policy(pb);
  if (!a || !b) return kExitUsage;
  plan::PlanDiff d = plan::diff_plans(a->plan, b->plan);
  if (o.json)
    fmt::print("{}\n", plan::diff_json(d, o.a, o.b).dump(2));
  else
    fmt::print("{}", plan::render_diff(d, o.a, o.b));
  return d.empty() ? kExitOk : kExitFailure;
}

}  // namespace

Command add_diff_command(CLI::App& app) {
  auto o = std::make_shared<DiffOptions>();
  CLI::App* sub = app.add_subcommand(
      "diff",
      "Compare two policies layer by layer: what B allows that A does not, the reverse,\n"
      "and refusals answered differently. Policies are compared as enforced (their plans),\n"
      "so two that say the same thing differently are equal.\n"
      "Exit status: 0 when they allow the same, 1 when they differ, 2 on bad input.\n\n"
      "Example:\n"
      "  least diff learned.least.toml reviewed.least.toml");
  sub->add_option("A", o->a, "The first policy file")->required()->type_name("FILE");
  sub->add_option("B", o->b, "The second policy file")->required()->type_name("FILE");
  sub->add_option("--arch", o->arch, "Compare for this architecture (x86_64, aarch64)");
  sub->add_flag("--json", o->json, "Machine-readable output");
  return [o] { return run_diff(*o); };
}

}  // namespace least::cli
