#include "sys/syscall_table.h"

#include <linux/audit.h>
#include <seccomp.h>
#include <stdlib.h>

#include <algorithm>
#include <array>
#include <memory>

namespace least::sys {

Arch native_arch() {
#if defined(__x86_64__)
  return Arch::kX86_64;
#elif defined(__aarch64__)
  return Arch::kAarch64;
#else
#error "least supports x86_64 and aarch64"
#endif
}

std::string_view arch_name(Arch arch) {
  return arch == Arch::kX86_64 ? "x86_64" : "aarch64";
}

std::optional<Arch> arch_from_name(std::string_view name) {
  if (name == "x86_64" || name == "amd64") return Arch::kX86_64;
  if (name == "aarch64" || name == "arm64") return Arch::kAarch64;
  return std::nullopt;
}

uint32_t seccomp_arch_token(Arch arch) {
  return arch == Arch::kX86_64 ? SCMP_ARCH_X86_64 : SCMP_ARCH_AARCH64;
}

uint32_t audit_arch(Arch arch) {
  return arch == Arch::kX86_64 ? AUDIT_ARCH_X86_64 : AUDIT_ARCH_AARCH64;
}

std::optional<int> syscall_number(std::string_view name, Arch arch) {
  std::string n(name);
  int nr = seccomp_syscall_resolve_name_arch(seccomp_arch_token(arch), n.c_str());
  // Negative numbers are libseccomp's pseudo-syscalls for calls this arch lacks.
  if (nr < 0) return std::nullopt;
  return nr;
}

bool syscall_known(std::string_view name) {
  return syscall_number(name, Arch::kX86_64) || syscall_number(name, Arch::kAarch64);
}

namespace {

// libseccomp's tables, read once per architecture: lowering consults them
// for every rule, and each lookup allocates.
struct Table {
  std::vector<std::string> names;      // known names, by number
  std::vector<std::string> by_number;  // index: number; "" where none
  int highest = 0;
};

Table read_table(Arch arch) {
  Table t;
  for (int nr = 0; nr <= kSyscallNumberCeiling; ++nr) {
    std::unique_ptr<char, decltype(&::free)> n(
        seccomp_syscall_resolve_num_arch(seccomp_arch_token(arch), nr), &::free);
    t.by_number.emplace_back(n ? n.get() : "");
    if (!n) continue;
    t.names.emplace_back(n.get());
    t.highest = nr;
  }
  return t;
}

const Table& table(Arch arch) {
  if (arch == Arch::kX86_64) {
    static const Table x86_64 = read_table(Arch::kX86_64);
    return x86_64;
  }
  static const Table aarch64 = read_table(Arch::kAarch64);
  return aarch64;
}

}  // namespace

std::optional<std::string> syscall_name(int number, Arch arch) {
  if (number < 0 || number > kSyscallNumberCeiling) return std::nullopt;
  const std::string& name = table(arch).by_number[static_cast<size_t>(number)];
  if (name.empty()) return std::nullopt;
  return name;
}

const std::vector<std::string>& syscall_names(Arch arch) {
  return table(arch).names;
}

const std::vector<std::string>& all_syscall_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> all = syscall_names(Arch::kX86_64);
    for (const auto& n : syscall_names(Arch::kAarch64)) all.push_back(n);
    std::sort(all.begin(), all.end());
    all.erase(std::unique(all.begin(), all.end()), all.end());
    return all;
  }();
  return names;
}

int highest_known_syscall(Arch arch) {
  return table(arch).highest;
}

}  // namespace least::sys
