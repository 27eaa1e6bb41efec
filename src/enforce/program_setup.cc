// The program's own process, between fork and exec.
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "enforce/child_setup.h"
#include "enforce/namespaces.h"
#include "sys/landlock.h"

extern char** environ;

namespace least::enforce {

const char* stage_name(Stage s) {
  switch (s) {
    case Stage::kSync:
      return "wait for the supervisor";
    case Stage::kPdeathsig:
      return "set the parent-death signal";
    case Stage::kCgroupNamespace:
      return "enter a cgroup namespace";
    case Stage::kMounts:
      return "set up the mount namespace";
    case Stage::kLoopback:
      return "bring up the loopback interface";
    case Stage::kFork:
      return "start the program's process";
    case Stage::kSocket:
      return "reserve descriptor 1000 for the launcher";
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

void child_fail(const ChildSetup& s, Stage stage, int err, int detail) {
  ChildFailure f{stage, err, detail};
  ssize_t ignored = write(s.error_pipe, &f, sizeof f);
  (void)ignored;
  _exit(stage == Stage::kExec ? (err == ENOENT ? 127 : 126) : 125);
}

int status_to_exit_code(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 125;
}

namespace {

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

}  // namespace

void program_main(const ChildSetup& s) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);

  // If least (or the sandbox's init) dies, the program dies with it.
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) child_fail(s, Stage::kPdeathsig, errno);

  // The filter allows sendmsg on this one descriptor whatever the promises.
  if (fcntl(plan::kLauncherSocketFd, F_GETFD) != -1 || errno != EBADF)
    child_fail(s, Stage::kSocket, EBUSY);
  if (dup3(s.socket, plan::kLauncherSocketFd, O_CLOEXEC) < 0) child_fail(s, Stage::kSocket, errno);

  for (const auto& r : s.rlimits) {
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

  // No filter at all when the caller watches by other means (least learn
  // with the eBPF backend): even an allow-all filter costs every syscall.
  if (s.prog.len > 0) {
    unsigned flags = s.listener ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0;
    long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &s.prog);
    if (rc < 0) child_fail(s, Stage::kSeccomp, errno);
    // Both descriptors are close-on-exec; closing them here might be refused.
    if (s.listener && send_fd(plan::kLauncherSocketFd, static_cast<int>(rc)) != 0)
      child_fail(s, Stage::kSendListener, errno);
  }

  execve(s.path.c_str(), s.argv.data(), environ);
  child_fail(s, Stage::kExec, errno);
}

}  // namespace least::enforce
