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
#include "base/unique_fd.h"
#include "learn/ebpf_pins.h"
#include "learn/event_recorder.h"

struct bpf_object;
struct ring_buffer;

namespace least::learn {

inline constexpr int kEbpfMaxSyscalls = 512;

// Events lost in the kernel, by cause (never silent: the backend words them
// into Recording::lost).
struct EbpfLosses {
  uint64_t ring_buffer_full = 0;  // the call was counted, its details not sent
  uint64_t too_long = 0;          // an event's paths did not fit in 16 KiB
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
  // what to copy per syscall (capture_spec, or a test's own table). The
  // programs verified by an earlier run are taken from the BPF filesystem
  // under `pin_root` when it is there (ebpf_pins.h), and a fresh load is
  // pinned there for the next run; "" loads afresh and keeps nothing. A
  // kernel that refuses the programs is ErrorKind::kUnsupported.
  static Result<std::unique_ptr<EbpfSession>> open(EventSink sink, const SpecOf& spec_of,
                                                   const std::string& pin_root = kDefaultPinRoot);
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
  // Whether the programs came from the pins of an earlier run, and where
  // this run's set is pinned ("" when it is not).
  bool reused() const { return reused_; }
  std::string pin_dir() const { return slot_ ? slot_->dir() : std::string(); }

 private:
  struct ObjectCloser {
    void operator()(bpf_object* o) const;
  };
  struct RingCloser {
    void operator()(ring_buffer* r) const;
  };
  struct Unmapper {
    size_t size;
    void operator()(uint64_t* words) const;
  };
  EbpfSession() = default;
  static int on_sample(void* ctx, void* data, size_t size);
  Status fail_sample(std::string why);
  Status load_fresh();
  Status open_pins();
  Status pin_all();
  Status reset_maps();

  EventSink sink_;
  std::optional<PinSlot> slot_;
  bool reused_ = false;
  // Either the object libbpf loaded (it owns the descriptors below) or the
  // descriptors of the pinned set.
  std::unique_ptr<bpf_object, ObjectCloser> object_;
  std::vector<UniqueFd> pinned_;
  std::vector<UniqueFd> links_;  // one raw tracepoint per program: closed, detached
  std::unique_ptr<ring_buffer, RingCloser> ring_;
  // The tracked map (two bits per thread id), mapped: the root is added and
  // a reused map cleared through it.
  std::unique_ptr<uint64_t[], Unmapper> tracked_;
  bool discarding_ = false;  // draining a reused ring buffer of an earlier run's events
  std::array<uint8_t, kEbpfMaxSyscalls> string_args_{};  // from spec_of, to tell paths apart
  // The maps user space reads or writes, and the programs, by name (the
  // order of kMapNames and kProgramNames in ebpf_session.cc).
  enum Map { kSpecs, kTracked, kCounts, kLosses, kEvents, kValues, kRetries, kPending, kMapCount };
  static constexpr int kProgramCount = 5;
  std::array<int, kMapCount> map_fds_{};
  std::array<int, kProgramCount> prog_fds_{};
  std::string sample_error_;  // a malformed event, reported by consume()
};

}  // namespace least::learn
