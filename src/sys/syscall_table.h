// Syscall names and numbers per architecture, from libseccomp's tables: the
// one source of truth, so that policies name syscalls and never numbers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace least::sys {

enum class Arch { kX86_64, kAarch64 };

Arch native_arch();
std::string_view arch_name(Arch arch);  // "x86_64"
std::optional<Arch> arch_from_name(std::string_view name);
uint32_t seccomp_arch_token(Arch arch);  // SCMP_ARCH_*
uint32_t audit_arch(Arch arch);          // AUDIT_ARCH_*, as seccomp_data.arch

// The syscall's number on `arch`, or nullopt when that arch has no such call.
std::optional<int> syscall_number(std::string_view name, Arch arch);
std::optional<std::string> syscall_name(int number, Arch arch);
// True when any supported architecture knows the name.
bool syscall_known(std::string_view name);
// Every name libseccomp knows on `arch`, sorted by number.
const std::vector<std::string>& syscall_names(Arch arch);
// Every name known on any supported architecture, sorted, for suggestions.
const std::vector<std::string>& all_syscall_names();
// Highest number libseccomp has a name for; numbers above it up to
// kSyscallNumberCeiling are newer than our tables.
int highest_known_syscall(Arch arch);
inline constexpr int kSyscallNumberCeiling = 511;

}  // namespace least::sys
