#include "cli/output.h"

#include <unistd.h>

#include <cstdio>

#include "cli/atomic_file.h"

namespace least::cli {

Status write_output(const std::string& path, std::string_view content, bool binary) {
  if (path.empty() || path == "-") {
    if (binary && isatty(STDOUT_FILENO))
      return make_error(
          ErrorKind::kUsage,
          "this format is binary; write it to a file with -o FILE or redirect stdout");
    std::fflush(stdout);
    return write_fully(STDOUT_FILENO, content, "stdout");
  }
  auto file = AtomicFile::create(path);
  if (!file) return std::move(file).error();
  return file->commit(content);
}

}  // namespace least::cli
