// The policy model: what a person wrote, with where they wrote it, before
// any kernel mechanism is chosen. Parsed from TOML or built from pledge-style
// command-line flags; lowered into a Plan (plan/lower.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace least::policy {

// Where a value came from: a file position, or a command-line flag.
struct Origin {
  std::string file;     // "app.least.toml", or "" for the command line
  uint32_t line = 0;    // 1-based; 0 when unknown
  uint32_t column = 0;  // 1-based
  std::string flag;     // "--promise" when from the command line
};

template <class T>
struct Located {
  T value{};
  Origin origin;
};

// What happens to a refused syscall.
struct DenyAction {
  enum class Kind { kErrno, kKill } kind = Kind::kErrno;
  int errno_value = 1;  // EPERM
};

struct SyscallDeny {
  Located<std::string> name;
  Located<DenyAction> action;
};

struct Filesystem {
  std::vector<Located<std::string>> read, write, create, exec;
};

struct Network {
  std::vector<Located<std::string>> connect, bind;  // "tcp:443"
};

struct Limits {
  std::optional<Located<uint64_t>> processes;
  std::optional<Located<uint64_t>> memory;  // bytes
  std::optional<Located<uint64_t>> open_files;
  std::optional<Located<uint64_t>> core;   // bytes
  std::optional<Located<uint64_t>> stack;  // bytes
  std::optional<Located<uint64_t>> cpu_seconds;
};

struct Isolation {
  std::vector<Located<std::string>> capabilities;  // "CAP_NET_BIND_SERVICE"
  std::optional<Located<bool>> private_tmp;        // fresh /tmp and /dev/shm
};

// `{ name = "socket", when = "domain != AF_VSOCK" }` in `[syscalls] allow`:
// the syscall is allowed when any one condition holds
// (policy/syscall_condition.h has their grammar).
struct ConditionalAllow {
  Located<std::string> name;
  std::vector<Located<std::string>> when;
};

struct Syscalls {
  std::vector<Located<std::string>> allow;
  std::vector<ConditionalAllow> allow_when;
  std::vector<SyscallDeny> deny;
};

struct Policy {
  std::vector<Located<std::string>> promises;
  // Whether promises were given at all (`promises = []` is "none"). Without
  // them the built-in default promises apply and the other parts narrow it.
  bool promises_declared = false;
  Origin promises_origin;
  Filesystem filesystem;
  Network network;
  Limits limits;
  Isolation isolation;
  Syscalls syscalls;
};

// Adds everything in `extra` to `base` (command-line flags on top of a file).
void merge_into(Policy& base, const Policy& extra);

}  // namespace least::policy
