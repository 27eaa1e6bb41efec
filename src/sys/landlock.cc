#include "sys/landlock.h"

#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#define SYS_landlock_add_rule 445
#define SYS_landlock_restrict_self 446
#endif

namespace least::sys::landlock {

namespace {

constexpr uint32_t kCreateRulesetVersion = 1U << 0;
constexpr int kRulePathBeneath = 1;
constexpr int kRuleNetPort = 2;

struct __attribute__((packed)) PathBeneathAttr {
  uint64_t allowed_access;
  int32_t parent_fd;
};

struct NetPortAttr {
  uint64_t allowed_access;
  uint64_t port;
};

}  // namespace

uint64_t fs_rights_for_abi(int abi) {
  uint64_t rights = (kMakeSym << 1) - 1;  // ABI 1: bits 0..12
  if (abi >= 2) rights |= kRefer;
  if (abi >= 3) rights |= kTruncate;
  if (abi >= 5) rights |= kIoctlDev;
  return abi >= 1 ? rights : 0;
}

const char* fs_right_name(uint64_t right) {
  switch (right) {
    case kExecute:
      return "execute";
    case kWriteFile:
      return "write";
    case kReadFile:
      return "read files";
    case kReadDir:
      return "read directories";
    case kRemoveDir:
      return "remove directories";
    case kRemoveFile:
      return "remove files";
    case kMakeChar:
      return "make character devices";
    case kMakeDir:
      return "make directories";
    case kMakeReg:
      return "make files";
    case kMakeSock:
      return "make sockets";
    case kMakeFifo:
      return "make fifos";
    case kMakeBlock:
      return "make block devices";
    case kMakeSym:
      return "make symlinks";
    case kRefer:
      return "link or rename across directories";
    case kTruncate:
      return "truncate";
    case kIoctlDev:
      return "ioctl on devices";
  }
  return "?";
}

int abi_version() {
  long abi = syscall(SYS_landlock_create_ruleset, nullptr, 0, kCreateRulesetVersion);
  return abi < 0 ? 0 : static_cast<int>(abi);
}

Result<UniqueFd> create_ruleset(const RulesetAttr& attr, int abi) {
  // The kernel takes the size of the struct it should read: older ABIs do not
  // know the net and scope fields and would refuse them.
  size_t size = abi >= 6 ? sizeof(RulesetAttr) : abi >= 4 ? 2 * sizeof(uint64_t) : sizeof(uint64_t);
  long fd = syscall(SYS_landlock_create_ruleset, &attr, size, 0);
  if (fd < 0) return sys_error("landlock_create_ruleset", errno);
  return UniqueFd(static_cast<int>(fd));
}

int add_path_rule_raw(int ruleset_fd, int parent_fd, uint64_t access) noexcept {
  PathBeneathAttr attr{access, parent_fd};
  if (syscall(SYS_landlock_add_rule, ruleset_fd, kRulePathBeneath, &attr, 0) != 0) return errno;
  return 0;
}

Status add_path_rule(int ruleset_fd, int parent_fd, uint64_t access) {
  if (int err = add_path_rule_raw(ruleset_fd, parent_fd, access); err != 0)
    return sys_error("landlock_add_rule", err);
  return ok_status();
}

Status add_port_rule(int ruleset_fd, uint64_t port, uint64_t access) {
  NetPortAttr attr{access, port};
  if (syscall(SYS_landlock_add_rule, ruleset_fd, kRuleNetPort, &attr, 0) != 0)
    return sys_error("landlock_add_rule (port)", errno);
  return ok_status();
}

int restrict_self(int ruleset_fd) {
  if (syscall(SYS_landlock_restrict_self, ruleset_fd, 0) != 0) return errno;
  return 0;
}

}  // namespace least::sys::landlock
