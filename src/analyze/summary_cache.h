// ObjectSummary cache keyed by build-id: a summary depends only on the
// object's bytes, so an object scanned once is read back instead of scanned
// (the warm analysis of python3 and its libraries is meant to take 0.2 s).
//
// One file per object, <dir>/<build-id>.summary, in a compact binary form
// read in one go: header (magic, format version, scanner version, build-id,
// payload size, payload hash) then varint-encoded fields. Any file that does
// not check out (truncated, corrupt, other version) is a miss and is
// replaced by the next store.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "analyze/object_summary.h"
#include "base/error.h"

namespace least::analyze {

// Bump whenever the scanner's output for the same bytes changes: every
// cached summary of an older scanner is then a miss.
inline constexpr uint32_t kScannerVersion = 5;

class SummaryCache {
 public:
  // `dir` is created (0700) on the first store when missing.
  explicit SummaryCache(std::string dir, uint32_t scanner_version = kScannerVersion);

  // The summary stored for `build_id`; nullopt on any miss (absent, empty or
  // malformed build-id, unreadable, truncated, corrupt or stale file).
  std::optional<ObjectSummary> load(const std::string& build_id) const;
  // Writes atomically (a temporary file in `dir`, then rename). A summary
  // with an empty build-id is not cached (ok, nothing written).
  Status store(const ObjectSummary& summary) const;

  const std::string& dir() const { return dir_; }
  std::string path_for(const std::string& build_id) const;

  // $XDG_CACHE_HOME/least/analyze, else $HOME/.cache/least/analyze (an empty
  // or relative XDG_CACHE_HOME is ignored, as the XDG spec says).
  static std::string default_dir();

  // The encoding on its own (tests, benchmarks).
  static std::string encode(const ObjectSummary& summary, uint32_t scanner_version);
  static std::optional<ObjectSummary> decode(std::string_view bytes, const std::string& build_id,
                                             uint32_t scanner_version);
  // decode() past the header (magic, versions, size, hash).
  static std::optional<ObjectSummary> decode_payload(std::string_view payload,
                                                     const std::string& build_id);
  static constexpr size_t kHeaderSize = 8 + 4 + 4 + 8 + 8;

 private:
  std::string dir_;
  uint32_t scanner_version_;
};

}  // namespace least::analyze
