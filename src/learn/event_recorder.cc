#include "learn/event_recorder.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <cstring>

#include "base/unique_fd.h"
#include "learn/syscall_paths.h"
#include "plan/plan.h"
#include "sys/syscall_table.h"

namespace least::learn {

namespace {

// Enough for any real program (a few ioctl requests, fcntl commands, clone
// flag sets); a runaway set (a pid argument) is cut here and said so.
constexpr size_t kMaxValuesPerArgument = 256;
constexpr size_t kMaxCachedDirectories = 4096;

std::string read_link(const std::string& link) {
  char buf[PATH_MAX];
  ssize_t n = readlink(link.c_str(), buf, sizeof buf);
  if (n <= 0 || static_cast<size_t>(n) >= sizeof buf) return {};
  return std::string(buf, static_cast<size_t>(n));
}

// "." and ".." and repeated slashes folded without touching the disk.
std::string lexically_normal(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view part = path.substr(i, j - i);
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    i = j + 1;
  }
  std::string out;
  for (auto p : parts) {
    out += '/';
    out += p;
  }
  return out.empty() ? "/" : out;
}

bool under_proc(std::string_view path) {
  return path == "/proc" || path.starts_with("/proc/");
}

pid_t thread_group_of(pid_t tid) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/status", tid);
  UniqueFd fd(open(path, O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return -1;
  char buf[1024];
  ssize_t n = read(fd.get(), buf, sizeof buf - 1);
  if (n <= 0) return -1;
  buf[n] = '\0';
  const char* tgid = strstr(buf, "\nTgid:");
  return tgid ? static_cast<pid_t>(atoi(tgid + 6)) : -1;
}

// "tcp" or "udp" for the socket `fd` of thread `tid`; "" for another
// protocol (ping sockets, raw); nullopt when it cannot be known. The socket
// is borrowed with pidfd_getfd: the calls that create it are seen, but not
// the descriptor they return.
std::optional<std::string> inet_protocol(pid_t tid, int fd) {
  pid_t tgid = thread_group_of(tid);
  if (tgid <= 0) return std::nullopt;
  UniqueFd pidfd(static_cast<int>(syscall(SYS_pidfd_open, tgid, 0)));
  if (!pidfd.valid()) return std::nullopt;
  UniqueFd sock(static_cast<int>(syscall(SYS_pidfd_getfd, pidfd.get(), fd, 0)));
  if (!sock.valid()) return std::nullopt;
  int protocol = 0, type = 0;
  socklen_t len = sizeof protocol;
  if (getsockopt(sock.get(), SOL_SOCKET, SO_PROTOCOL, &protocol, &len) != 0) return std::nullopt;
  len = sizeof type;
  if (getsockopt(sock.get(), SOL_SOCKET, SO_TYPE, &type, &len) != 0) return std::nullopt;
  if (protocol == IPPROTO_TCP || protocol == IPPROTO_MPTCP) return "tcp";
  if (protocol == IPPROTO_UDP || protocol == IPPROTO_UDPLITE) return "udp";
  if (protocol == 0 && type == SOCK_STREAM) return "tcp";
  if (protocol == 0 && type == SOCK_DGRAM) return "udp";
  return "";
}

int number_of(std::string_view name) {
  return sys::syscall_number(name, sys::native_arch()).value_or(-1);
}

}  // namespace

EventRecorder::EventRecorder(Recording& recording)
    : recording_(recording),
      uses_(sys::kSyscallNumberCeiling + 1, nullptr),
      bind_nr_(number_of("bind")),
      connect_nr_(number_of("connect")),
      execveat_nr_(number_of("execveat")),
      openat2_nr_(number_of("openat2")),
      socket_nr_(number_of("socket")) {}

SyscallUse& EventRecorder::use_of(int nr) {
  const bool cached = nr >= 0 && static_cast<size_t>(nr) < uses_.size();
  if (cached && uses_[nr]) return *uses_[nr];
  std::string name = sys::syscall_name(nr, sys::native_arch()).value_or(fmt::format("#{}", nr));
  SyscallUse& use = recording_.syscalls[name];
  if (cached) uses_[nr] = &use;
  return use;
}

void EventRecorder::count(int nr, uint64_t n) {
  use_of(nr).count += n;
}

void EventRecorder::value(int nr, int arg, uint64_t value) {
  auto& seen = use_of(nr).values[static_cast<uint8_t>(arg)];
  if (seen.size() < kMaxValuesPerArgument || seen.count(value))
    seen.insert(value);
  else
    ++values_dropped_;
}

void EventRecorder::record(const SyscallEvent& event) {
  SyscallUse& use = use_of(event.nr);
  ++use.count;
  const CaptureSpec spec = capture_spec(event.nr);
  for (uint8_t i = 0; i < 6; ++i)
    if (spec.value_args & (1u << i)) value(event.nr, i, event.args[i]);
  if (path_operands(event.nr).any()) {
    record_path(event, 0);
    if (path_operands(event.nr).second.path >= 0) record_path(event, 1);
  }
  if (event.nr == socket_nr_) {
    const uint64_t domain = event.args[0] & 0xffffffff, type = event.args[1] & 0xf;
    const uint64_t protocol = event.args[2] & 0xffffffff;
    if (domain == AF_INET || domain == AF_INET6) {
      if (type == SOCK_STREAM) inet_sockets_[event.pid] |= 1;
      if (type == SOCK_DGRAM &&
          (protocol == 0 || protocol == IPPROTO_UDP || protocol == IPPROTO_UDPLITE))
        inet_sockets_[event.pid] |= 2;
    }
  }
  if (event.nr == bind_nr_ || event.nr == connect_nr_) record_endpoint(event, event.nr == bind_nr_);
}

void EventRecorder::record_path(const SyscallEvent& event, int which) {
  const PathOperands& ops = path_operands(event.nr);
  const learn::PathOperand& op = which == 0 ? ops.first : ops.second;
  if (event.args[op.path] == 0) return;  // NULL: the call fails, touching nothing
  const auto& text = event.memory[op.path];
  if (!text) {
    ++unreadable_;
    return;
  }
  uint32_t access = op.access;
  if (op.how == learn::PathOperand::Access::kOpenFlags) {
    access = access_from_open_flags(event.args[op.flags]);
  } else if (op.how == learn::PathOperand::Access::kOpenHow) {
    const auto& how = event.memory[capture_spec(event.nr).sockaddr_arg];
    uint64_t flags = 0;
    if (!how || how->size() < sizeof flags) {
      ++unreadable_;
      return;
    }
    std::memcpy(&flags, how->data(), sizeof flags);
    access = access_from_open_flags(flags);
  }
  if (!access) return;  // O_PATH: looked at, no right needed (see capture_spec)
  const int dirfd = op.dirfd >= 0 ? static_cast<int>(event.args[op.dirfd]) : AT_FDCWD;
  std::optional<std::string> path;
  if (text->empty()) {
    // fstat-like calls on a descriptor (AT_EMPTY_PATH) touch no path;
    // fexecve executes the file behind the descriptor.
    if (event.nr != execveat_nr_) return;
    std::string target = read_link(fmt::format("/proc/{}/fd/{}", event.pid, dirfd));
    if (!target.empty() && target[0] == '/') path = target;
  } else {
    path = absolute(event.pid, dirfd, *text);
  }
  if (!path) {
    ++unresolved_;
    return;
  }
  recording_.paths[*path] |= access;
}

std::optional<std::string> EventRecorder::absolute(pid_t pid, int dirfd, std::string_view path) {
  std::string full;
  if (path.starts_with('/')) {
    full = path;
  } else {
    std::string base = read_link(dirfd == AT_FDCWD ? fmt::format("/proc/{}/cwd", pid)
                                                   : fmt::format("/proc/{}/fd/{}", pid, dirfd));
    // Gone, or not a directory ("pipe:[123]"), or removed ("/x (deleted)").
    if (base.empty() || base[0] != '/' || base.ends_with(" (deleted)")) return std::nullopt;
    full = base + "/" + std::string(path);
  }
  while (full.size() > 1 && full.back() == '/') full.pop_back();
  size_t slash = full.rfind('/');
  std::string name = full.substr(slash + 1);
  if (name.empty() || name == "." || name == "..") return resolve_directory(full);
  std::string dir = resolve_directory(slash == 0 ? "/" : full.substr(0, slash));
  return dir == "/" ? "/" + name : dir + "/" + name;
}

// Symlinks in the directory part resolved as the process sees them: least
// learn shares its mount namespace, so realpath here sees the same. /proc is
// the exception (/proc/self is whoever looks), and so is a directory that
// does not exist (yet): both are normalised as written.
std::string EventRecorder::resolve_directory(const std::string& dir) {
  std::string normal = lexically_normal(dir);
  if (under_proc(normal)) return normal;
  // ".." after a symlink is the link target's parent, not the lexical one:
  // such a path (rare) is resolved whole, as written, and not cached.
  if (dir.find("/..") != std::string::npos) {
    char buf[PATH_MAX];
    return realpath(dir.c_str(), buf) && !under_proc(buf) ? std::string(buf) : normal;
  }
  auto real = real_directory(normal);
  return real && !under_proc(*real) ? *real : normal;
}

// One component at a time on top of the parent's cached resolution: a tree
// walk resolves each directory with one lstat, where realpath() of every
// path read a link per component (tar of /usr/include: 2 900 readlinks).
std::optional<std::string> EventRecorder::real_directory(const std::string& normal) {
  if (normal == "/") return normal;
  if (auto it = directories_.find(normal); it != directories_.end()) return it->second;
  size_t slash = normal.rfind('/');
  auto parent = real_directory(slash == 0 ? "/" : normal.substr(0, slash));
  if (!parent) return std::nullopt;
  std::string path = (*parent == "/" ? "" : *parent) + normal.substr(slash);
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return std::nullopt;  // not there (yet)
  if (S_ISLNK(st.st_mode)) {
    char buf[PATH_MAX];
    if (!realpath(path.c_str(), buf)) return std::nullopt;
    path = buf;
  }
  if (directories_.size() >= kMaxCachedDirectories) directories_.clear();
  return directories_.emplace(normal, std::move(path)).first->second;
}

void EventRecorder::record_endpoint(const SyscallEvent& event, bool bind) {
  if (event.args[1] == 0) return;
  const auto& bytes = event.memory[1];
  if (!bytes) {
    ++unreadable_;
    return;
  }
  sa_family_t family = AF_UNSPEC;
  if (bytes->size() < sizeof family) return;  // the kernel refuses it (EINVAL)
  std::memcpy(&family, bytes->data(), sizeof family);
  auto& endpoints = bind ? recording_.binds : recording_.connects;
  char text[INET6_ADDRSTRLEN] = {};
  Endpoint endpoint;
  if (family == AF_INET || family == AF_INET6) {
    uint16_t port = 0;
    if (family == AF_INET) {
      sockaddr_in in{};
      if (bytes->size() < sizeof in) return;
      std::memcpy(&in, bytes->data(), sizeof in);
      inet_ntop(AF_INET, &in.sin_addr, text, sizeof text);
      port = ntohs(in.sin_port);
    } else {
      sockaddr_in6 in6{};
      if (bytes->size() < sizeof in6) return;
      std::memcpy(&in6, bytes->data(), sizeof in6);
      inet_ntop(AF_INET6, &in6.sin6_addr, text, sizeof text);
      port = ntohs(in6.sin6_port);
    }
    auto protocol = inet_protocol(event.pid, static_cast<int>(event.args[0]));
    if (!protocol) {
      // The socket is gone: if this thread created inet sockets of one kind
      // only, that is the one (inherited or received sockets aside).
      auto it = inet_sockets_.find(event.pid);
      if (it != inet_sockets_.end() && it->second == 1) protocol = "tcp";
      if (it != inet_sockets_.end() && it->second == 2) protocol = "udp";
    }
    if (!protocol) {
      ++unknown_protocol_;
      return;
    }
    if (protocol->empty()) return;  // neither tcp nor udp: no endpoint a policy names
    endpoints.insert(Endpoint{*protocol, text, port});
    return;
  }
  if (family != AF_UNIX) return;
  const size_t offset = offsetof(sockaddr_un, sun_path);
  if (bytes->size() <= offset) return;  // unnamed (autobind)
  std::string_view path(bytes->data() + offset, bytes->size() - offset);
  if (path[0] == '\0') {
    endpoints.insert(Endpoint{"unix", "@" + std::string(path.substr(1)), 0});
    return;
  }
  path = path.substr(0, path.find('\0'));
  auto resolved = absolute(event.pid, AT_FDCWD, path);
  if (!resolved) {
    ++unresolved_;
    return;
  }
  endpoints.insert(Endpoint{"unix", *resolved, 0});
  if (bind) recording_.paths[*resolved] |= plan::kPathCreate;
}

void EventRecorder::finish() {
  if (finished_) return;
  finished_ = true;
  auto& lost = recording_.lost;
  if (unresolved_)
    lost.push_back(fmt::format(
        "{} relative paths: their directory could not be read (the process had ended, or the "
        "directory descriptor was no directory)",
        unresolved_));
  if (unreadable_)
    lost.push_back(fmt::format(
        "{} path or address arguments: the program's memory could not be read", unreadable_));
  if (values_dropped_)
    lost.push_back(fmt::format("{} argument values beyond {} distinct ones per argument",
                               values_dropped_, kMaxValuesPerArgument));
  if (unknown_protocol_)
    lost.push_back(
        fmt::format("{} network endpoints: the socket's protocol (tcp or udp) could not be read",
                    unknown_protocol_));
}

}  // namespace least::learn
