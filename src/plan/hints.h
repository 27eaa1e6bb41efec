// The smallest policy change that would allow a refused call: a promise, or
// a syscall by name. Pure: reads the Plan and the catalog, nothing else.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "plan/plan.h"

namespace least::plan {

struct Hint {
  std::string text;  // "needs promise \"inet\""
  std::string rule;  // what refused it: "no promise", "[syscalls] deny", "dangerous"
};

Hint hint_for(const Plan& plan, std::string_view syscall, const std::array<uint64_t, 6>& args);

}  // namespace least::plan
