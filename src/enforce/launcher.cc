#include "enforce/launcher.h"

#include <errno.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/unique_fd.h"
#include "enforce/cgroups.h"
#include "enforce/child_setup.h"
#include "enforce/namespaces.h"
#include "enforce/supervisor.h"
#include "sys/landlock.h"

extern char** environ;

namespace least::enforce {

namespace {

Result<UniqueFd> receive_fd(int socket) {
  char byte;
  struct iovec iov = {&byte, 1};
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do n = recvmsg(socket, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0) return sys_error("receive the seccomp listener", errno);
  if (n == 0) return UniqueFd();  // the child failed before installing the filter
  struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
  if (!c || c->cmsg_type != SCM_RIGHTS)
    return make_error(ErrorKind::kSystem, "the child sent no seccomp listener");
  int fd;
  memcpy(&fd, CMSG_DATA(c), sizeof fd);
  return UniqueFd(fd);
}

class SignalForwarding {
 public:
  Result<int> start() {
    sigset_t set;
    sigemptyset(&set);
    for (int s : kForwardedSignals) sigaddset(&set, s);
    if (sigprocmask(SIG_BLOCK, &set, &old_) != 0) return sys_error("block signals", errno);
    blocked_ = true;
    fd_.reset(signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!fd_.valid()) return sys_error("signalfd", errno);
    return fd_.get();
  }
  // Signals from the terminal already reached the program's process group;
  // only signals sent by a process (kill) are passed on.
  void forward_pending(pid_t child, const LaunchRequest& request) {
    struct signalfd_siginfo si;
    while (read(fd_.get(), &si, sizeof si) == sizeof si) {
      const bool from_terminal = si.ssi_code == SI_KERNEL;
      if (request.on_signal)
        request.on_signal(static_cast<int>(si.ssi_signo), from_terminal, child);
      if (!from_terminal) kill(child, static_cast<int>(si.ssi_signo));
    }
  }
  ~SignalForwarding() {
    if (blocked_) sigprocmask(SIG_SETMASK, &old_, nullptr);
  }

 private:
  UniqueFd fd_;
  sigset_t old_;
  bool blocked_ = false;
};

Error child_error(const ChildFailure& f, const std::string& path) {
  if (f.stage == Stage::kExec) {
    ErrorKind kind = f.err == ENOENT ? ErrorKind::kNotFound : ErrorKind::kCannotExec;
    return make_error(kind, fmt::format("cannot execute \"{}\"", path), f.err);
  }
  if (f.stage == Stage::kMounts)
    return make_error(ErrorKind::kSystem,
                      fmt::format("{}: {}", stage_name(f.stage),
                                  mount_step_name(static_cast<MountStep>(f.detail))),
                      f.err);
  return make_error(ErrorKind::kSystem, stage_name(f.stage), f.err);
}

// Ends a started sandbox on an error path and waits for it.
void abandon(pid_t child) {
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
}

}  // namespace

Result<std::string> resolve_program(const std::string& name) {
  if (name.empty()) return make_error(ErrorKind::kNotFound, "no program given");
  auto check = [](const std::string& path) -> Result<std::string> {
    struct stat st;
    if (stat(path.c_str(), &st) != 0)
      return make_error(ErrorKind::kNotFound, fmt::format("program \"{}\" not found", path), errno);
    if (S_ISDIR(st.st_mode))
      return make_error(ErrorKind::kCannotExec, fmt::format("\"{}\" is a directory", path));
    if (access(path.c_str(), X_OK) != 0)
      return make_error(ErrorKind::kCannotExec, fmt::format("cannot execute \"{}\"", path), errno);
    return path;
  };
  if (name.find('/') != std::string::npos) return check(name);
  const char* env = getenv("PATH");
  std::string path = env && *env ? env : "/usr/local/bin:/usr/bin:/bin";
  bool found_unexecutable = false;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string dir = path.substr(start, end - start);
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    auto r = check(candidate);
    if (r) return r;
    if (r.error().kind == ErrorKind::kCannotExec) found_unexecutable = true;
    start = end + 1;
  }
  if (found_unexecutable)
    return make_error(ErrorKind::kCannotExec, fmt::format("\"{}\" is not executable", name));
  return make_error(ErrorKind::kNotFound, fmt::format("program \"{}\" not found in PATH", name));
}

Result<int> run_confined(const LaunchRequest& request) {
  auto path = resolve_program(request.argv.at(0));
  if (!path) return std::move(path).error();
  const plan::Plan& plan = *request.plan;
  if (plan.namespaces.writable.size() > 64)
    return make_error(ErrorKind::kUnsupported, "more than 64 writable paths");

  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) return sys_error("create the error pipe", errno);
  UniqueFd error_read(pipe_fds[0]), error_write(pipe_fds[1]);
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) return sys_error("create the sync pipe", errno);
  UniqueFd sync_read(pipe_fds[0]), sync_write(pipe_fds[1]);
  int sock_fds[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sock_fds) != 0)
    return sys_error("create the listener socket", errno);
  UniqueFd sock_parent(sock_fds[0]), sock_child(sock_fds[1]);

  std::vector<std::string> warnings;
  std::vector<plan::Rlimit> rlimits = plan.limits.rlimits;
  auto cgroups = CgroupScope::create(plan.limits, rlimits, warnings);
  if (!cgroups) return std::move(cgroups).context("cgroups").error();
  for (const auto& w : warnings) request.warn(w);

  std::vector<std::string> argv_storage = request.argv;
  ChildSetup setup;
  setup.path = *path;
  for (auto& a : argv_storage) setup.argv.push_back(a.data());
  setup.argv.push_back(nullptr);
  setup.plan = &plan;
  if (request.filter) {  // none: no seccomp filter at all
    setup.prog.len = static_cast<unsigned short>(request.filter->code.size());
    setup.prog.filter = const_cast<sock_filter*>(request.filter->code.data());
    setup.listener = request.filter->needs_listener;
  }
  setup.landlock = request.landlock;
  setup.capabilities = request.capabilities;
  setup.rlimits = rlimits;
  setup.error_pipe = error_write.get();
  setup.socket = sock_child.get();
  setup.sync_pipe = sync_read.get();

  SignalForwarding signals;
  auto sigfd = signals.start();
  if (!sigfd) return std::move(sigfd).error();

  // The sandbox's init, in its new namespaces. A user namespace only for
  // callers without root: root keeps real capabilities meaningful without.
  bool user_ns = geteuid() != 0 && namespace_clone_flags(plan.namespaces, false) != 0;
  unsigned long flags = namespace_clone_flags(plan.namespaces, user_ns);
  pid_t child = static_cast<pid_t>(syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0));
  plan::Plan without_namespaces;
  if (child < 0 && flags != 0) {
    int err = errno;
    if (!request.best_effort)
      return make_error(ErrorKind::kUnsupported,
                        fmt::format("create namespaces: {} (user namespaces may be disabled, or a "
                                    "container refuses them); pass --best-effort to run without",
                                    strerror(err)));
    request.warn(fmt::format("namespaces refused ({}): running without them (--best-effort)",
                             strerror(err)));
    without_namespaces = plan;
    without_namespaces.namespaces = plan::NamespacePlan{};
    without_namespaces.namespaces.mount = without_namespaces.namespaces.pid = false;
    without_namespaces.namespaces.ipc = without_namespaces.namespaces.uts = false;
    without_namespaces.namespaces.cgroup = false;
    setup.plan = &without_namespaces;
    user_ns = false;
    child = static_cast<pid_t>(syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0));
  }
  if (child < 0) return sys_error("fork", errno);
  if (child == 0) {
    sync_write.reset();
    sandbox_init_main(setup);
  }
  sync_read.reset();
  error_write.reset();
  sock_child.reset();

  if (user_ns) {
    if (auto r = write_id_maps(child, geteuid(), getegid()); !r) {
      abandon(child);
      return std::move(r).context("user namespace").error();
    }
  }
  if (auto r = cgroups->attach(child); !r) {
    abandon(child);
    return std::move(r).error();
  }
  UniqueFd pidfd(static_cast<int>(syscall(SYS_pidfd_open, child, 0)));
  if (!pidfd.valid()) {
    abandon(child);
    return sys_error("pidfd_open", errno);
  }
  if (request.on_started) {
    if (auto r = request.on_started(child); !r) {
      abandon(child);
      return std::move(r).error();
    }
  }
  if (write(sync_write.get(), "g", 1) != 1) {
    abandon(child);
    return sys_error("start the sandbox", errno);
  }
  sync_write.reset();

  std::unique_ptr<NotificationHandler> supervisor;
  if (setup.listener) {
    auto listener = receive_fd(sock_parent.get());
    if (!listener) {
      abandon(child);
      return std::move(listener).error();
    }
    if (listener->valid()) {
      if (request.make_handler)
        supervisor = request.make_handler(std::move(*listener));
      else
        supervisor = std::make_unique<Supervisor>(std::move(*listener), plan, request.supervision);
    }
  }

  // One loop: the supervisor's questions, forwarded signals, the caller's
  // descriptors and ticks, the sandbox's end.
  bool child_done = false, listening = supervisor != nullptr;
  // Ticks by the clock, so a program that keeps the supervisor busy still
  // gets them.
  using Clock = std::chrono::steady_clock;
  const bool ticking = request.on_tick && request.tick.count() > 0;
  Clock::time_point next_tick = Clock::now() + request.tick;
  std::vector<struct pollfd> fds;
  while (!child_done) {
    int timeout = -1;
    if (ticking) {
      auto now = Clock::now();
      if (now >= next_tick) {
        request.on_tick();
        next_tick = now + request.tick;
      }
      timeout =
          static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(next_tick - now).count());
    }
    fds.assign({{pidfd.get(), POLLIN, 0},
                {*sigfd, POLLIN, 0},
                {listening ? supervisor->fd() : -1, POLLIN, 0}});
    for (const auto& w : request.watched) fds.push_back({w.fd, POLLIN, 0});
    int ready = poll(fds.data(), fds.size(), timeout);
    if (ready < 0) {
      if (errno == EINTR) continue;
      abandon(child);
      return sys_error("poll", errno);
    }
    if (ready == 0) continue;
    if (fds[1].revents & POLLIN) signals.forward_pending(child, request);
    if (listening && (fds[2].revents & POLLIN)) {
      if (auto r = supervisor->handle_one(); !r) {
        abandon(child);  // fail closed: no unsupervised program
        return std::move(r).error();
      }
    }
    // No process is left under the filter.
    if (listening && (fds[2].revents & (POLLHUP | POLLERR))) listening = false;
    for (size_t i = 0; i < request.watched.size(); ++i) {
      if (!(fds[3 + i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      if (auto r = request.watched[i].on_ready(); !r) {
        abandon(child);
        return std::move(r).error();
      }
    }
    if (fds[0].revents & POLLIN) child_done = true;
  }
  if (supervisor && request.supervision.print)
    if (auto s = supervisor->summary(); !s.empty()) request.supervision.print(s);

  int status = 0;
  if (waitpid(child, &status, 0) < 0) return sys_error("wait for the sandbox", errno);
  ChildFailure failure;
  if (read(error_read.get(), &failure, sizeof failure) == sizeof failure)
    return child_error(failure, *path);
  return status_to_exit_code(status);
}

}  // namespace least::enforce
