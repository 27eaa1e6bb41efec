#include "enforce/exec_supervisor.h"

#include <errno.h>
#include <fmt/format.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <fstream>

namespace least::enforce {

ExecSupervisor::ExecSupervisor(UniqueFd listener, std::string program)
    : listener_(std::move(listener)), program_(std::move(program)) {}

namespace {

// Reads a NUL-terminated string from another process, never past `max`.
std::string read_remote_string(pid_t pid, uint64_t addr, size_t max = 4096) {
  std::string out(max, '\0');
  struct iovec local = {out.data(), max};
  struct iovec remote = {reinterpret_cast<void*>(addr), max};
  ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
  if (n <= 0) {
    // The string may end near the end of a mapping: retry within one page.
    size_t in_page = 4096 - (addr % 4096);
    local.iov_len = remote.iov_len = in_page;
    n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
    if (n <= 0) return "?";
  }
  out.resize(static_cast<size_t>(n));
  if (auto nul = out.find('\0'); nul != std::string::npos) out.resize(nul);
  return out;
}

std::string comm_of(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/comm", pid));
  std::string comm;
  std::getline(in, comm);
  return comm.empty() ? "?" : comm;
}

// Whether `path` names a file as the process sees it (its root and cwd).
bool exists_for(pid_t pid, const std::string& path) {
  if (path.empty() || path == "?") return true;  // unknown: report, do not guess
  std::string seen = path[0] == '/' ? fmt::format("/proc/{}/root{}", pid, path)
                                    : fmt::format("/proc/{}/cwd/{}", pid, path);
  struct stat st;
  return ::stat(seen.c_str(), &st) == 0 || errno != ENOENT;
}

}  // namespace

Result<bool> ExecSupervisor::handle_one() {
  struct seccomp_notif req = {};
  if (ioctl(listener_.get(), SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) {
    if (errno == EINTR || errno == ENOENT) return true;  // ENOENT: the caller died meanwhile
    return sys_error("receive a seccomp notification", errno);
  }
  struct seccomp_notif_resp resp = {};
  resp.id = req.id;
  // The first notification can only be the launcher's own execve: until it
  // succeeds, no other process runs under this filter.
  const bool is_initial = !initial_exec_done_;
  if (is_initial) {
    // Safe to continue: the launcher is single-threaded and runs our code, so
    // the path cannot change between this check and the kernel's read.
    initial_exec_done_ = true;
    resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
  } else {
    resp.error = -EPERM;
    // execveat(dirfd, path, ...) takes the path second.
    const bool is_execve = req.data.nr == __NR_execve;
    const pid_t pid = static_cast<pid_t>(req.pid);
    std::string path = read_remote_string(pid, is_execve ? req.data.args[0] : req.data.args[1]);
    std::string comm = comm_of(pid);
    // Only trust what we read if the request is still alive (the pid was not reused).
    if (ioctl(listener_.get(), SECCOMP_IOCTL_NOTIF_ID_VALID, &req.id) == 0) {
      if (is_execve && !exists_for(pid, path)) {
        // execvp tries each PATH entry: a missing file is not a refusal.
        resp.error = -ENOENT;
      } else {
        ++refused_;
        fmt::print(stderr, "least: blocked {}(\"{}\") in {}[{}]: needs promise \"exec\"\n",
                   is_execve ? "execve" : "execveat", path, comm, req.pid);
      }
    }
  }
  if (ioctl(listener_.get(), SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0 && errno != ENOENT)
    return sys_error("answer a seccomp notification", errno);
  return true;
}

}  // namespace least::enforce
