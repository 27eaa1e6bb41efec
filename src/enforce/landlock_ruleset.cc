#include "enforce/landlock_ruleset.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>

#include "base/text.h"
#include "sys/landlock.h"

namespace least::enforce {

namespace ll = sys::landlock;

namespace {

constexpr uint64_t kFileOnlyRights =
    ll::kExecute | ll::kWriteFile | ll::kReadFile | ll::kTruncate | ll::kIoctlDev;

uint64_t landlock_rights(uint32_t access) {
  uint64_t r = 0;
  if (access & plan::kPathRead) r |= ll::kReadFile | ll::kReadDir;
  if (access & plan::kPathWrite) r |= ll::kWriteFile | ll::kTruncate | ll::kIoctlDev;
  if (access & plan::kPathCreate)
    r |= ll::kMakeReg | ll::kMakeDir | ll::kMakeSym | ll::kMakeFifo | ll::kMakeSock |
         ll::kRemoveFile | ll::kRemoveDir | ll::kRefer;
  if (access & plan::kPathFifo) r |= ll::kMakeFifo;
  if (access & plan::kPathSocket) r |= ll::kMakeSock;
  if (access & plan::kPathExec) r |= ll::kExecute;
  return r;
}

// Held without [filesystem] paths: only what the promises withhold. Device
// ioctls stay out so a tty opened under the tty promise keeps working.
uint64_t promise_handled_rights(uint32_t handled) {
  uint64_t r = landlock_rights(handled & ~plan::kPathCreate);
  if (handled & plan::kPathCreate)
    r |= landlock_rights(plan::kPathCreate) & ~(ll::kMakeFifo | ll::kMakeSock);
  return r & ~ll::kIoctlDev;
}

std::string names_of(uint64_t rights) {
  std::vector<std::string> names;
  for (uint64_t bit = 1; bit <= ll::kIoctlDev; bit <<= 1)
    if (rights & bit) names.push_back(ll::fs_right_name(bit));
  return join(names, ", ");
}

}  // namespace

Result<LandlockRuleset> build_landlock_ruleset(const plan::Plan& plan, bool best_effort) {
  LandlockRuleset out;
  out.abi = ll::abi_version();
  const bool ports_listed = !plan.network.connect.empty() || !plan.network.bind.empty();

  auto gap = [&](std::string what) -> Status {
    if (!best_effort)
      return make_error(ErrorKind::kUnsupported,
                        fmt::format("{} (pass --best-effort to run without it)", what));
    out.warnings.push_back(what);
    return ok_status();
  };

  if (out.abi == 0) {
    if (plan.filesystem.restricted)
      LEAST_TRY(gap("this kernel has no Landlock, so [filesystem] paths cannot be enforced"));
    if (ports_listed)
      LEAST_TRY(gap("this kernel has no Landlock, so [network] ports cannot be enforced"));
    if (!plan.filesystem.restricted && plan.filesystem.handled)
      LEAST_TRY(
          gap("this kernel has no Landlock, so open() could write or create files that the "
              "promises do not allow"));
    return out;
  }

  ll::RulesetAttr attr;
  uint64_t wanted_fs = 0;
  if (plan.filesystem.restricted) {
    attr.handled_access_fs = ll::fs_rights_for_abi(out.abi);
    for (const auto& r : plan.filesystem.rules) wanted_fs |= landlock_rights(r.access);
    if (uint64_t lost = wanted_fs & ~attr.handled_access_fs)
      out.warnings.push_back(fmt::format(
          "Landlock ABI {} cannot restrict: {}; those operations stay allowed everywhere", out.abi,
          names_of(lost)));
  } else if (plan.filesystem.handled) {
    attr.handled_access_fs =
        promise_handled_rights(plan.filesystem.handled) & ll::fs_rights_for_abi(out.abi);
  }
  if (plan.network.tcp_restricted) {
    if (out.abi >= 4)
      attr.handled_access_net = ll::kBindTcp | ll::kConnectTcp;
    else if (ports_listed)
      LEAST_TRY(
          gap(fmt::format("Landlock ABI {} has no network rules (needs 4), so [network] "
                          "ports cannot be enforced",
                          out.abi)));
  }
  if (out.abi >= 6) {
    if (plan.scope.abstract_unix_sockets) attr.scoped |= ll::kScopeAbstractUnixSocket;
    if (plan.scope.signals) attr.scoped |= ll::kScopeSignal;
  }
  if (!attr.handled_access_fs && !attr.handled_access_net && !attr.scoped) return out;

  auto fd = ll::create_ruleset(attr, out.abi);
  if (!fd) return std::move(fd).error();
  out.fd = std::move(*fd);

  for (const auto& rule : plan.filesystem.rules) {
    if (rule.path == "/proc/self" || rule.path.rfind("/proc/self/", 0) == 0 ||
        rule.path == "/proc/thread-self" || rule.path.rfind("/proc/thread-self/", 0) == 0) {
      out.in_child.push_back({rule.path, landlock_rights(rule.access) & attr.handled_access_fs});
      continue;
    }
    UniqueFd path(open(rule.path.c_str(), O_PATH | O_CLOEXEC));
    if (!path.valid())
      return sys_error(fmt::format("open \"{}\" for a Landlock rule ({})", rule.path, rule.source),
                       errno);
    struct stat st;
    if (fstat(path.get(), &st) != 0) return sys_error(fmt::format("stat \"{}\"", rule.path), errno);
    uint64_t access = landlock_rights(rule.access) & attr.handled_access_fs;
    if (!S_ISDIR(st.st_mode)) access &= kFileOnlyRights;
    if (!access) continue;
    auto r = ll::add_path_rule(out.fd.get(), path.get(), access);
    if (!r) return std::move(r).context(fmt::format("allow \"{}\"", rule.path)).error();
  }
  if (attr.handled_access_net) {
    for (const auto& p : plan.network.connect)
      if (p.protocol == "tcp") LEAST_TRY(ll::add_port_rule(out.fd.get(), p.port, ll::kConnectTcp));
    for (const auto& p : plan.network.bind)
      if (p.protocol == "tcp") LEAST_TRY(ll::add_port_rule(out.fd.get(), p.port, ll::kBindTcp));
  }
  return out;
}

int add_deferred_rules(int ruleset_fd,
                       const std::vector<LandlockRuleset::Deferred>& rules) noexcept {
  for (const auto& rule : rules) {
    int fd = open(rule.path.c_str(), O_PATH | O_CLOEXEC);
    if (fd < 0) return errno;
    struct stat st;
    uint64_t access = rule.access;
    if (fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode)) access &= kFileOnlyRights;
    int err = access ? ll::add_path_rule_raw(ruleset_fd, fd, access) : 0;
    close(fd);
    if (err != 0) return err;
  }
  return 0;
}

}  // namespace least::enforce
