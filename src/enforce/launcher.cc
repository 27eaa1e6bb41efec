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
#include "enforce/exec_supervisor.h"
#include "sys/landlock.h"

extern char** environ;

namespace least::enforce {

namespace {

constexpr int kForwardedSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

// What the child reports through the error pipe when a stage fails.
enum class Stage : int {
  kPdeathsig,
  kSocket,
  kSession,
  kRlimit,
  kCapabilities,
  kNoNewPrivs,
  kLandlock,
  kSeccomp,
  kSendListener,
  kExec
};

struct ChildFailure {
  Stage stage;
  int err;
};

const char* stage_name(Stage s) {
  switch (s) {
    case Stage::kPdeathsig:
      return "set the parent-death signal";
    case Stage::kSocket:
      return "reserve descriptor 1000 for the launcher";
    case Stage::kSession:
      return "start a new session";
    case Stage::kRlimit:
      return "set resource limits";
    case Stage::kCapabilities:
      return "drop capabilities";
    case Stage::kNoNewPrivs:
      return "set no_new_privs";
    case Stage::kLandlock:
      return "enforce the Landlock ruleset";
    case Stage::kSeccomp:
      return "install the seccomp filter";
    case Stage::kSendListener:
      return "hand the seccomp listener to the supervisor";
    case Stage::kExec:
      return "execute the program";
  }
  return "?";
}

// Everything the child needs, prepared before fork so the child allocates nothing.
struct ChildSetup {
  std::string path;
  std::vector<char*> argv;
  const plan::Plan* plan;
  sock_fprog prog;
  bool listener;
  CapabilityPlan capabilities;
  const LandlockRuleset* landlock;
  int error_pipe;  // write end, close-on-exec
  int socket;      // to send the listener fd
  pid_t parent;
};

[[noreturn]] void child_fail(const ChildSetup& s, Stage stage, int err) {
  ChildFailure f{stage, err};
  ssize_t ignored = write(s.error_pipe, &f, sizeof f);
  (void)ignored;
  _exit(stage == Stage::kExec ? (err == ENOENT ? 127 : 126) : 125);
}

int send_fd(int socket, int fd) {
  char byte = 0;
  struct iovec iov = {&byte, 1};
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof fd);
  return sendmsg(socket, &msg, MSG_NOSIGNAL) == 1 ? 0 : -1;
}

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

// The child, between fork and exec: each stage in order, each named in errors.
[[noreturn]] void child_main(const ChildSetup& s) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);

  // If least dies, its program dies with it instead of running unsupervised.
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) child_fail(s, Stage::kPdeathsig, errno);
  if (getppid() != s.parent) _exit(125);

  // The filter allows sendmsg on this one descriptor whatever the promises.
  if (fcntl(plan::kLauncherSocketFd, F_GETFD) != -1 || errno != EBADF)
    child_fail(s, Stage::kSocket, EBUSY);
  if (dup3(s.socket, plan::kLauncherSocketFd, O_CLOEXEC) < 0) child_fail(s, Stage::kSocket, errno);

  // With unrestricted ioctl, a new session is what keeps TIOCSTI away from
  // the caller's terminal (TIOCSTI needs it as controlling terminal).
  if (s.plan->seccomp.ioctl_unrestricted && setsid() < 0) child_fail(s, Stage::kSession, errno);

  for (const auto& r : s.plan->limits.rlimits) {
    struct rlimit lim = {r.value, r.value};
    if (setrlimit(r.resource, &lim) != 0) child_fail(s, Stage::kRlimit, errno);
  }

  if (int err = apply_capabilities(s.capabilities); err != 0)
    child_fail(s, Stage::kCapabilities, err);

  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) child_fail(s, Stage::kNoNewPrivs, errno);

  // Landlock before seccomp: the filter does not allow landlock_restrict_self.
  if (s.landlock && s.landlock->fd.valid()) {
    int fd = s.landlock->fd.get();
    if (int err = add_deferred_rules(fd, s.landlock->in_child); err != 0)
      child_fail(s, Stage::kLandlock, err);
    if (int err = sys::landlock::restrict_self(fd); err != 0) child_fail(s, Stage::kLandlock, err);
    close(fd);
  }

  unsigned flags = s.listener ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0;
  long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &s.prog);
  if (rc < 0) child_fail(s, Stage::kSeccomp, errno);
  // Both descriptors are close-on-exec; closing them here might be refused.
  if (s.listener && send_fd(plan::kLauncherSocketFd, static_cast<int>(rc)) != 0)
    child_fail(s, Stage::kSendListener, errno);

  execve(s.path.c_str(), s.argv.data(), environ);
  child_fail(s, Stage::kExec, errno);
}

int status_to_exit_code(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 125;
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
  void forward_pending(pid_t child) {
    struct signalfd_siginfo si;
    while (read(fd_.get(), &si, sizeof si) == sizeof si)
      if (si.ssi_code != SI_KERNEL) kill(child, static_cast<int>(si.ssi_signo));
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
  return make_error(ErrorKind::kSystem, stage_name(f.stage), f.err);
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

  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) return sys_error("create the error pipe", errno);
  UniqueFd error_read(pipe_fds[0]), error_write(pipe_fds[1]);
  int sock_fds[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sock_fds) != 0)
    return sys_error("create the listener socket", errno);
  UniqueFd sock_parent(sock_fds[0]), sock_child(sock_fds[1]);

  std::vector<std::string> argv_storage = request.argv;
  ChildSetup setup;
  setup.path = *path;
  for (auto& a : argv_storage) setup.argv.push_back(a.data());
  setup.argv.push_back(nullptr);
  setup.plan = request.plan;
  setup.prog.len = static_cast<unsigned short>(request.filter->code.size());
  setup.prog.filter = const_cast<sock_filter*>(request.filter->code.data());
  setup.listener = request.filter->needs_listener;
  setup.landlock = request.landlock;
  setup.capabilities = request.capabilities;
  setup.error_pipe = error_write.get();
  setup.socket = sock_child.get();
  setup.parent = getpid();

  SignalForwarding signals;
  auto sigfd = signals.start();
  if (!sigfd) return std::move(sigfd).error();

  pid_t child = fork();
  if (child < 0) return sys_error("fork", errno);
  if (child == 0) child_main(setup);

  error_write.reset();
  sock_child.reset();
  UniqueFd pidfd(static_cast<int>(syscall(SYS_pidfd_open, child, 0)));
  if (!pidfd.valid()) {
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
    return sys_error("pidfd_open", errno);
  }

  std::optional<ExecSupervisor> supervisor;
  if (setup.listener) {
    auto listener = receive_fd(sock_parent.get());
    if (!listener) {
      kill(child, SIGKILL);
      waitpid(child, nullptr, 0);
      return std::move(listener).error();
    }
    if (listener->valid()) supervisor.emplace(std::move(*listener), child, *path);
  }

  // One loop: the supervisor's questions, forwarded signals, the child's end.
  bool child_done = false;
  while (!child_done) {
    struct pollfd fds[3] = {{pidfd.get(), POLLIN, 0},
                            {*sigfd, POLLIN, 0},
                            {supervisor ? supervisor->fd() : -1, POLLIN, 0}};
    if (poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      return sys_error("poll", errno);
    }
    if (fds[1].revents & POLLIN) signals.forward_pending(child);
    if (supervisor && (fds[2].revents & POLLIN)) {
      auto r = supervisor->handle_one();
      if (!r) {
        kill(child, SIGKILL);  // fail closed: no unsupervised program
        waitpid(child, nullptr, 0);
        return std::move(r).error();
      }
    }
    if (supervisor && (fds[2].revents & (POLLHUP | POLLERR))) supervisor.reset();
    if (fds[0].revents & POLLIN) child_done = true;
  }

  int status = 0;
  if (waitpid(child, &status, 0) < 0) return sys_error("wait for the program", errno);
  ChildFailure failure;
  if (read(error_read.get(), &failure, sizeof failure) == sizeof failure)
    return child_error(failure, *path);
  return status_to_exit_code(status);
}

}  // namespace least::enforce
