// A file written whole or not at all, for every command that writes one
// (learn's policy and recording, export, import, bundle, merge, analyze).
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "base/error.h"
#include "base/unique_fd.h"

namespace least::cli {

// All of `text` to `fd`, through short writes and EINTR; `name` says where
// in the error.
Status write_fully(int fd, std::string_view text, const std::string& name);

// A temporary file beside the target, created by create() (so that a bad
// path fails before any work), renamed over the target by commit() once
// complete, removed on any failure. The target's mode is kept (0644 for a
// new file). A symlink is followed and stays a link, a dangling one too. A
// target that is no regular file (/dev/null, a FIFO, /dev/stdout) is written
// in place: renaming over it would replace the device itself. A directory
// is a usage error.
class AtomicFile {
 public:
  static Result<AtomicFile> create(const std::string& target);
  AtomicFile(AtomicFile&& o) noexcept = default;
  AtomicFile& operator=(AtomicFile&&) = delete;
  ~AtomicFile();
  Status commit(std::string_view text);

 private:
  AtomicFile() = default;
  std::string target_, temp_;
  UniqueFd fd_;  // the temporary file until it is renamed
  mode_t mode_ = 0644;
  bool in_place_ = false;
};

}  // namespace least::cli
