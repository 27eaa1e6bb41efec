// Small helpers over analyze::Value (object_summary.h).
#pragma once

#include <string>

#include "analyze/object_summary.h"

namespace least::analyze {

// "0x29", "0x1|0x2", "argument 0 (rdi)", "unknown": for notes and --json.
std::string describe(const Value& value);

Value constant(uint64_t c);
Value argument(uint8_t index);

}  // namespace least::analyze
