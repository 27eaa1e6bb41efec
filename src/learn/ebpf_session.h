// The kernel side of the eBPF backend, from user space: loads learn.bpf.c
// (embedded in least), attaches it, tracks a process tree from its root, and
// hands back what it saw as SyscallEvents (paths already absolute when the
// kernel could resolve their directory) and per-syscall counts. Knows
// nothing of run_watched or EventRecorder, so it can be tested on its own.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/error.h"
#include "learn/event_recorder.h"

struct bpf_object;
struct bpf_link;
struct ring_buffer;

namespace least::learn {

inline constexpr int kEbpfMaxSyscalls = 512;

// Events lost in the kernel, by cause (never silent: the backend words them
// into Recording::lost).
struct EbpfLosses {
  uint64_t ring_buffer_full = 0;  // the call was counted, its details not sent
  uint64_t too_long = 0;          // an event's paths did not fit in 16 KiB
  uint64_t untracked = 0;         // threads that could not be followed
  uint64_t retry_full = 0;        // non-resident strings that could not be read again
  uint64_t values_full = 0;       // argument values that did not fit in the values map
};

// An argument value seen in a call that sent no event.
struct ArgumentValue {
  int nr = -1;
  int arg = 0;
  uint64_t value = 0;
  auto operator<=>(const ArgumentValue&) const = default;
};

// For a path argument of syscall nr, which argument is its directory
// descriptor: -1 for the cwd, -2 for a string that is no path to resolve
// (the target of symlink/symlinkat).
int dirfd_arg_of(int nr, int path_arg);

class EbpfSession {
 public:
  using EventSink = std::function<void(const SyscallEvent&)>;

  using SpecOf = std::function<CaptureSpec(int nr)>;

  // Loads and attaches the programs; nothing is tracked yet. `spec_of` says
  // what to copy per syscall (capture_spec, or a test's own table). A kernel
  // that refuses the programs is ErrorKind::kUnsupported.
  static Result<std::unique_ptr<EbpfSession>> open(EventSink sink, const SpecOf& spec_of);
  ~EbpfSession();
  EbpfSession(const EbpfSession&) = delete;
  EbpfSession& operator=(const EbpfSession&) = delete;

  // Follows `root` and everything it starts. Its calls are recorded from its
  // (or its descendants') first execve on: the launcher's own setup before
  // that is not the program's.
  Status track(pid_t root);
  // Readable when events are waiting.
  int epoll_fd() const;
  // Passes the waiting events to the sink.
  Status consume();
  // Per syscall number, the calls counted in the kernel that were not sent
  // as events (summed over CPUs). Call after a last consume().
  Result<std::array<uint64_t, kEbpfMaxSyscalls>> counts() const;
  Result<EbpfLosses> losses() const;
  // The argument values (capture_spec's value_args) of the calls that were
  // counted in the kernel rather than sent as events, each once, sorted.
  Result<std::vector<ArgumentValue>> values() const;

 private:
  struct ObjectCloser {
    void operator()(bpf_object* o) const;
  };
  struct LinkCloser {
    void operator()(bpf_link* l) const;
  };
  struct RingCloser {
    void operator()(ring_buffer* r) const;
  };
  EbpfSession() = default;
  static int on_sample(void* ctx, void* data, size_t size);
  Status fail_sample(std::string why);

  EventSink sink_;
  std::unique_ptr<bpf_object, ObjectCloser> object_;
  std::vector<std::unique_ptr<bpf_link, LinkCloser>> links_;
  std::unique_ptr<ring_buffer, RingCloser> ring_;
  std::array<uint8_t, kEbpfMaxSyscalls> string_args_{};  // from spec_of, to tell paths apart
  int tracked_fd_ = -1, counts_fd_ = -1, losses_fd_ = -1, values_fd_ = -1;
  std::string sample_error_;  // a malformed event, reported by consume()
};

}  // namespace least::learn
