// Policies united: several learned runs (--merge), or files learned on
// different machines (least merge).
#include <fmt/format.h>

#include "base/text.h"
#include "learn/draft.h"
#include "learn/policy_writer.h"
#include "policy/parser.h"

namespace least::learn {

Result<std::string> merge_policies(const std::vector<PolicySource>& sources) {
  if (sources.empty()) return make_error(ErrorKind::kUsage, "no policies to merge");
  policy::Diagnostics diags;
  std::optional<Draft> merged;
  for (const auto& s : sources) {
    diags.add_source(s.name, s.text);
    auto parsed = policy::parse_policy_text(s.text, s.name, diags);
    if (!parsed) continue;
    // Paths are not checked for existence: a policy learned on another
    // machine may name paths this one lacks, and merging must not lose them.
    policy::validate_policy(*parsed, diags, {.check_paths_exist = false});
    if (diags.has_errors()) continue;
    Draft d = from_policy(*parsed, s.text);
    if (!merged)
      merged = std::move(d);
    else
      merge_draft(*merged, d);
  }
  if (diags.has_errors()) return make_error(ErrorKind::kPolicy, diags.render());
  std::vector<std::string> names;
  for (const auto& s : sources) names.push_back(s.name);
  merged->header.push_back(fmt::format("Merged by `least merge` from: {}", join(names, ", ")));
  return render_toml(*merged);
}

}  // namespace least::learn
