#include "learn/ebpf_pins.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <filesystem>

#include "base/text.h"

namespace least::learn {

namespace {

namespace fs = std::filesystem;

constexpr long kBpfFsMagic = 0xcafe4a11;  // BPF_FS_MAGIC, linux/magic.h

bool on_bpf_fs(const std::string& dir) {
  struct statfs st;
  return statfs(dir.c_str(), &st) == 0 && st.f_type == kBpfFsMagic;
}

bool make_dir(const std::string& dir) {
  return mkdir(dir.c_str(), 0700) == 0 || errno == EEXIST;
}

// The slot's directory, locked; invalid when another run holds it.
UniqueFd lock_dir(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid() || flock(fd.get(), LOCK_EX | LOCK_NB) != 0) return UniqueFd();
  return fd;
}

void unlink_all(const std::string& dir) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) ::unlink(e.path().c_str());
}

// Sets pinned by other builds of least would hold their memory (a 4 MiB
// ring buffer each) until reboot: removed, unless a run is using them.
void remove_other_versions(const std::string& root, const std::string& keep) {
  std::error_code ec;
  for (const auto& v : fs::directory_iterator(root, ec)) {
    std::string name = v.path().filename();
    if (!name.starts_with("learn-") || name == keep) continue;
    std::error_code ec2;
    for (const auto& slot : fs::directory_iterator(v.path(), ec2)) {
      UniqueFd lock = lock_dir(slot.path());
      if (!lock.valid()) continue;
      unlink_all(slot.path());
      ::rmdir(slot.path().c_str());
    }
    ::rmdir(v.path().c_str());  // fails while a run still uses a slot: kept
  }
}

}  // namespace

std::optional<PinSlot> PinSlot::acquire(std::string_view version, const std::string& root) {
  if (!on_bpf_fs(fs::path(root).parent_path()) || !make_dir(root)) return std::nullopt;
  std::string name = "learn-" + std::string(version);
  remove_other_versions(root, name);
  std::string dir = root + "/" + name;
  if (!make_dir(dir)) return std::nullopt;
  for (int i = 0; i < kPinSlots; ++i) {
    std::string slot = fmt::format("{}/slot{}", dir, i);
    if (!make_dir(slot)) return std::nullopt;
    if (UniqueFd lock = lock_dir(slot); lock.valid()) return PinSlot(slot, std::move(lock));
  }
  return std::nullopt;
}

Result<UniqueFd> PinSlot::open(std::string_view name) const {
  std::string p = path(name);
  int fd = bpf_obj_get(p.c_str());
  if (fd < 0) return sys_error("open the pinned BPF object " + p, errno);
  return UniqueFd(fd);
}

void PinSlot::clear() const {
  unlink_all(dir_);
}

std::string object_version(std::string_view bytes) {
  return fmt::format("{:016x}", fnv1a(bytes));
}

}  // namespace least::learn
