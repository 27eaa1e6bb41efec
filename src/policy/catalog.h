// The promise catalog: the one table that says which syscalls, with which
// argument values, each pledge-style promise grants. Everything else (the
// lowering, `least explain`, docs/promises.md, the exporters) reads it.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "policy/syscall_condition.h"

namespace least::policy {

// A syscall a promise grants, unconditionally (`when` empty) or only when all
// checks in `when` hold. Several grants of one syscall are alternatives.
struct SyscallGrant {
  std::string syscall;
  std::vector<ArgCheck> when;
};

struct Promise {
  std::string name;     // "stdio"
  std::string summary;  // one line for people
  std::vector<SyscallGrant> grants;
};

// Syscalls that are refused unless named in `[syscalls] allow` (the set
// Docker's default profile blocks, plus io_uring and the new mount API).
struct DangerousSyscall {
  std::string syscall;
  std::string why;  // "loads kernel modules"
};

const std::vector<Promise>& promise_catalog();
const Promise* find_promise(std::string_view name);
std::vector<std::string_view> promise_names();

const std::vector<DangerousSyscall>& dangerous_syscalls();
const DangerousSyscall* find_dangerous(std::string_view syscall);

// Syscalls the catalog knows but no promise grants and that are not
// dangerous either (obsolete, or rarely needed): refused with EPERM unless
// allowed by name.
const std::vector<std::string>& unpromised_syscalls();

// Every syscall name the catalog knows (promises, dangerous, unpromised).
// A syscall outside this set answers ENOSYS, as if the kernel lacked it.
bool catalog_knows(std::string_view syscall);

// The promises `least run` applies when no policy is given.
const std::vector<std::string>& default_promises();

// docs/promises.md, generated from the table above.
std::string render_promises_markdown();

}  // namespace least::policy
