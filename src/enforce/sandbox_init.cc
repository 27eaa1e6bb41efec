// The sandbox's init: pid 1 of the program's pid namespace. It finishes the
// namespace setup that must happen inside, starts the program, reaps every
// zombie and passes signals on. When the program ends, init ends with its
// status and the kernel ends everything else in the namespace.
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "enforce/child_setup.h"
#include "enforce/namespaces.h"

namespace least::enforce {

namespace {

[[noreturn]] void supervise(pid_t program) {
  sigset_t set;
  sigemptyset(&set);
  for (int s : kForwardedSignals) sigaddset(&set, s);
  sigaddset(&set, SIGCHLD);
  sigprocmask(SIG_BLOCK, &set, nullptr);
  int fd = signalfd(-1, &set, SFD_CLOEXEC);
  if (fd < 0) {
    kill(program, SIGKILL);
    _exit(125);
  }
  for (;;) {
    // A child may have ended before SIGCHLD was blocked: reap first.
    int status;
    pid_t p;
    while ((p = waitpid(-1, &status, WNOHANG)) > 0)
      if (p == program) _exit(status_to_exit_code(status));
    struct signalfd_siginfo si;
    if (read(fd, &si, sizeof si) != sizeof si) continue;
    // Signals from the terminal reached the program's process group already.
    if (si.ssi_signo != SIGCHLD && si.ssi_code != SI_KERNEL)
      kill(program, static_cast<int>(si.ssi_signo));
  }
}

}  // namespace

void sandbox_init_main(const ChildSetup& s) {
  // The parent says "go" once our id maps and cgroups are in place; EOF
  // means it died first.
  char go;
  if (read(s.sync_pipe, &go, 1) != 1) _exit(125);
  close(s.sync_pipe);
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) child_fail(s, Stage::kPdeathsig, errno);

  const plan::NamespacePlan& ns = s.plan->namespaces;
  // Joined after the cgroups, so the program sees its own cgroup as the root.
  if (ns.cgroup && unshare(CLONE_NEWCGROUP) != 0) child_fail(s, Stage::kCgroupNamespace, errno);
  if (ns.mount) {
    MountFailure m = setup_mount_view(ns);
    if (m.err != 0) child_fail(s, Stage::kMounts, m.err, static_cast<int>(m.step));
  }
  if (ns.net) {
    if (int err = bring_up_loopback(); err != 0) child_fail(s, Stage::kLoopback, err);
  }

  pid_t program = fork();
  if (program < 0) child_fail(s, Stage::kFork, errno);
  if (program == 0) program_main(s);
  supervise(program);
}

}  // namespace least::enforce
