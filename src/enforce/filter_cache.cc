#include "enforce/filter_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <seccomp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "base/text.h"
#include "base/unique_fd.h"

namespace least::enforce {

namespace {

constexpr std::string_view kMagic = "least-bpf-v1\n";

// Only a directory the user owns and nobody else can write is trusted.
bool trusted(const struct stat& st) {
  return st.st_uid == geteuid() && (st.st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

bool read_all(int fd, std::string& out) {
  char buf[8192];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) return true;
    out.append(buf, static_cast<size_t>(n));
  }
}

std::optional<BpfProgram> load(const std::string& path, const std::string& key) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  struct stat st;
  if (!fd.valid() || fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) || !trusted(st))
    return std::nullopt;
  std::string data;
  if (!read_all(fd.get(), data)) return std::nullopt;
  // magic, key length, key, listener flag, instructions
  std::string header = fmt::format("{}{}\n{}", kMagic, key.size(), key);
  if (data.size() < header.size() + 1 || data.compare(0, header.size(), header) != 0)
    return std::nullopt;
  size_t code_bytes = data.size() - header.size() - 1;
  if (code_bytes == 0 || code_bytes % sizeof(sock_filter) != 0) return std::nullopt;
  BpfProgram prog;
  prog.needs_listener = data[header.size()] == '1';
  prog.code.resize(code_bytes / sizeof(sock_filter));
  std::memcpy(prog.code.data(), data.data() + header.size() + 1, code_bytes);
  return prog;
}

void store(const std::string& dir, const std::string& path, const std::string& key,
           const BpfProgram& prog) {
  std::string tmp = fmt::format("{}/.tmp-{}", dir, getpid());
  UniqueFd fd(open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd.valid()) return;
  std::string data =
      fmt::format("{}{}\n{}{}", kMagic, key.size(), key, prog.needs_listener ? '1' : '0');
  data.append(reinterpret_cast<const char*>(prog.code.data()),
              prog.code.size() * sizeof(sock_filter));
  bool ok = write(fd.get(), data.data(), data.size()) == static_cast<ssize_t>(data.size());
  fd.reset();
  // rename is atomic: a reader sees the old file, the new one, or none.
  if (!ok || rename(tmp.c_str(), path.c_str()) != 0) unlink(tmp.c_str());
}

}  // namespace

std::string seccomp_cache_key(const plan::SeccompPlan& plan) {
  const scmp_version* v = seccomp_version();
  auto action = [](const plan::Action& a) {
    return fmt::format("{}:{}", static_cast<int>(a.kind), a.errno_value);
  };
  std::string key = fmt::format("libseccomp {}.{}.{} arch {} default {} badarch {}\n", v->major,
                                v->minor, v->micro, sys::arch_name(plan.arch),
                                action(plan.default_action), action(plan.bad_arch_action));
  for (const auto& r : plan.rules) {
    key += fmt::format("{} {} {}", r.number, r.name, action(r.action));
    for (const auto& alt : r.alternatives) {
      key += " |";
      for (const auto& c : alt)
        key += fmt::format(" {}&{:#x}op{}{:#x}", c.arg, c.mask, static_cast<int>(c.op), c.value);
    }
    key += '\n';
  }
  return key;
}

std::optional<std::string> filter_cache_dir() {
  const char* off = std::getenv("LEAST_NO_CACHE");
  if (off && *off && std::string_view(off) != "0") return std::nullopt;
  std::string base;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && xdg[0] == '/')
    base = xdg;
  else if (const char* home = std::getenv("HOME"); home && home[0] == '/')
    base = std::string(home) + "/.cache";
  else
    return std::nullopt;
  mkdir(base.c_str(), 0700);
  std::string dir = base + "/least";
  mkdir(dir.c_str(), 0700);
  struct stat st;
  if (lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || !trusted(st)) return std::nullopt;
  return dir;
}

Result<BpfProgram> load_or_compile_seccomp(const plan::SeccompPlan& plan) {
  auto dir = filter_cache_dir();
  if (!dir) return compile_seccomp(plan);
  std::string key = seccomp_cache_key(plan);
  std::string path = fmt::format("{}/{:016x}.bpf", *dir, fnv1a(key));
  if (auto cached = load(path, key)) return std::move(*cached);
  auto prog = compile_seccomp(plan);
  if (prog) store(*dir, path, key, *prog);
  return prog;
}

}  // namespace least::enforce
