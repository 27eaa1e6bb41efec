// Fuzzes the whole front end: TOML parsing, validation, lowering and the
// rendering of diagnostics and explanations. None of it may crash, leak or
// hit undefined behaviour, whatever the input.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "plan/explain.h"
#include "plan/lower.h"
#include "policy/parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  least::policy::Diagnostics diags;
  auto policy = least::policy::parse_policy_text(text, "fuzz.least.toml", diags);
  if (policy) least::policy::validate_policy(*policy, diags, {.check_paths_exist = false});
  (void)diags.render(false);
  if (!policy || diags.has_errors()) return 0;
  auto plan = least::plan::lower_policy(*policy);
  if (plan) (void)least::plan::render_explanation(*plan, "fuzz.least.toml");
  return 0;
}
