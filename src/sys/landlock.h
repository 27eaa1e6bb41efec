// Landlock: the three syscalls and the ABI constants the packaged headers
// (Linux 6.1 on Debian 12) lack, defined here and nowhere else.
#pragma once

#include <cstdint>

#include "base/error.h"
#include "base/unique_fd.h"

namespace least::sys::landlock {

// Filesystem rights (ABI 1 unless noted).
inline constexpr uint64_t kExecute = 1ULL << 0;
inline constexpr uint64_t kWriteFile = 1ULL << 1;
inline constexpr uint64_t kReadFile = 1ULL << 2;
inline constexpr uint64_t kReadDir = 1ULL << 3;
inline constexpr uint64_t kRemoveDir = 1ULL << 4;
inline constexpr uint64_t kRemoveFile = 1ULL << 5;
inline constexpr uint64_t kMakeChar = 1ULL << 6;
inline constexpr uint64_t kMakeDir = 1ULL << 7;
inline constexpr uint64_t kMakeReg = 1ULL << 8;
inline constexpr uint64_t kMakeSock = 1ULL << 9;
inline constexpr uint64_t kMakeFifo = 1ULL << 10;
inline constexpr uint64_t kMakeBlock = 1ULL << 11;
inline constexpr uint64_t kMakeSym = 1ULL << 12;
inline constexpr uint64_t kRefer = 1ULL << 13;     // ABI 2
inline constexpr uint64_t kTruncate = 1ULL << 14;  // ABI 3
inline constexpr uint64_t kIoctlDev = 1ULL << 15;  // ABI 5

// Network rights (ABI 4).
inline constexpr uint64_t kBindTcp = 1ULL << 0;
inline constexpr uint64_t kConnectTcp = 1ULL << 1;

// Scopes (ABI 6).
inline constexpr uint64_t kScopeAbstractUnixSocket = 1ULL << 0;
inline constexpr uint64_t kScopeSignal = 1ULL << 1;

// Every filesystem right a kernel of this ABI knows.
uint64_t fs_rights_for_abi(int abi);
// A name per right, for warnings: "truncate", "ioctl on devices".
const char* fs_right_name(uint64_t right);

// 0 when the kernel has no Landlock (or it is disabled).
int abi_version();

struct RulesetAttr {
  uint64_t handled_access_fs = 0;
  uint64_t handled_access_net = 0;  // ABI 4
  uint64_t scoped = 0;              // ABI 6
};

// Creates a ruleset; `abi` decides how much of the attribute the kernel sees.
Result<UniqueFd> create_ruleset(const RulesetAttr& attr, int abi);
// Allows `access` beneath the file or directory open as `parent_fd` (O_PATH).
Status add_path_rule(int ruleset_fd, int parent_fd, uint64_t access);
// The same for use after fork: returns 0 or an errno, allocates nothing.
int add_path_rule_raw(int ruleset_fd, int parent_fd, uint64_t access) noexcept;
Status add_port_rule(int ruleset_fd, uint64_t port, uint64_t access);
// Enforces the ruleset on the calling thread; call after no_new_privs. Safe
// after fork: returns errno (0 on success) rather than allocating.
int restrict_self(int ruleset_fd);

}  // namespace least::sys::landlock
