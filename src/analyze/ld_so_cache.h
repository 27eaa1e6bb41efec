// /etc/ld.so.cache as glibc's ld.so reads it: soname -> path of the x86-64
// libc6 entries, in the new format ("glibc-ld.so.cache1.1"), alone or after
// the old "ld.so-1.7.0" table (which ld.so, and so this parser, skips).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/error.h"

namespace least::analyze {

class LdSoCache {
 public:
  struct Entry {
    std::string path;
    // "" for an ordinary entry; for an entry of a glibc-hwcaps subdirectory
    // (lib/glibc-hwcaps/x86-64-v3/...), the subdirectory's name.
    std::string hwcaps_subdir;
    bool operator==(const Entry&) const = default;
  };

  // The path ld.so would take for `soname` on this CPU, as dl-cache.c's
  // search_cache: among the entries of that name (file order), the
  // glibc-hwcaps entry of the best subdirectory this CPU supports
  // (x86-64-v4, then v3, then v2), else the first ordinary entry.
  std::optional<std::string> lookup(std::string_view soname) const;
  // Same, with the supported glibc-hwcaps subdirectories given, best first.
  std::optional<std::string> lookup(std::string_view soname,
                                    const std::vector<std::string>& active_hwcaps) const;

  size_t size() const { return entries_.size(); }
  const std::unordered_map<std::string, std::vector<Entry>>& entries() const { return entries_; }

 private:
  friend Result<LdSoCache> parse_ld_so_cache(std::string_view bytes);
  // x86-64 libc6 entries by soname, in file order.
  std::unordered_map<std::string, std::vector<Entry>> entries_;
};

// Parses the bytes of a cache file. Every offset is checked against the
// bytes; a malformed file is an error, never a read out of bounds.
Result<LdSoCache> parse_ld_so_cache(std::string_view bytes);
// Reads and parses `path` (normally /etc/ld.so.cache).
Result<LdSoCache> read_ld_so_cache(const std::string& path = "/etc/ld.so.cache");

// The glibc-hwcaps subdirectories ld.so searches on this CPU, best first
// ("x86-64-v4", "x86-64-v3", "x86-64-v2"; glibc's isa-level checks).
const std::vector<std::string>& active_glibc_hwcaps();

}  // namespace least::analyze
