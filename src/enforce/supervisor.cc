#include "enforce/supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "base/text.h"
#include "enforce/syscall_decoder.h"
#include "plan/hints.h"

namespace least::enforce {

namespace {

// Read for every notification (exec changes it), so with plain syscalls.
std::string comm_of(pid_t pid) {
  char path[32], buf[32];
  snprintf(path, sizeof path, "/proc/%d/comm", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "?";
  ssize_t n = read(fd, buf, sizeof buf);
  close(fd);
  if (n <= 0) return "?";
  std::string comm(buf, static_cast<size_t>(n));
  if (!comm.empty() && comm.back() == '\n') comm.pop_back();
  return comm;
}

// The errno the policy gives this call: its rule's, else the default's.
int errno_for(const plan::SeccompPlan& plan, int nr) {
  for (const auto& r : plan.rules)
    if (r.number == nr && r.action.kind == plan::Action::Kind::kNotify) return r.action.errno_value;
  return plan.default_action.errno_value;
}

bool promised(const plan::Plan& plan, std::string_view p) {
  return std::find(plan.promises.begin(), plan.promises.end(), p) != plan.promises.end();
}

// Whether a path exists as the process sees it (its root and cwd).
bool exists_for(pid_t pid, const std::string& path) {
  if (path.empty() || path == "?") return true;  // unknown: report, do not guess
  std::string seen = path[0] == '/' ? fmt::format("/proc/{}/root{}", pid, path)
                                    : fmt::format("/proc/{}/cwd/{}", pid, path);
  struct stat st;
  return ::stat(seen.c_str(), &st) == 0 || errno != ENOENT;
}

std::string now_iso8601() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03d}Z", buf, ts.tv_nsec / 1000000);
}

}  // namespace

Supervisor::Supervisor(UniqueFd listener, const plan::Plan& plan, SupervisorOptions options)
    : listener_(std::move(listener)), plan_(plan), options_(std::move(options)) {
  // Linux 6.6+: wake the supervisor on the caller's CPU, roughly halving the
  // round trip. Older kernels refuse the flag; the round trip is then slower.
  constexpr unsigned long kSetFlags = SECCOMP_IOW(4, uint64_t);  // SECCOMP_IOCTL_NOTIF_SET_FLAGS
  ioctl(listener_.get(), kSetFlags, 1UL /* SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP */);
}

Status Supervisor::handle_one() {
  struct seccomp_notif req = {};
  if (ioctl(listener_.get(), SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) {
    if (errno == EINTR || errno == ENOENT) return ok_status();  // the caller died meanwhile
    return sys_error("receive a seccomp notification", errno);
  }
  struct seccomp_notif_resp resp = {};
  resp.id = req.id;
  auto name = sys::syscall_name(req.data.nr, plan_.seccomp.arch).value_or("");
  const bool is_exec = name == "execve" || name == "execveat";

  // The launcher's own execve comes first: until it succeeds, only the
  // launcher (single-threaded, running our code) is under this filter, so
  // continuing it is safe from the usual time-of-check races.
  if (is_exec && !initial_exec_done_) {
    initial_exec_done_ = true;
    resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    if (ioctl(listener_.get(), SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0 && errno != ENOENT)
      return sys_error("answer a seccomp notification", errno);
    return ok_status();
  }

  const pid_t pid = static_cast<pid_t>(req.pid);
  std::array<uint64_t, 6> args;
  std::copy(std::begin(req.data.args), std::end(req.data.args), args.begin());
  DecodedCall call = decode_call(pid, name, req.data.nr, args);
  std::string comm = comm_of(pid);
  int answer = errno_for(plan_.seccomp, req.data.nr);
  // Decoded memory is trusted only if the request is still alive afterwards
  // (the process did not die and its pid was not reused).
  const bool valid = ioctl(listener_.get(), SECCOMP_IOCTL_NOTIF_ID_VALID, &req.id) == 0;

  // execvp tries each PATH entry: a missing file is no refusal, in run and
  // check alike. Said only where the program may learn it anyway (rpath lets
  // it stat any path).
  bool silent = false;
  if (valid && is_exec && promised(plan_, "rpath")) {
    std::string path = read_remote_string(pid, name == "execve" ? args[0] : args[1]);
    if (!exists_for(pid, path)) {
      answer = ENOENT;
      silent = true;
    }
  }
  if (options_.complain)
    resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
  else
    resp.error = -answer;

  if (valid && !silent) {
    ++total_;
    plan::Hint hint = plan::hint_for(plan_, name, args);
    std::string verb = options_.complain ? "would block" : "blocked";
    std::string key = fmt::format("{} in {}", call.text, comm);
    if (seen_[key]++ == 0 && options_.print)
      options_.print(
          fmt::format("least: {} {} in {}[{}]: {}", verb, call.text, comm, pid, hint.text));
    if (options_.json) {
      nlohmann::json event = {
          {"time", now_iso8601()},
          {"pid", pid},
          {"comm", comm},
          {"syscall", call.syscall},
          {"args", nlohmann::json::object()},
          {"action", options_.complain ? "allowed (check mode)" : "refused " + errno_name(answer)},
          {"rule", hint.rule},
          {"hint", hint.text}};
      for (const auto& [k, v] : call.fields) event["args"][k] = v;
      std::string line = event.dump() + "\n";
      bool written = std::fwrite(line.data(), 1, line.size(), options_.json) == line.size() &&
                     std::fflush(options_.json) == 0;
      if (!written && !json_failed_ && options_.print) {
        json_failed_ = true;  // said once, not per event
        options_.print(
            fmt::format("least: warning: the JSON log cannot be written ({}): events "
                        "from here on are lost",
                        std::strerror(errno)));
      }
    }
  }
  if (ioctl(listener_.get(), SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0 && errno != ENOENT)
    return sys_error("answer a seccomp notification", errno);
  return ok_status();
}

std::string Supervisor::summary() const {
  if (total_ == 0) return {};
  return fmt::format("least: {} {} {} ({} distinct)", total_, total_ == 1 ? "call" : "calls",
                     options_.complain ? "would have been blocked" : "blocked", seen_.size());
}

}  // namespace least::enforce
