// Turns raw syscall events into a Recording. Both backends (seccomp
// notification and eBPF) copy the same things out of the caller's memory, as
// capture_spec says, and hand them here: one decoding, so the same workload
// yields the same Recording whichever backend saw it.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "learn/recording.h"

namespace least::learn {

// What a backend copies out of the caller's memory for one syscall (x86_64).
struct CaptureSpec {
  uint8_t string_args = 0;       // bit i: argument i points to a NUL-terminated path
  int8_t sockaddr_arg = -1;      // argument pointing to a struct sockaddr, or -1
  int8_t sockaddr_len_arg = -1;  // the argument holding its length, or -1
  uint8_t value_args = 0;        // bit i: argument i's value matters (from the catalog)
  bool any() const { return string_args || sockaddr_arg >= 0 || value_args; }
};
CaptureSpec capture_spec(int nr);

inline constexpr size_t kMaxCapturedString = 4096;   // PATH_MAX
inline constexpr size_t kMaxCapturedSockaddr = 128;  // sizeof(sockaddr_storage)

struct SyscallEvent {
  pid_t pid = 0;  // the calling thread, as our pid namespace sees it
  int nr = -1;
  std::array<uint64_t, 6> args{};
  // What capture_spec asked for, by argument index (bytes of the sockaddr for
  // sockaddr_arg); nullopt when it could not be read.
  std::array<std::optional<std::string>, 6> memory;
};

class EventRecorder {
 public:
  explicit EventRecorder(Recording& recording);
  // Counts the call and records its values, paths and endpoints. Relative
  // paths are resolved against the caller's cwd or dirfd (/proc/PID/...);
  // what cannot be resolved is counted in Recording::lost, never dropped
  // silently.
  void record(const SyscallEvent& event);
  // Counts `n` calls of `nr` whose details are not needed.
  void count(int nr, uint64_t n);
  // Records that argument `arg` of `nr` was seen with `value` (a backend
  // that aggregates values itself; record() does this for its events).
  void value(int nr, int arg, uint64_t value);
  // Adds the losses counted so far to Recording::lost (once, at the end).
  void finish();

 private:
  SyscallUse& use_of(int nr);
  void record_path(const SyscallEvent& event, int which);
  void record_endpoint(const SyscallEvent& event, bool bind);
  // Absolute and normalised, as `pid` sees `path` relative to `dirfd`.
  std::optional<std::string> absolute(pid_t pid, int dirfd, std::string_view path);
  std::string resolve_directory(const std::string& dir);
  std::optional<std::string> real_directory(const std::string& normal);

  Recording& recording_;
  uint64_t unresolved_ = 0;
  uint64_t unreadable_ = 0;
  uint64_t values_dropped_ = 0;
  uint64_t unknown_protocol_ = 0;
  bool finished_ = false;
  // Native syscall number -> its entry in recording_.syscalls (std::map
  // nodes are stable): counting a call is one index, no name lookup.
  std::vector<SyscallUse*> uses_;
  // Directory -> its path with symlinks resolved; only successes are kept.
  std::unordered_map<std::string, std::string> directories_;
  int bind_nr_ = -1, connect_nr_ = -1, execveat_nr_ = -1, openat2_nr_ = -1, socket_nr_ = -1;
  // Per calling thread, the kinds of inet sockets it created (bit 0 tcp,
  // bit 1 udp): the protocol of a bind or connect when the socket itself can
  // no longer be borrowed (the eBPF backend sees events after the fact).
  std::unordered_map<pid_t, uint8_t> inet_sockets_;
};

}  // namespace least::learn
