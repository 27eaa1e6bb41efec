#include "policy/pledge_flags.h"

#include <fmt/format.h>

#include "base/text.h"
#include "policy/parser.h"

namespace least::policy {

bool PledgeFlags::any() const {
  return !promises.empty() || !read.empty() || !write.empty() || !create.empty() || !exec.empty() ||
         !connect.empty() || !bind.empty() || !allow_syscalls.empty() || !deny_syscalls.empty();
}

namespace {

Origin flag_origin(const std::string& flag, const std::string& value) {
  return Origin{"", 0, 0, fmt::format("{} \"{}\"", flag, value)};
}

void add_all(std::vector<Located<std::string>>& out, const std::vector<std::string>& values,
             const std::string& flag) {
  for (const auto& v : values) out.push_back({v, flag_origin(flag, v)});
}

}  // namespace

Policy policy_from_flags(const PledgeFlags& flags, Diagnostics& diags) {
  Policy p;
  if (!flags.promises.empty()) {
    p.promises_declared = true;
    p.promises_origin = flag_origin("--promise", flags.promises[0]);
  }
  for (const auto& group : flags.promises)
    for (auto& word : split_words(group))
      p.promises.push_back({word, flag_origin("--promise", group)});
  add_all(p.filesystem.read, flags.read, "--read");
  add_all(p.filesystem.write, flags.write, "--write");
  add_all(p.filesystem.create, flags.create, "--create");
  add_all(p.filesystem.exec, flags.exec, "--exec");
  add_all(p.network.connect, flags.connect, "--connect");
  add_all(p.network.bind, flags.bind, "--bind");
  add_all(p.syscalls.allow, flags.allow_syscalls, "--allow-syscall");
  for (const auto& text : flags.deny_syscalls) {
    Origin where = flag_origin("--deny-syscall", text);
    SyscallDeny d;
    auto eq = text.find('=');
    d.name = {text.substr(0, eq), where};
    d.action.origin = where;
    if (eq != std::string::npos) {
      auto action = parse_deny_action(text.substr(eq + 1));
      if (!action) {
        diags.error(where, "a deny action must be \"kill\" or an errno name",
                    "for example --deny-syscall ptrace=kill or --deny-syscall mount=EACCES");
        continue;
      }
      d.action.value = *action;
    }
    p.syscalls.deny.push_back(std::move(d));
  }
  return p;
}

}  // namespace least::policy
