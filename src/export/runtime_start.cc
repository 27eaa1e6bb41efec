#include "export/runtime_start.h"

#include <fcntl.h>

#include <algorithm>

#include "sys/syscall_table.h"

namespace least::exporter {

namespace {

constexpr const char* kRuntimeStart =
    "consumer: runc opens its exec fifo and lists /proc/self/fd after installing the filter";

// Allows `name` under `alternatives` (empty: unconditionally) unless the plan
// already does; false when the plan refuses it outright by a rule of its own.
bool allow_for_runtime(plan::SeccompPlan& seccomp, const std::string& name,
                       const std::vector<std::vector<plan::ArgCond>>& alternatives, bool& added) {
  for (auto& r : seccomp.rules) {
    if (r.name != name) continue;
    if (r.action.kind != plan::Action::Kind::kAllow) return false;
    if (!r.conditional()) return true;
    if (alternatives.empty()) {
      r.alternatives.clear();
    } else {
      for (const auto& alt : alternatives)
        if (std::find(r.alternatives.begin(), r.alternatives.end(), alt) == r.alternatives.end())
          r.alternatives.push_back(alt);
    }
    r.sources.push_back(kRuntimeStart);
    added = true;
    return true;
  }
  auto number = sys::syscall_number(name, seccomp.arch);
  if (!number) return true;  // not on this architecture
  plan::SyscallRule rule;
  rule.name = name;
  rule.number = *number;
  rule.action = plan::Action::allow();
  rule.alternatives = alternatives;
  rule.sources = {kRuntimeStart};
  seccomp.rules.push_back(std::move(rule));
  std::sort(seccomp.rules.begin(), seccomp.rules.end(),
            [](const auto& a, const auto& b) { return a.number < b.number; });
  added = true;
  return true;
}

}  // namespace

void allow_runtime_start(ConsumerSeccomp& consumer) {
  // The flags exactly, but for O_LARGEFILE, which Go adds where it is not 0
  // (0x8000 on x86, 0x20000 on arm64; both bits are harmless otherwise).
  const uint64_t mask = 0xffffffffu & ~uint64_t{0x8000 | 0x20000};
  auto flags = [&](uint64_t value, const char* text) {
    return std::vector<plan::ArgCond>{{2, mask, value, text}};
  };
  const std::vector<std::vector<plan::ArgCond>> opens = {
      flags(O_WRONLY | O_CLOEXEC, "flags == O_WRONLY|O_CLOEXEC"),
      flags(O_RDONLY | O_CLOEXEC, "flags == O_RDONLY|O_CLOEXEC")};
  bool added = false, refused = false;
  refused |= !allow_for_runtime(consumer.seccomp, "openat", opens, added);
  refused |= !allow_for_runtime(consumer.seccomp, "fstatfs", {}, added);
  refused |= !allow_for_runtime(consumer.seccomp, "getdents64", {}, added);
  refused |= !allow_for_runtime(consumer.seccomp, "close", {}, added);
  if (added)
    consumer.notes.push_back(
        "openat with flags O_RDONLY|O_CLOEXEC or O_WRONLY|O_CLOEXEC (and fstatfs) are allowed: "
        "runc opens its exec fifo and lists /proc/self/fd after installing the filter, so "
        "without them no container starts; files in the container may then be opened with "
        "those flags, which `least run` refuses without rpath/wpath");
  if (refused)
    consumer.notes.push_back(
        "the policy denies openat, fstatfs, getdents64 or close by name: runc cannot start the "
        "container (it needs them after installing the filter); crun can");
}

}  // namespace least::exporter
