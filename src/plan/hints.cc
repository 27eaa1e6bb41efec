#include "plan/hints.h"

#include <fmt/format.h>

#include <algorithm>

#include "base/text.h"
#include "policy/catalog.h"

namespace least::plan {

namespace {

bool matches(const std::vector<policy::ArgCheck>& when, const std::array<uint64_t, 6>& args) {
  return std::all_of(when.begin(), when.end(), [&](const policy::ArgCheck& c) {
    return c.arg < 6 && policy::check_holds(c, args[c.arg]);
  });
}

}  // namespace

Hint hint_for(const Plan& plan, std::string_view syscall, const std::array<uint64_t, 6>& args) {
  if (const SyscallRule* r = plan.seccomp.find(syscall);
      r && !r->sources.empty() && r->sources[0] == "[syscalls] deny")
    return {fmt::format("denied by [syscalls] deny \"{}\"", syscall), "[syscalls] deny"};
  if (syscall == "ioctl" && ((args[1] & 0xffffffff) == 0x5412 || (args[1] & 0xffffffff) == 0x541C))
    return {"never allowed: it would inject input into a terminal", "never"};
  if (syscall == "execve" || syscall == "execveat") return {"needs promise \"exec\"", "no promise"};
  // The first promise, in catalog order, that grants this call with these
  // arguments: the smallest change a person can make.
  for (const auto& p : policy::promise_catalog()) {
    if (contains(plan.promises, p.name)) continue;
    for (const auto& g : p.grants)
      if (g.syscall == syscall && matches(g.when, args))
        return {fmt::format("needs promise \"{}\"", p.name), "no promise"};
  }
  if (const auto* d = policy::find_dangerous(syscall))
    return {
        fmt::format("refused as dangerous ({}); only [syscalls] allow = [\"{}\"] would allow it",
                    d->why, syscall),
        "dangerous"};
  // Some promise grants the call, but never with these arguments.
  for (const auto& p : policy::promise_catalog())
    for (const auto& g : p.grants)
      if (g.syscall == syscall)
        return {fmt::format("no promise allows these arguments; [syscalls] allow = [\"{}\"] "
                            "would allow any",
                            syscall),
                "arguments"};
  return {fmt::format("no promise grants it; [syscalls] allow = [\"{}\"] would", syscall),
          "no promise"};
}

}  // namespace least::plan
