// The consumer view of the seccomp Plan as the JSON that runtimes read.
//
// Conditions: the Plan's ArgCond is (arg & mask) == value on the 64-bit
// argument, which is exactly libseccomp's SCMP_CMP_MASKED_EQ with
// datum_a = mask and datum_b = value; runc (libseccomp-golang MakeCondition)
// and crun pass the JSON's `value` as datum_a and `valueTwo` as datum_b. So a
// condition is written as {op: MASKED_EQ, value: mask, valueTwo: datum}, or as
// {op: EQ, value: datum} when the mask covers all 64 bits. A 32-bit mask
// (int arguments) stays a 32-bit mask: the runtime's libseccomp then compiles
// the very comparison least's own filter has, upper half ignored, so negative
// ints (sign-extended by the caller) match the same way under both. Other
// operators (a policy's `when = "domain != AF_VSOCK"`) are written as
// SCMP_CMP_NE, _LT, ... on the whole argument, as both filters compare them.
#include "export/seccomp_json.h"

#include <errno.h>
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <tuple>

#include "plan/conditions.h"

namespace least::exporter {

namespace {

using nlohmann::json;

const char* arch_token(sys::Arch arch) {
  switch (arch) {
    case sys::Arch::kX86_64:
      return "SCMP_ARCH_X86_64";
    case sys::Arch::kAarch64:
      return "SCMP_ARCH_AARCH64";
  }
  return "SCMP_ARCH_NATIVE";
}

const char* action_name(const plan::Action& a) {
  switch (a.kind) {
    case plan::Action::Kind::kAllow:
      return "SCMP_ACT_ALLOW";
    case plan::Action::Kind::kErrno:
    case plan::Action::Kind::kNotify:  // the consumer view has none left
      return "SCMP_ACT_ERRNO";
    case plan::Action::Kind::kKillProcess:
      return "SCMP_ACT_KILL_PROCESS";
  }
  return "SCMP_ACT_KILL_PROCESS";
}

bool refuses_with_errno(const plan::Action& a) {
  return a.kind == plan::Action::Kind::kErrno || a.kind == plan::Action::Kind::kNotify;
}

// Two actions that a runtime cannot tell apart.
bool same_action(const plan::Action& a, const plan::Action& b) {
  if (refuses_with_errno(a) && refuses_with_errno(b)) return a.errno_value == b.errno_value;
  return a.kind == b.kind;
}

json arg_json(const plan::ArgCond& c) {
  json a = json::object();
  a["index"] = c.arg;
  if (c.op != plan::Compare::kMaskedEq) {
    a["value"] = c.value;
    a["valueTwo"] = 0;
    a["op"] = policy::scmp_name(c.op);
  } else if (c.mask == ~uint64_t{0}) {
    a["value"] = c.value;
    a["valueTwo"] = 0;
    a["op"] = "SCMP_CMP_EQ";
  } else {
    a["value"] = c.mask;
    a["valueTwo"] = c.value & c.mask;
    a["op"] = "SCMP_CMP_MASKED_EQ";
  }
  return a;
}

json entry(std::vector<std::string> names, const plan::Action& action) {
  std::sort(names.begin(), names.end());
  json e = json::object();
  e["names"] = std::move(names);
  e["action"] = action_name(action);
  if (refuses_with_errno(action)) e["errnoRet"] = action.errno_value;
  return e;
}

// Entries in a stable, readable order: allowed first, then errno answers by
// errno, then kills; conditional entries after the unconditional group of
// the same action, by syscall name.
int action_rank(const plan::Action& a) {
  switch (a.kind) {
    case plan::Action::Kind::kAllow:
      return 0;
    case plan::Action::Kind::kErrno:
    case plan::Action::Kind::kNotify:
      return 1;
    case plan::Action::Kind::kKillProcess:
      return 2;
  }
  return 3;
}

}  // namespace

nlohmann::json seccomp_json(const ConsumerSeccomp& consumer, SeccompDialect dialect,
                            std::vector<std::string>& notes) {
  const plan::SeccompPlan& sc = consumer.seccomp;
  json out = json::object();
  out["defaultAction"] = action_name(sc.default_action);
  if (refuses_with_errno(sc.default_action)) out["defaultErrnoRet"] = sc.default_action.errno_value;
  const char* arch = arch_token(sc.arch);
  if (dialect == SeccompDialect::kDocker) {
    // Docker adds the sub-architectures listed here to the filter; none are,
    // because least refuses the other ABIs (i386 int 0x80, x32) outright.
    out["archMap"] =
        json::array({json{{"architecture", arch}, {"subArchitectures", json::array()}}});
  } else {
    out["architectures"] = json::array({arch});
  }
  notes.push_back(fmt::format(
      "only the native ABI ({}) is listed, with no sub-architectures: calls through other ABIs "
      "(i386 int 0x80, x32) get the runtime's bad-architecture action (libseccomp's default "
      "kills the thread; least run kills the process)",
      arch));

  // Unconditional rules grouped by action; conditional ones one entry per
  // alternative. Rules answering as the default does are left out (runtimes
  // and libseccomp refuse or skip a rule that repeats the default action).
  using Key = std::tuple<int, int>;  // rank, errno
  std::map<Key, std::pair<plan::Action, std::vector<std::string>>> groups;
  std::map<Key, std::vector<json>> conditional;
  std::vector<std::string> numbered;
  for (const plan::SyscallRule& r : sc.rules) {
    if (same_action(r.action, sc.default_action)) continue;
    if (is_numbered(r)) {
      numbered.push_back(r.name);
      continue;
    }
    Key key{action_rank(r.action), refuses_with_errno(r.action) ? r.action.errno_value : 0};
    if (!r.conditional()) {
      auto& g = groups[key];
      g.first = r.action;
      g.second.push_back(r.name);
      continue;
    }
    for (const auto& alt : r.alternatives)
      for (const auto& merged : plan::one_check_per_argument(alt)) {  // none: can never match
        json e = entry({r.name}, r.action);
        json args = json::array();
        for (const plan::ArgCond& c : merged) args.push_back(arg_json(c));
        e["args"] = std::move(args);
        conditional[key].push_back(std::move(e));
      }
  }
  std::set<Key> keys;
  for (const auto& [k, g] : groups) keys.insert(k);
  for (const auto& [k, c] : conditional) keys.insert(k);
  json syscalls = json::array();
  for (const Key& k : keys) {
    if (auto g = groups.find(k); g != groups.end())
      syscalls.push_back(entry(g->second.second, g->second.first));
    if (auto c = conditional.find(k); c != conditional.end()) {
      std::stable_sort(c->second.begin(), c->second.end(), [](const json& a, const json& b) {
        return a["names"][0].get<std::string>() < b["names"][0].get<std::string>();
      });
      for (auto& e : c->second) syscalls.push_back(std::move(e));
    }
  }
  out["syscalls"] = std::move(syscalls);

  if (!numbered.empty()) {
    bool enosys = true;
    for (const plan::SyscallRule& r : sc.rules)
      if (is_numbered(r) && r.action != plan::Action::error(ENOSYS)) enosys = false;
    notes.push_back(fmt::format(
        "{} syscall numbers newer than libseccomp's tables ({} to {}) cannot be named in a "
        "profile and are left out: least run answers them {}, the runtime its default action "
        "(runc answers ENOSYS above the highest syscall a profile names)",
        numbered.size(), numbered.front(), numbered.back(),
        enosys ? "ENOSYS" : "as the policy says"));
  }
  return out;
}

}  // namespace least::exporter
