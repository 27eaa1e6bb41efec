#include "cli/atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>

namespace least::cli {

Status write_fully(int fd, std::string_view text, const std::string& name) {
  while (!text.empty()) {
    ssize_t n = write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error(fmt::format("write \"{}\"", name), errno);
    text.remove_prefix(static_cast<size_t>(n));
  }
  return ok_status();
}

Result<AtomicFile> AtomicFile::create(const std::string& target) {
  AtomicFile f;
  char real[PATH_MAX];
  f.target_ = realpath(target.c_str(), real) ? std::string(real) : target;
  // A dangling symlink: the file it names is created, the link stays.
  struct stat link;
  ssize_t n;
  if (f.target_ == target && lstat(target.c_str(), &link) == 0 && S_ISLNK(link.st_mode) &&
      (n = readlink(target.c_str(), real, sizeof real - 1)) > 0) {
    std::string to(real, static_cast<size_t>(n));
    size_t slash = target.rfind('/');
    f.target_ = to[0] == '/' || slash == std::string::npos ? to : target.substr(0, slash + 1) + to;
  }
  struct stat st;
  if (stat(f.target_.c_str(), &st) == 0) {
    f.mode_ = st.st_mode & 07777;
    if (S_ISDIR(st.st_mode))
      return make_error(ErrorKind::kUsage, fmt::format("\"{}\" is a directory", target));
    if (!S_ISREG(st.st_mode)) {
      if (access(f.target_.c_str(), W_OK) != 0)
        return sys_error(fmt::format("cannot write \"{}\"", target), errno);
      f.in_place_ = true;
      return f;
    }
  }
  f.temp_ = f.target_ + ".XXXXXX";
  f.fd_.reset(mkostemp(f.temp_.data(), O_CLOEXEC));
  if (!f.fd_.valid()) return sys_error(fmt::format("cannot write beside \"{}\"", target), errno);
  return f;
}

AtomicFile::~AtomicFile() {
  if (fd_.valid()) unlink(temp_.c_str());
}

Status AtomicFile::commit(std::string_view text) {
  if (in_place_) {
    UniqueFd out(open(target_.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC));
    if (!out.valid()) return sys_error(fmt::format("open \"{}\"", target_), errno);
    return write_fully(out.get(), text, target_);
  }
  LEAST_TRY(write_fully(fd_.get(), text, temp_));
  if (fchmod(fd_.get(), mode_) != 0) return sys_error(fmt::format("chmod \"{}\"", temp_), errno);
  if (fsync(fd_.get()) != 0) return sys_error(fmt::format("sync \"{}\"", temp_), errno);
  if (rename(temp_.c_str(), target_.c_str()) != 0)
    return sys_error(fmt::format("rename \"{}\" to \"{}\"", temp_, target_), errno);
  fd_.reset();
  return ok_status();
}

}  // namespace least::cli
