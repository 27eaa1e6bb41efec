#include "cli/output.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "base/unique_fd.h"

namespace least::cli {

namespace {

Status write_all(int fd, std::string_view content, const std::string& what) {
  while (!content.empty()) {
    ssize_t n = ::write(fd, content.data(), content.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error(fmt::format("write {}", what), errno);
    content.remove_prefix(static_cast<size_t>(n));
  }
  return ok_status();
}

}  // namespace

Status write_output(const std::string& path, std::string_view content, bool binary) {
  if (path.empty() || path == "-") {
    if (binary && isatty(STDOUT_FILENO))
      return make_error(
          ErrorKind::kUsage,
          "this format is binary; write it to a file with -o FILE or redirect stdout");
    std::fflush(stdout);
    return write_all(STDOUT_FILENO, content, "stdout");
  }
  // A device, fifo or socket (-o /dev/null, -o /dev/stdout) is written in
  // place: renaming a file over it would replace the device itself.
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    if (S_ISDIR(st.st_mode))
      return make_error(ErrorKind::kUsage, fmt::format("\"{}\" is a directory", path));
    UniqueFd out(::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC));
    if (!out.valid()) return sys_error(fmt::format("open \"{}\"", path), errno);
    return write_all(out.get(), content, fmt::format("\"{}\"", path));
  }
  std::string tmp = fmt::format("{}.tmp.{}", path, ::getpid());
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd.valid()) return sys_error(fmt::format("create \"{}\"", tmp), errno);
  Status written = write_all(fd.get(), content, fmt::format("\"{}\"", tmp));
  if (written && ::fsync(fd.get()) != 0)
    written = sys_error(fmt::format("fsync \"{}\"", tmp), errno);
  fd.reset();
  if (written && ::rename(tmp.c_str(), path.c_str()) != 0)
    written = sys_error(fmt::format("rename \"{}\" to \"{}\"", tmp, path), errno);
  if (!written) ::unlink(tmp.c_str());
  return written;
}

}  // namespace least::cli
