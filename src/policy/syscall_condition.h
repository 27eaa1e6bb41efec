// Conditions on syscall arguments: what the catalog grants a call under, and
// what a policy writes in `[syscalls] allow` as
//   { name = "socket", when = "domain != AF_VSOCK" }.
// One check compares one argument; checks in one condition are ANDed, and a
// syscall's several conditions are alternatives.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace least::policy {

// kMaskedEq is (arg & mask) == value; the others compare the whole 64-bit
// argument with value, exactly as seccomp profiles (SCMP_CMP_NE, _LT, ...)
// and libseccomp do. The kernel reads an int argument's low 32 bits only, so
// the catalog checks ints with mask 0xffffffff; an ordering or != check on an
// int also sees the upper half, which a caller controls.
enum class Compare : uint8_t { kMaskedEq, kNe, kLt, kLe, kGt, kGe };

struct ArgCheck {
  uint8_t arg = 0;
  uint64_t mask = 0;  // kMaskedEq only
  uint64_t value = 0;
  std::string text;  // for people: "domain == AF_INET", "flags & CLONE_NEW* == 0"
  Compare op = Compare::kMaskedEq;
};

// Parses one condition for `syscall`: checks joined by "&&", each
//   ARG OP VALUE        OP one of == != < <= > >=
//   ARG & MASK == VALUE
// ARG is arg0..arg5 or the argument's name ("domain" for socket); VALUE and
// MASK are numbers (decimal, 0x hex, or negative for the 64-bit two's
// complement) or constants ("AF_INET", "CLONE_NEWUSER|CLONE_NEWNS"). Errors
// say what is wrong and what would be right.
Result<std::vector<ArgCheck>> parse_condition(std::string_view syscall, std::string_view text);

// The text a person would write for one check: the argument's name and the
// constants of its kind where known ("domain != AF_VSOCK"), else numbers.
std::string render_check(std::string_view syscall, const ArgCheck& check);

// Whether `check` holds for the argument value `arg` (the one it names).
bool check_holds(const ArgCheck& check, uint64_t arg);

// The name of `op` in seccomp profiles (Docker/OCI JSON) and libseccomp
// ("SCMP_CMP_NE"; kMaskedEq is "SCMP_CMP_MASKED_EQ"), and back: nullopt for
// a name that is none of the six (SCMP_CMP_EQ is a kMaskedEq with a full
// mask: the caller decides).
const char* scmp_name(Compare op);
std::optional<Compare> compare_of_scmp_name(std::string_view name);

// The argument names parse_condition accepts for `syscall` ("" for unnamed
// positions), for help and error messages.
std::vector<std::string> argument_names(std::string_view syscall);

}  // namespace least::policy
