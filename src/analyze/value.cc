#include "analyze/value.h"

#include <fmt/format.h>

namespace least::analyze {

namespace {
constexpr const char* kArgumentRegisters[] = {"rdi", "rsi", "rdx", "rcx", "r8", "r9"};
}  // namespace

std::string describe(const Value& value) {
  switch (value.kind) {
    case Value::Kind::unknown:
      return "unknown";
    case Value::Kind::argument:
      return fmt::format("argument {} ({})", value.argument,
                         value.argument < 6 ? kArgumentRegisters[value.argument] : "?");
    case Value::Kind::constants: {
      std::string out;
      for (uint64_t c : value.constants) out += (out.empty() ? "" : "|") + fmt::format("{:#x}", c);
      return out.empty() ? "none" : out;
    }
  }
  return "unknown";
}

Value constant(uint64_t c) {
  return Value{Value::Kind::constants, {c}, 0};
}

Value argument(uint8_t index) {
  return Value{Value::Kind::argument, {}, index};
}

}  // namespace least::analyze
