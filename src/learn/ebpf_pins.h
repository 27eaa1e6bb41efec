// The verified programs and their maps kept in the BPF filesystem between
// runs of `least learn`: loading them (the verifier, CO-RE against the
// kernel's BTF, the ring buffer's allocation) was most of the eBPF
// backend's start-up. A set is kept per version of the embedded object, in
// one of a few slots so that concurrent runs do not share maps; a run holds
// its slot's lock (flock on the slot's directory) from open to end. Nothing
// stays attached between runs: the programs cost nothing until a run
// attaches them. Pins last until reboot; `rm -r /sys/fs/bpf/least` frees
// them sooner.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/error.h"
#include "base/unique_fd.h"

namespace least::learn {

inline constexpr const char* kDefaultPinRoot = "/sys/fs/bpf/least";
inline constexpr int kPinSlots = 4;

class PinSlot {
 public:
  // A free slot for this version of the object under `root`, locked, or
  // nullopt when pins cannot be kept: `root`'s parent is no BPF filesystem,
  // we may not create the directories, or every slot is in use.
  static std::optional<PinSlot> acquire(std::string_view version,
                                        const std::string& root = kDefaultPinRoot);

  PinSlot(PinSlot&&) = default;
  PinSlot& operator=(PinSlot&&) = default;

  std::string path(std::string_view name) const { return dir_ + "/" + std::string(name); }
  // The pinned object `name`, opened; an error when it is not there.
  Result<UniqueFd> open(std::string_view name) const;
  // Removes every pin of the slot (a partial set from a run that died while
  // pinning, or a set the kernel no longer accepts).
  void clear() const;
  const std::string& dir() const { return dir_; }

 private:
  PinSlot(std::string dir, UniqueFd lock) : dir_(std::move(dir)), lock_(std::move(lock)) {}
  std::string dir_;
  UniqueFd lock_;  // flock(LOCK_EX) on dir_, held while the slot is in use
};

// A short, stable name of the embedded object's bytes: pins made by another
// build of least are never used.
std::string object_version(std::string_view bytes);

}  // namespace least::learn
