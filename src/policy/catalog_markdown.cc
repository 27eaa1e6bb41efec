// docs/promises.md, rendered from the catalog so the docs cannot drift from
// what the lowering enforces.
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "policy/catalog.h"

namespace least::policy {
namespace {

std::string code(std::string_view s) {
  return "`" + std::string(s) + "`";
}

// Summaries are written to follow "promise:"; a sentence starts upper case.
std::string sentence(std::string_view s) {
  std::string out(s);
  if (!out.empty() && out[0] >= 'a' && out[0] <= 'z')
    out[0] = static_cast<char>(out[0] - 'a' + 'A');
  return out;
}

// A table cell: a literal '|' would end the cell, even inside a code span.
std::string cell(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '|') out += '\\';
    out += c;
  }
  return out;
}

std::string join_codes(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i) out += ", ";
    out += code(names[i]);
  }
  return out;
}

std::string checks_text(const SyscallGrant& g) {
  std::string out;
  for (size_t i = 0; i < g.when.size(); ++i) {
    if (i) out += " and ";
    out += code(g.when[i].text);
  }
  return out;
}

// The syscalls a promise grants, split into unconditional ones and, for the
// rest, the alternatives under which each is allowed. A syscall granted
// unconditionally is listed only there.
struct PromiseView {
  std::vector<std::string> unconditional;                               // sorted
  std::map<std::string, std::vector<const SyscallGrant*>> conditional;  // by name
};

PromiseView view(const Promise& p) {
  std::set<std::string> free;
  for (const SyscallGrant& g : p.grants)
    if (g.when.empty()) free.insert(g.syscall);
  PromiseView v;
  v.unconditional.assign(free.begin(), free.end());
  for (const SyscallGrant& g : p.grants)
    if (!g.when.empty() && !free.contains(g.syscall)) v.conditional[g.syscall].push_back(&g);
  return v;
}

size_t syscall_count(const Promise& p) {
  std::set<std::string_view> names;
  for (const SyscallGrant& g : p.grants) names.insert(g.syscall);
  return names.size();
}

void render_promise(const Promise& p, std::string& out) {
  out += "## " + p.name + "\n\n" + sentence(p.summary) + ".\n\n";
  PromiseView v = view(p);
  if (v.unconditional.empty() && v.conditional.empty()) {
    out += "Grants no syscall of its own.\n\n";
    return;
  }
  if (!v.unconditional.empty()) {
    out += "Always (" + std::to_string(v.unconditional.size()) + "): ";
    out += join_codes(v.unconditional) + ".\n\n";
  }
  if (!v.conditional.empty()) {
    out += "Only with these arguments:\n\n";
    for (const auto& [name, grants] : v.conditional) {
      if (grants.size() == 1) {
        out += "- " + code(name) + " when " + checks_text(*grants.front()) + "\n";
        continue;
      }
      out += "- " + code(name) + " when one of:\n";
      for (const SyscallGrant* g : grants) out += "  - " + checks_text(*g) + "\n";
    }
    out += "\n";
  }
}

// The promises that grant `syscall`, in catalog order, as code spans.
std::string granted_by(std::string_view syscall) {
  std::vector<std::string> names;
  for (const Promise& p : promise_catalog())
    if (std::any_of(p.grants.begin(), p.grants.end(),
                    [&](const SyscallGrant& g) { return g.syscall == syscall; }))
      names.push_back(p.name);
  return join_codes(names);
}

}  // namespace

std::string render_promises_markdown() {
  std::string out;
  out += "# Promises\n\n";
  out +=
      "<!-- Generated from src/policy/catalog.cc by render_promises_markdown(); "
      "do not edit. -->\n\n";
  out +=
      "A promise names a class of behaviour, with the names OpenBSD's pledge(2) made "
      "familiar. A policy lists the promises a program needs "
      "(`promises = [\"stdio\", \"rpath\", \"inet\"]`); every syscall that no listed promise "
      "grants is refused. Promises are portable: they name syscalls, never numbers, and a "
      "syscall one architecture (x86_64, aarch64) lacks is skipped there.\n\n";
  out +=
      "A promise grants a syscall always, or only when its arguments pass checks. Each check "
      "reads `(arg & mask) == value`; all checks of one grant must hold, and any one grant of "
      "a syscall, from any listed promise, is enough. Integer arguments are compared on their "
      "low 32 bits, as the kernel reads them, so a high bit cannot slip past a check. "
      "Pointers are never followed: seccomp cannot read memory, so paths are held by "
      "Landlock and descriptor passing by the supervisor.\n\n";
  out +=
      "Syscalls that no promise grants are either dangerous (refused, and warned about when a "
      "policy allows them by name in `[syscalls] allow`) or unpromised (refused unless allowed "
      "by name). A syscall the catalog does not know at all, such as `clone3`, answers "
      "`ENOSYS`, as if the kernel lacked it, so that libc falls back to the older call.\n\n";

  out += "## Summary\n\n| promise | what it allows | syscalls |\n|---|---|---|\n";
  for (const Promise& p : promise_catalog())
    out += "| [" + code(p.name) + "](#" + p.name + ") | " + cell(sentence(p.summary)) + " | " +
           std::to_string(syscall_count(p)) + " |\n";
  out += "\n";

  for (const Promise& p : promise_catalog()) render_promise(p, out);

  out += "## Dangerous syscalls\n\n";
  out +=
      "Refused unless a policy allows them by name in `[syscalls] allow` or takes a promise "
      "that grants them (last column); `least` warns whenever a policy ends up allowing "
      "one.\n\n";
  out += "| syscall | why | granted by |\n|---|---|---|\n";
  std::vector<const DangerousSyscall*> dangerous;
  for (const DangerousSyscall& d : dangerous_syscalls()) dangerous.push_back(&d);
  std::sort(dangerous.begin(), dangerous.end(),
            [](auto* a, auto* b) { return a->syscall < b->syscall; });
  for (const DangerousSyscall* d : dangerous)
    out += "| " + code(d->syscall) + " | " + cell(d->why) + " | " + granted_by(d->syscall) + " |\n";
  out += "\n";

  out += "## Unpromised syscalls\n\n";
  out +=
      "Known, not dangerous, but granted by no promise: obsolete calls, calls Linux never "
      "implemented, and rarely needed interfaces (Linux AIO, System V IPC, POSIX message "
      "queues). Allow them by name in `[syscalls] allow`.\n\n";
  std::vector<std::string> unpromised = unpromised_syscalls();
  std::sort(unpromised.begin(), unpromised.end());
  out += join_codes(unpromised) + ".\n\n";

  out += "## Default promises\n\n";
  out += "`least run -- prog` without a policy applies:\n\n";
  std::string defaults;
  for (const std::string& name : default_promises())
    defaults += (defaults.empty() ? "" : " ") + name;
  out += "```\n" + defaults + "\n```\n\n";
  out +=
      "Enough for shells, coreutils, python3, git and curl; tighter than Docker's default "
      "profile: no `id` or `settime`, no namespaces, no ptrace, only IP, Unix and routing "
      "netlink sockets, only the listed ioctl requests.\n";
  return out;
}

}  // namespace least::policy
