// What one recorded run did: the one interface between the recording
// backends (seccomp notification, eBPF) and the policy writer. Both backends
// fill exactly these fields, through learn/event_recorder.h, so that the same
// workload yields the same policy whichever recorded it.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace least::learn {

struct SyscallUse {
  uint64_t count = 0;
  // For the arguments the catalog tells apart (socket domain and type, ioctl
  // request, clone flags, mmap/mprotect prot, fcntl and prctl commands, ...):
  // argument index -> every value seen. Other arguments are not kept.
  std::map<uint8_t, std::set<uint64_t>> values;
};

// A network endpoint the program bound or connected to.
struct Endpoint {
  std::string protocol;  // "tcp", "udp", "unix"
  std::string address;   // "127.0.0.1", "::1", a unix path, "@abstract"
  uint16_t port = 0;     // 0 for unix
  auto operator<=>(const Endpoint&) const = default;
};

struct Recording {
  std::vector<std::string> command;  // argv of the learned run(s), for comments
  // By syscall name (sys::syscall_name), for the whole process tree.
  std::map<std::string, SyscallUse> syscalls;
  // Absolute, normalised paths (symlinks in the directory part resolved as the
  // process saw them) -> plan::PathAccess bits (read, write, create, exec);
  // removing or renaming an entry counts as create on its directory entry.
  std::map<std::string, uint32_t> paths;
  std::set<Endpoint> connects, binds;
  uint64_t peak_processes = 0;   // live processes of the tree at once
  uint64_t peak_open_files = 0;  // open descriptors of one process at most
  // What could not be recorded, said in words ("312 path records: the ring
  // buffer was full"). A lossy recording is never silent.
  std::vector<std::string> lost;
  // How the run ended, for people: "exited with status 0", "killed by
  // SIGSEGV", "interrupted (Ctrl-C)". `complete` is false when the program
  // did not finish on its own: the policy then covers only what it did.
  std::string ending;
  bool complete = true;
  int exit_code = 0;  // as `least run` would exit: status, or 128+N
};

// Adds `other` to `into` (several runs learned into one policy).
void merge_recording(Recording& into, const Recording& other);

}  // namespace least::learn
