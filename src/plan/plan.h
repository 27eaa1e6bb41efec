// The Plan: the one intermediate representation. A policy is lowered once
// into a Plan; every enforcer and exporter reads its slice of the Plan and
// nothing else, which is what keeps the layers in lockstep.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "policy/syscall_condition.h"
#include "sys/syscall_table.h"

namespace least::plan {

struct Action {
  enum class Kind {
    kAllow,
    kErrno,  // refuse with errno_value
    kKillProcess,
    kNotify  // ask the supervisor: it reports the call, then answers errno_value
  } kind = Kind::kAllow;
  int errno_value = 0;

  static Action allow() { return {Kind::kAllow, 0}; }
  static Action error(int e) { return {Kind::kErrno, e}; }
  static Action kill() { return {Kind::kKillProcess, 0}; }
  static Action notify(int e = 1) { return {Kind::kNotify, e}; }
  bool operator==(const Action&) const = default;
};

// (arg & mask) == value on the 64-bit argument, or with another `op` the
// whole argument compared with value (policy/syscall_condition.h).
using Compare = policy::Compare;
struct ArgCond {
  uint8_t arg = 0;
  uint64_t mask = 0;
  uint64_t value = 0;
  std::string text;  // "domain == AF_INET"
  Compare op = Compare::kMaskedEq;
  bool operator==(const ArgCond& o) const {
    return arg == o.arg && op == o.op && value == o.value &&
           (op != Compare::kMaskedEq || mask == o.mask);
  }
};

// One syscall's treatment. `alternatives` empty means unconditional; else the
// action applies when all conditions of any one alternative hold, and the
// filter's default action applies otherwise.
struct SyscallRule {
  std::string name;  // "socket", or "#457" for numbers newer than our tables
  int number = -1;
  Action action;
  std::vector<std::vector<ArgCond>> alternatives;
  std::vector<std::string> sources;  // "promise inet", "[syscalls] allow"
  bool conditional() const { return !alternatives.empty(); }
};

// Between installing the filter and exec, the launcher hands the seccomp
// listener to the supervisor with sendmsg on this descriptor, whatever the
// promises; it is close-on-exec, so the program never holds it.
inline constexpr int kLauncherSocketFd = 1000;

struct SeccompPlan {
  sys::Arch arch = sys::native_arch();
  // Refused calls go to the supervisor, which explains each one and answers
  // EPERM; allowed calls never do.
  Action default_action = Action::notify(1);
  Action bad_arch_action = Action::kill();  // x32 and i386 on x86_64
  std::vector<SyscallRule> rules;           // sorted by number

  const SyscallRule* find(std::string_view name) const;
};

// What may be done beneath a path; each right implies the ones before it
// where that is what people mean (writing a file you cannot read is rare).
enum PathAccess : uint32_t {
  kPathRead = 1 << 0,    // read files, list directories
  kPathWrite = 1 << 1,   // modify and truncate existing files
  kPathCreate = 1 << 2,  // create, rename, link and remove entries
  kPathExec = 1 << 3,    // execute files
  kPathFifo = 1 << 4,    // create FIFOs (kPathCreate includes it)
  kPathSocket = 1 << 5,  // bind unix sockets to paths (kPathCreate includes it)
};
inline constexpr uint32_t kPathAll =
    kPathRead | kPathWrite | kPathCreate | kPathExec | kPathFifo | kPathSocket;

struct PathRule {
  std::string path;
  uint32_t access = 0;  // PathAccess bits
  std::string source;   // "[filesystem] write", "runtime: shared libraries"
};

struct FilesystemPlan {
  // [filesystem] lists paths: every kind of access is held (handled ==
  // kPathAll), only the rules grant, and the host is mounted read-only.
  bool restricted = false;
  // The kinds of access Landlock holds. Without [filesystem] these come from
  // the promises: without wpath/cpath no file may be opened for writing
  // anywhere, without cpath nothing may be created or removed, so an open()
  // that seccomp lets through with any flags still cannot write.
  uint32_t handled = 0;
  std::vector<PathRule> rules;
};

struct NetworkPlan {
  struct Port {
    std::string protocol;
    uint16_t port = 0;
  };
  std::vector<Port> connect, bind;
  // TCP bind/connect limited to the ports above (none at all without inet).
  bool tcp_restricted = false;
};

// Namespaces. A user namespace is added at run time when the caller is not
// root (so the others can be made unprivileged); root keeps real
// capabilities meaningful by not using one.
struct NamespacePlan {
  bool mount = true;  // private mounts; /proc of the new pid namespace
  bool pid = true;    // the program's own process tree, under a tiny init
  bool ipc = true;
  bool uts = true;
  bool cgroup = true;
  bool net = false;                   // empty network namespace, loopback only: no inet, no dns
  bool read_only = false;             // host read-only but the write/create paths
  bool private_tmp = false;           // fresh /tmp and /dev/shm
  std::vector<std::string> writable;  // write/create paths kept writable
};

// Landlock scoping: the program cannot reach out of its sandbox through
// abstract unix sockets or signals.
struct ScopePlan {
  bool abstract_unix_sockets = true;
  bool signals = true;
};

struct Rlimit {
  int resource = 0;    // RLIMIT_*
  std::string name;    // "RLIMIT_NOFILE"
  uint64_t value = 0;  // soft and hard
};

struct LimitsPlan {
  std::vector<Rlimit> rlimits;
  std::optional<uint64_t> processes;  // pids controller (next layer)
  std::optional<uint64_t> memory;     // memory controller (next layer)
};

struct Plan {
  std::vector<std::string> promises;  // effective, in catalog order
  bool default_promises = false;      // no promises given: the built-in default
  SeccompPlan seccomp;
  FilesystemPlan filesystem;
  NetworkPlan network;
  ScopePlan scope;
  NamespacePlan namespaces;
  LimitsPlan limits;
  std::vector<std::string> capabilities;       // kept; all others dropped
  bool no_new_privs = true;                    // always
  std::vector<std::string> dangerous_allowed;  // dangerous syscalls the policy allows
  std::vector<std::string> warnings;           // for people, printed before running
};

}  // namespace least::plan
