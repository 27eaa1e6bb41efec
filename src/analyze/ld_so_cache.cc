#include "analyze/ld_so_cache.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "base/unique_fd.h"

namespace least::analyze {

namespace {

constexpr std::string_view kOldMagic = "ld.so-1.7.0";
constexpr std::string_view kNewMagic = "glibc-ld.so.cache1.1";
constexpr size_t kOldHeaderSize = 16;  // magic[11], pad, uint32 nlibs
constexpr size_t kOldEntrySize = 12;   // int32 flags, uint32 key, value
constexpr size_t kNewHeaderSize = 48;  // magic+version[20], nlibs, len_strings, flags,
                                       // pad[3], extension_offset, unused[3]
constexpr size_t kNewEntrySize = 24;   // int32 flags, key, value, osversion, uint64 hwcap
// FLAG_ELF_LIBC6 | FLAG_X8664_LIB64: ld.so on x86-64 takes only these
// (_dl_cache_check_flags compares for equality).
constexpr int32_t kX8664Libc6 = 0x0303;
constexpr uint64_t kHwcapExtension = 1ull << 62;
constexpr uint32_t kExtensionMagic = static_cast<uint32_t>(-358342284);
constexpr uint32_t kExtensionTagGlibcHwcaps = 1;

template <class T>
std::optional<T> read_at(std::string_view bytes, size_t offset) {
  if (offset > bytes.size() || bytes.size() - offset < sizeof(T)) return std::nullopt;
  T v;
  std::memcpy(&v, bytes.data() + offset, sizeof(T));
  return v;
}

// A NUL-terminated string at `offset` of the string table `strings`.
std::optional<std::string> string_at(std::string_view strings, uint64_t offset) {
  if (offset >= strings.size()) return std::nullopt;
  size_t end = strings.find('\0', offset);
  if (end == std::string_view::npos) return std::nullopt;
  return std::string(strings.substr(offset, end - offset));
}

Error malformed(const std::string& why) {
  return make_error(ErrorKind::kSystem, "malformed ld.so.cache: " + why);
}

}  // namespace

Result<LdSoCache> parse_ld_so_cache(std::string_view bytes) {
  size_t start = 0;
  if (bytes.starts_with(kOldMagic)) {
    auto nlibs = read_at<uint32_t>(bytes, kOldMagic.size() + 1);
    if (!nlibs) return malformed("truncated old header");
    // The new table follows the old entries, aligned as struct cache_file_new (8).
    uint64_t end = kOldHeaderSize + uint64_t{*nlibs} * kOldEntrySize;
    start = static_cast<size_t>((end + 7) & ~uint64_t{7});
    if (start > bytes.size()) return malformed("old table runs past the end");
  }
  std::string_view cache = bytes.substr(start);
  if (!cache.starts_with(kNewMagic))
    return malformed("no glibc-ld.so.cache1.1 table (only the old format, which ld.so ignores)");
  auto nlibs = read_at<uint32_t>(cache, 20);
  auto extension_offset = read_at<uint32_t>(cache, 32);
  if (!nlibs || !extension_offset || cache.size() < kNewHeaderSize)
    return malformed("truncated header");
  if (uint64_t{*nlibs} * kNewEntrySize > cache.size() - kNewHeaderSize)
    return malformed("more entries than bytes");
  // String offsets are relative to the new header (dl-cache.c: string_table =
  // cache_new), the same base for entries and extensions.
  std::string_view strings = cache;

  // The names of the glibc-hwcaps subdirectories, indexed by an entry's hwcap.
  std::vector<std::string> hwcaps_names;
  if (*extension_offset != 0) {
    auto magic = read_at<uint32_t>(cache, *extension_offset);
    auto count = read_at<uint32_t>(cache, *extension_offset + 4ull);
    if (magic == kExtensionMagic && count) {
      for (uint32_t i = 0; i < *count; ++i) {
        size_t section = *extension_offset + 8ull + 16ull * i;
        auto tag = read_at<uint32_t>(cache, section);
        auto offset = read_at<uint32_t>(cache, section + 8);
        auto size = read_at<uint32_t>(cache, section + 12);
        if (!tag || !offset || !size) return malformed("truncated extension directory");
        if (*tag != kExtensionTagGlibcHwcaps) continue;
        if (*offset > cache.size() || *size > cache.size() - *offset || *size % 4 != 0)
          return malformed("glibc-hwcaps extension out of the file");
        for (uint32_t j = 0; j < *size / 4; ++j) {
          auto name = string_at(strings, *read_at<uint32_t>(cache, *offset + 4ull * j));
          if (!name) return malformed("glibc-hwcaps name out of the string table");
          hwcaps_names.push_back(*name);
        }
      }
    }
  }

  LdSoCache result;
  for (uint32_t i = 0; i < *nlibs; ++i) {
    size_t at = kNewHeaderSize + size_t{i} * kNewEntrySize;
    int32_t flags = *read_at<int32_t>(cache, at);
    uint32_t key = *read_at<uint32_t>(cache, at + 4);
    uint32_t value = *read_at<uint32_t>(cache, at + 8);
    uint64_t hwcap = *read_at<uint64_t>(cache, at + 16);
    if (flags != kX8664Libc6) continue;  // other ABIs: ld.so skips them too
    auto name = string_at(strings, key);
    auto path = string_at(strings, value);
    if (!name || !path) continue;  // _dl_cache_verify_ptr fails: ld.so skips
    LdSoCache::Entry entry{*path, ""};
    if ((hwcap >> 32) == (kHwcapExtension >> 32)) {
      uint32_t index = static_cast<uint32_t>(hwcap);
      if (index >= hwcaps_names.size()) continue;  // unknown subdir: never active
      entry.hwcaps_subdir = hwcaps_names[index];
    } else if (hwcap != 0) {
      // A legacy-hwcap entry (a library in lib/tls/, lib/haswell/, ...):
      // glibc 2.36 weighs these against AT_HWCAP and AT_PLATFORM; Debian 12
      // ships none and glibc 2.37 dropped them, so they are ignored here.
      continue;
    }
    result.entries_[*name].push_back(std::move(entry));
  }
  return result;
}

Result<LdSoCache> read_ld_so_cache(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return sys_error("open " + path, errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return sys_error("stat " + path, errno);
  std::string bytes(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::read(fd.get(), bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("read " + path, errno);
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  bytes.resize(done);
  return parse_ld_so_cache(bytes).context(path);
}

std::optional<std::string> LdSoCache::lookup(std::string_view soname,
                                             const std::vector<std::string>& active) const {
  auto it = entries_.find(std::string(soname));
  if (it == entries_.end()) return std::nullopt;
  const Entry* best = nullptr;
  size_t best_priority = 0;
  for (const Entry& e : it->second) {
    if (e.hwcaps_subdir.empty()) {
      // Ordinary entries follow the hwcaps ones: the first ends the search.
      return best ? best->path : e.path;
    }
    size_t priority = 0;
    while (priority < active.size() && active[priority] != e.hwcaps_subdir) ++priority;
    if (priority == active.size()) continue;  // subdirectory not usable on this CPU
    if (!best || priority < best_priority) {
      best = &e;
      best_priority = priority;
    }
  }
  if (best) return best->path;
  return std::nullopt;
}

std::optional<std::string> LdSoCache::lookup(std::string_view soname) const {
  return lookup(soname, active_glibc_hwcaps());
}

const std::vector<std::string>& active_glibc_hwcaps() {
  static const std::vector<std::string> active = [] {
    __builtin_cpu_init();
    std::vector<std::string> v;
    if (__builtin_cpu_supports("x86-64-v4")) v.push_back("x86-64-v4");
    if (__builtin_cpu_supports("x86-64-v3")) v.push_back("x86-64-v3");
    if (__builtin_cpu_supports("x86-64-v2")) v.push_back("x86-64-v2");
    return v;
  }();
  return active;
}

}  // namespace least::analyze
