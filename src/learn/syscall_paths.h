// Which arguments of a syscall name paths, relative to which directory, and
// what the call does to them: the one table that capture_spec (what to copy)
// and the EventRecorder (how to read it) share.
#pragma once

#include <cstdint>

namespace least::learn {

struct PathOperand {
  int8_t path = -1;   // argument holding the path pointer; -1: unused slot
  int8_t dirfd = -1;  // argument holding the directory fd; -1: relative to the cwd
  // How the access is known: fixed bits, or from open(2) flags in an argument
  // (kOpenFlags) or in openat2's struct open_how (kOpenHow).
  enum class Access : uint8_t { kFixed, kOpenFlags, kOpenHow } how = Access::kFixed;
  int8_t flags = -1;  // kOpenFlags: the flags argument
  uint32_t access = 0;
};

struct PathOperands {
  PathOperand first, second;  // rename, link: two paths
  bool any() const { return first.path >= 0; }
};

// Native syscall numbers; numbers out of range have no path operands.
const PathOperands& path_operands(int nr);

// open(2) flags as plan::PathAccess bits: O_WRONLY, O_RDWR, O_TRUNC write;
// O_CREAT, O_TMPFILE create; O_RDONLY, O_RDWR read; O_PATH nothing.
uint32_t access_from_open_flags(uint64_t flags);

}  // namespace least::learn
