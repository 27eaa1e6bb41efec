#include "enforce/syscall_decoder.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <linux/sched.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>

#include <map>
#include <string_view>

namespace least::enforce {

std::string read_remote_string(pid_t pid, uint64_t addr, size_t max) {
  if (addr == 0) return "NULL";
  std::string out(max, '\0');
  // Read page by page: the string may end just before an unmapped page.
  size_t got = 0;
  while (got < max) {
    size_t chunk = std::min(max - got, 4096 - ((addr + got) % 4096));
    struct iovec local = {out.data() + got, chunk};
    struct iovec remote = {reinterpret_cast<void*>(addr + got), chunk};
    ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
    if (n <= 0) break;
    got += static_cast<size_t>(n);
    if (out.find('\0') < got) break;
  }
  if (got == 0) return "?";
  out.resize(got);
  if (auto nul = out.find('\0'); nul != std::string::npos) out.resize(nul);
  return out;
}

namespace {

bool read_remote(pid_t pid, uint64_t addr, void* buf, size_t len) {
  struct iovec local = {buf, len};
  struct iovec remote = {reinterpret_cast<void*>(addr), len};
  return process_vm_readv(pid, &local, 1, &remote, 1, 0) == static_cast<ssize_t>(len);
}

std::string names_of(uint64_t value, const std::vector<std::pair<uint64_t, const char*>>& table,
                     uint64_t mask_rest = ~0ULL) {
  std::string out;
  for (const auto& [bit, name] : table) {
    if (bit && (value & bit) == bit) {
      if (!out.empty()) out += '|';
      out += name;
      value &= ~bit;
    }
  }
  value &= mask_rest;
  if (value || out.empty()) {
    if (!out.empty()) out += '|';
    out += fmt::format("{:#x}", value);
  }
  return out;
}

std::string family_name(uint64_t f) {
  static const std::map<uint64_t, const char*> names = {
      {AF_UNIX, "AF_UNIX"},       {AF_INET, "AF_INET"},           {AF_INET6, "AF_INET6"},
      {AF_NETLINK, "AF_NETLINK"}, {AF_PACKET, "AF_PACKET"},       {AF_VSOCK, "AF_VSOCK"},
      {AF_ALG, "AF_ALG"},         {AF_BLUETOOTH, "AF_BLUETOOTH"}, {AF_KEY, "AF_KEY"}};
  auto it = names.find(f & 0xffffffff);
  return it != names.end() ? it->second : fmt::format("family {}", f & 0xffffffff);
}

std::string type_name(uint64_t t) {
  static const std::map<uint64_t, const char*> names = {{SOCK_STREAM, "SOCK_STREAM"},
                                                        {SOCK_DGRAM, "SOCK_DGRAM"},
                                                        {SOCK_RAW, "SOCK_RAW"},
                                                        {SOCK_SEQPACKET, "SOCK_SEQPACKET"}};
  auto it = names.find(t & 0xf);
  std::string out = it != names.end() ? it->second : fmt::format("type {}", t & 0xf);
  if (t & SOCK_NONBLOCK) out += "|SOCK_NONBLOCK";
  if (t & SOCK_CLOEXEC) out += "|SOCK_CLOEXEC";
  return out;
}

std::string open_flags(uint64_t f) {
  std::string out = (f & O_ACCMODE) == O_WRONLY ? "O_WRONLY"
                    : (f & O_ACCMODE) == O_RDWR ? "O_RDWR"
                                                : "O_RDONLY";
  static const std::vector<std::pair<uint64_t, const char*>> extra = {
      {O_CREAT, "O_CREAT"},     {O_EXCL, "O_EXCL"},           {O_TRUNC, "O_TRUNC"},
      {O_APPEND, "O_APPEND"},   {O_DIRECTORY, "O_DIRECTORY"}, {O_NOFOLLOW, "O_NOFOLLOW"},
      {O_CLOEXEC, "O_CLOEXEC"}, {O_PATH, "O_PATH"},           {O_TMPFILE, "O_TMPFILE"}};
  for (const auto& [bit, name] : extra)
    if ((f & bit) == bit) out += std::string("|") + name;
  return out;
}

std::string clone_flags(uint64_t f) {
  static const std::vector<std::pair<uint64_t, const char*>> table = {
      {CLONE_NEWUSER, "CLONE_NEWUSER"},
      {CLONE_NEWNS, "CLONE_NEWNS"},
      {CLONE_NEWPID, "CLONE_NEWPID"},
      {CLONE_NEWNET, "CLONE_NEWNET"},
      {CLONE_NEWIPC, "CLONE_NEWIPC"},
      {CLONE_NEWUTS, "CLONE_NEWUTS"},
      {CLONE_NEWCGROUP, "CLONE_NEWCGROUP"},
      {CLONE_THREAD, "CLONE_THREAD"},
      {CLONE_VM, "CLONE_VM"},
      {CLONE_FS, "CLONE_FS"},
      {CLONE_FILES, "CLONE_FILES"},
      {CLONE_SIGHAND, "CLONE_SIGHAND"},
      {CLONE_VFORK, "CLONE_VFORK"}};
  std::string out = names_of(f & ~0xffULL, table);
  if (f & 0xff) out += fmt::format("|signal {}", f & 0xff);
  return out;
}

std::string ioctl_name(uint64_t r) {
  static const std::map<uint64_t, const char*> names = {
      {TIOCSTI, "TIOCSTI"},       {TIOCLINUX, "TIOCLINUX"},   {TCGETS, "TCGETS"},
      {TCSETS, "TCSETS"},         {TCSETSW, "TCSETSW"},       {TCSETSF, "TCSETSF"},
      {TIOCGWINSZ, "TIOCGWINSZ"}, {TIOCSWINSZ, "TIOCSWINSZ"}, {TIOCSCTTY, "TIOCSCTTY"},
      {TIOCGPGRP, "TIOCGPGRP"},   {TIOCSPGRP, "TIOCSPGRP"},   {FIONREAD, "FIONREAD"},
      {FIONBIO, "FIONBIO"},       {FIOCLEX, "FIOCLEX"},       {TIOCCONS, "TIOCCONS"},
      {TIOCSETD, "TIOCSETD"}};
  auto it = names.find(r & 0xffffffff);
  std::string out = it != names.end() ? it->second : fmt::format("{:#x}", r & 0xffffffff);
  if (r >> 32) out += fmt::format(" (with high bits {:#x})", r >> 32);
  return out;
}

std::string prot_flags(uint64_t p) {
  static const std::vector<std::pair<uint64_t, const char*>> table = {
      {PROT_READ, "PROT_READ"}, {PROT_WRITE, "PROT_WRITE"}, {PROT_EXEC, "PROT_EXEC"}};
  return p == 0 ? "PROT_NONE" : names_of(p, table);
}

std::string sockaddr_text(pid_t pid, uint64_t addr, uint64_t len) {
  struct sockaddr_storage ss = {};
  if (addr == 0) return "NULL";
  size_t n = std::min<uint64_t>(len, sizeof ss);
  if (n < sizeof(sa_family_t) || !read_remote(pid, addr, &ss, n)) return "?";
  char buf[INET6_ADDRSTRLEN] = {};
  switch (ss.ss_family) {
    case AF_INET: {
      if (n < sizeof(sockaddr_in)) return "AF_INET ?";
      auto* in = reinterpret_cast<sockaddr_in*>(&ss);
      inet_ntop(AF_INET, &in->sin_addr, buf, sizeof buf);
      return fmt::format("{}:{}", buf, ntohs(in->sin_port));
    }
    case AF_INET6: {
      if (n < sizeof(sockaddr_in6)) return "AF_INET6 ?";
      auto* in6 = reinterpret_cast<sockaddr_in6*>(&ss);
      inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof buf);
      return fmt::format("[{}]:{}", buf, ntohs(in6->sin6_port));
    }
    case AF_UNIX: {
      auto* un = reinterpret_cast<sockaddr_un*>(&ss);
      size_t path_len = n - offsetof(sockaddr_un, sun_path);
      if (path_len == 0) return "unix (unnamed)";
      if (un->sun_path[0] == '\0')
        return fmt::format("unix abstract \"@{}\"",
                           std::string(un->sun_path + 1, path_len - 1).c_str());
      return fmt::format("unix \"{}\"", std::string(un->sun_path, strnlen(un->sun_path, path_len)));
    }
    default:
      return family_name(ss.ss_family);
  }
}

struct PathArgs {
  int first = -1, second = -1;  // path argument indices
  int flags = -1;               // open flags index
};

PathArgs path_args(std::string_view s) {
  static const std::map<std::string_view, PathArgs> table = {
      {"open", {0, -1, 1}},  {"creat", {0}},        {"openat", {1, -1, 2}},
      {"openat2", {1}},      {"stat", {0}},         {"lstat", {0}},
      {"access", {0}},       {"readlink", {0}},     {"chdir", {0}},
      {"mkdir", {0}},        {"rmdir", {0}},        {"unlink", {0}},
      {"chmod", {0}},        {"chown", {0}},        {"lchown", {0}},
      {"truncate", {0}},     {"statfs", {0}},       {"chroot", {0}},
      {"acct", {0}},         {"swapon", {0}},       {"swapoff", {0}},
      {"umount2", {0}},      {"mknod", {0}},        {"execve", {0}},
      {"newfstatat", {1}},   {"faccessat", {1}},    {"faccessat2", {1}},
      {"readlinkat", {1}},   {"mkdirat", {1}},      {"unlinkat", {1}},
      {"fchmodat", {1}},     {"fchownat", {1}},     {"utimensat", {1}},
      {"mknodat", {1}},      {"statx", {1}},        {"name_to_handle_at", {1}},
      {"execveat", {1}},     {"rename", {0, 1}},    {"link", {0, 1}},
      {"symlink", {0, 1}},   {"renameat", {1, 3}},  {"renameat2", {1, 3}},
      {"linkat", {1, 3}},    {"symlinkat", {0, 2}}, {"mount", {0, 1}},
      {"pivot_root", {0, 1}}};
  auto it = table.find(s);
  return it != table.end() ? it->second : PathArgs{};
}

}  // namespace

DecodedCall decode_call(pid_t pid, const std::string& syscall, int number,
                        const std::array<uint64_t, 6>& a) {
  DecodedCall d;
  d.syscall = syscall.empty() ? fmt::format("syscall {}", number) : syscall;
  std::vector<std::string> shown;
  auto field = [&](std::string name, std::string value) {
    shown.push_back(value);
    d.fields.emplace_back(std::move(name), std::move(value));
  };
  // Paths are quoted in the text, bare in the fields; a NULL pointer is no path.
  auto path = [&](std::string name, uint64_t addr) {
    std::string value = read_remote_string(pid, addr);
    shown.push_back(addr == 0 ? value : fmt::format("\"{}\"", value));
    d.fields.emplace_back(std::move(name), std::move(value));
  };
  const std::string_view s = syscall;
  if (PathArgs p = path_args(s); p.first >= 0) {
    path("path", a[p.first]);
    if (p.second >= 0) path("path2", a[p.second]);
    if (p.flags >= 0) field("flags", open_flags(a[p.flags]));
  } else if (s == "socket" || s == "socketpair") {
    field("family", family_name(a[0]));
    field("type", type_name(a[1]));
    field("protocol", std::to_string(a[2] & 0xffffffff));
  } else if (s == "connect" || s == "bind") {
    field("fd", std::to_string(static_cast<int>(a[0])));
    field("address", sockaddr_text(pid, a[1], a[2]));
  } else if (s == "sendto") {
    field("fd", std::to_string(static_cast<int>(a[0])));
    field("address", sockaddr_text(pid, a[4], a[5]));
  } else if (s == "ioctl") {
    field("fd", std::to_string(static_cast<int>(a[0])));
    field("request", ioctl_name(a[1]));
  } else if (s == "clone" || s == "unshare") {
    field("flags", clone_flags(a[0]));
  } else if (s == "mmap" || s == "mprotect" || s == "pkey_mprotect") {
    field("prot", prot_flags(a[2]));
  } else if (s == "kill" || s == "tgkill" || s == "tkill") {
    field("pid", std::to_string(static_cast<int>(a[s == "tgkill" ? 1 : 0])));
    field("signal", std::to_string(static_cast<int>(a[s == "tgkill" ? 2 : 1])));
  } else if (s == "fcntl" || s == "prctl" || s == "personality") {
    field(s == "fcntl" ? "command" : "option",
          std::to_string(a[s == "fcntl" ? 1 : 0] & 0xffffffff));
  } else if (s == "fork" || s == "vfork" || s == "getpid" || s == "getppid" || s == "sync" ||
             s == "pause" || s == "setsid" || s == "vhangup" || s == "munlockall" ||
             s == "inotify_init" || s == "sched_yield") {
    // No arguments: what the registers hold is noise.
  } else {
    for (int i = 0; i < 3; ++i) field(fmt::format("arg{}", i), fmt::format("{:#x}", a[i]));
  }
  d.text = d.syscall + "(";
  for (size_t i = 0; i < shown.size(); ++i) d.text += (i ? ", " : "") + shown[i];
  d.text += ")";
  return d;
}

}  // namespace least::enforce
