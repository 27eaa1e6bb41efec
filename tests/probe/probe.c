// least-probe: makes ONE syscall (or one small sequence) named on its command
// line, prints `OK` (`OK <value>` for `status`) or `ERRNO <NAME>` and exits
// with the errno (0 on success). After bubblewrap's try-syscall. Static, so
// that it starts under any promise set without a loader.
//
// Constants are symbolic or numeric and may be joined with '|':
// "CLONE_NEWUSER|SIGCHLD", "PROT_READ|PROT_EXEC", "0x100005412".
//
//   getpid                      the raw syscall
//   socket DOMAIN TYPE [PROTO]  socketpair [DOMAIN]   sendfd (SCM_RIGHTS over a pair)
//   connect-tcp PORT            bind-tcp PORT         (127.0.0.1 only)
//   ioctl REQUEST               on fd 0 (ENOTTY when it reaches the kernel on a non-tty)
//   ioctl-raw VALUE             on fd 0, all 64 bits of the request passed as given
//   ioctl-pty REQUEST           on a fresh /dev/ptmx master
//   clone FLAGS                 glibc clone() (the clone syscall), child exits at once
//   clone3  fork  pthread       unshare FLAGS
//   mmap PROT                   anonymous      mprotect PROT (of an anonymous RW page)
//   fcntl CMD [PATH]            on stdout or PATH opened O_RDWR; *LK commands lock
//   prctl OPTION [ARG2]         personality VALUE
//   open PATH FLAGS  stat PATH  truncate PATH LEN  mkdir PATH  unlink PATH
//   rename FROM TO   chmod PATH OCTAL  chown PATH (to -1, -1)  flock PATH
//   mknod-fifo PATH  mknod-chr PATH (1,3)  memfd_create
//   execve PATH [ARGS...]       setuid (to the current euid)
//   clock_settime-invalid       ptrace-traceme   mount-invalid (no such target)
//   kill-self SIG  raise SIG    exit CODE
//   status FIELD                a field of /proc/self/status, e.g. NoNewPrivs
//   int80-getpid  x32-getpid    getpid through the i386 and x32 ABIs
//   raw NR [ARGS...]            anything else
//   connect-tcp6 PORT           ([::1] only)
//   connect-unix PATH  bind-unix PATH   (a leading '@' names an abstract socket)
//   repeat N OP [ARGS...]       OP N times, each answer printed; the last status
//
// Exit status 2 with a message on stderr means the probe was called wrongly.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/sched.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

extern char** environ;

#define PROBE_NAME "least-probe"
#include "probe_common.h"

// clang-format off

// Symbolic constants the command line may use, joined with '|'.
static const struct name kNames[] = {
    // socket(2)
    N(AF_INET), N(AF_INET6), N(AF_UNIX), N(AF_NETLINK), N(AF_PACKET), N(AF_VSOCK),
    N(AF_BLUETOOTH), N(SOCK_STREAM), N(SOCK_DGRAM), N(SOCK_RAW), N(SOCK_SEQPACKET),
    N(SOCK_CLOEXEC), N(SOCK_NONBLOCK), N(IPPROTO_IP), N(IPPROTO_TCP), N(IPPROTO_UDP),
    N(IPPROTO_SCTP), N(IPPROTO_ICMP), N(NETLINK_ROUTE), N(NETLINK_AUDIT),
    N(NETLINK_KOBJECT_UEVENT), N(NETLINK_SOCK_DIAG),
    // ioctl(2)
    N(TCGETS), N(TCSETS), N(TIOCGWINSZ), N(TIOCSWINSZ), N(TIOCSTI), N(TIOCLINUX), N(FIONREAD),
    N(FIONBIO), N(FIOCLEX), N(TIOCGPGRP), N(TIOCSPGRP), N(TIOCSCTTY), N(TIOCSETD), N(TIOCCONS),
    N(TIOCGPTN), N(TIOCSPTLCK),
    // clone(2), unshare(2)
    N(CLONE_VM), N(CLONE_FS), N(CLONE_FILES), N(CLONE_SIGHAND), N(CLONE_THREAD),
    N(CLONE_SYSVSEM), N(CLONE_VFORK), N(CLONE_PARENT), N(CLONE_NEWNS), N(CLONE_NEWUSER),
    N(CLONE_NEWPID), N(CLONE_NEWNET), N(CLONE_NEWUTS), N(CLONE_NEWIPC), N(CLONE_NEWCGROUP),
    N(SIGCHLD),
    // mmap(2), mprotect(2)
    N(PROT_NONE), N(PROT_READ), N(PROT_WRITE), N(PROT_EXEC),
    // fcntl(2)
    N(F_GETFL), N(F_SETFL), N(F_GETFD), N(F_SETFD), N(F_DUPFD), N(F_GETLK), N(F_SETLK),
    N(F_SETLKW), N(F_OFD_SETLK), N(F_SETOWN), N(F_GETOWN), N(F_SETSIG), N(F_SETLEASE),
    N(F_NOTIFY),
    // prctl(2)
    N(PR_SET_NAME), N(PR_GET_NAME), N(PR_SET_DUMPABLE), N(PR_GET_DUMPABLE), N(PR_SET_MM),
    N(PR_SET_PTRACER), N(PR_GET_NO_NEW_PRIVS), N(PR_SET_CHILD_SUBREAPER), N(PR_SET_KEEPCAPS),
    N(PR_CAPBSET_DROP), N(PR_SET_SECUREBITS),
    // open(2)
    N(O_RDONLY), N(O_WRONLY), N(O_RDWR), N(O_CREAT), N(O_EXCL), N(O_TRUNC), N(O_APPEND),
    N(O_DIRECTORY), N(O_CLOEXEC), N(O_NOCTTY), N(O_PATH),
    // signals, personality(2)
    N(SIGKILL), N(SIGTERM), N(SIGABRT), N(SIGSEGV), N(SIGUSR1), N(READ_IMPLIES_EXEC),
    N(ADDR_NO_RANDOMIZE), N(PER_LINUX), N(PER_LINUX32), N(UNAME26),
};
// clang-format on

static long wait_child(pid_t pid) {
  int status;
  if (waitpid(pid, &status, __WALL) < 0) return -1;
  return 0;
}

static volatile int g_child_ran;
static int clone_child(void* arg) {
  (void)arg;
  g_child_ran = 1;
  return 0;  // glibc's clone() then calls exit (the thread), never exit_group
}

// clone(2) through glibc's wrapper (the clone syscall, never clone3), with a
// stack so that CLONE_VM and CLONE_THREAD children are safe.
static int op_clone(unsigned long flags) {
  static char stack[64 * 1024] __attribute__((aligned(16)));
  g_child_ran = 0;
  pid_t pid = clone(clone_child, stack + sizeof stack, (int)flags, NULL);
  if (pid < 0) return report(-1);
  if (flags & CLONE_THREAD) {
    for (int i = 0; i < 5000 && !__atomic_load_n(&g_child_ran, __ATOMIC_SEQ_CST); i++) usleep(1000);
    usleep(10000);  // let the thread finish exiting before the process does
  } else if (wait_child(pid) < 0) {
    return report(-1);
  }
  return answer(0, 0);
}

static int op_clone3(void) {
  struct clone_args args;
  memset(&args, 0, sizeof args);
  args.exit_signal = SIGCHLD;
  long pid = syscall(SYS_clone3, &args, sizeof args);
  if (pid == 0) _exit(0);
  if (pid < 0) return report(-1);
  return report(wait_child((pid_t)pid));
}

static void* thread_main(void* arg) {
  return arg;
}

static int op_pthread(void) {
  pthread_t t;
  int err = pthread_create(&t, NULL, thread_main, NULL);
  if (err != 0) return fail(err);
  err = pthread_join(t, NULL);
  return answer(err ? -1 : 0, err);
}

static int op_fork(void) {
  pid_t pid = fork();
  if (pid == 0) _exit(0);
  if (pid < 0) return report(-1);
  return report(wait_child(pid));
}

static int op_socket(int argc, char** argv) {
  if (argc < 2) usage("socket DOMAIN TYPE [PROTO]");
  int proto = argc > 2 ? (int)value_of(argv[2]) : 0;
  return report(socket((int)value_of(argv[0]), (int)value_of(argv[1]), proto));
}

// socketpair, then one descriptor sent over it with SCM_RIGHTS and received.
static int op_sendfd(void) {
  int sv[2];
  CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
  char byte = 'x';
  struct iovec iov = {&byte, 1};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } control;
  memset(&control, 0, sizeof control);
  struct msghdr msg = {.msg_iov = &iov,
                       .msg_iovlen = 1,
                       .msg_control = control.buf,
                       .msg_controllen = sizeof control.buf};
  struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  int fd = STDOUT_FILENO;
  memcpy(CMSG_DATA(c), &fd, sizeof fd);
  CHECK(sendmsg(sv[0], &msg, 0));
  memset(&control, 0, sizeof control);
  msg.msg_controllen = sizeof control.buf;
  CHECK(recvmsg(sv[1], &msg, 0));
  c = CMSG_FIRSTHDR(&msg);
  if (!c || c->cmsg_type != SCM_RIGHTS) return fail(EBADMSG);
  return answer(0, 0);
}

static int tcp_socket_addr(const char* port, struct sockaddr_in* addr) {
  memset(addr, 0, sizeof *addr);
  addr->sin_family = AF_INET;
  addr->sin_port = htons((uint16_t)value_of(port));
  addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
}

static int op_connect_tcp(const char* port) {
  struct sockaddr_in addr;
  int fd = CHECK(tcp_socket_addr(port, &addr));
  return report(connect(fd, (struct sockaddr*)&addr, sizeof addr));
}

static int op_bind_tcp(const char* port) {
  struct sockaddr_in addr;
  int fd = CHECK(tcp_socket_addr(port, &addr));
  return report(bind(fd, (struct sockaddr*)&addr, sizeof addr));
}

// ioctl on a fresh pseudo-terminal master, so that tty requests succeed.
static int op_ioctl_pty(unsigned long request) {
  int fd = CHECK(open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC));
  char buf[64] = {0};  // big enough for termios, winsize, ints and a char
  if (request == TIOCSTI) buf[0] = ' ';
  return report(syscall(SYS_ioctl, fd, request, buf));
}

static int op_mprotect(unsigned long prot) {
  void* p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return report(-1);
  return report(mprotect(p, 4096, (int)prot));
}

// fcntl on stdout, or on PATH opened read-write; F_*LK commands take a lock.
static int op_fcntl(int argc, char** argv) {
  if (argc < 1) usage("fcntl CMD [PATH]");
  int fd = STDOUT_FILENO;
  if (argc > 1) fd = CHECK(open(argv[1], O_RDWR | O_CLOEXEC));
  int cmd = (int)value_of(argv[0]);
  struct flock lock = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
  if (cmd == F_GETLK || cmd == F_SETLK || cmd == F_SETLKW || cmd == F_OFD_SETLK ||
      cmd == F_OFD_GETLK || cmd == F_OFD_SETLKW)
    return report(fcntl(fd, cmd, &lock));
  if (cmd == F_SETFL) return report(fcntl(fd, cmd, O_APPEND));
  if (cmd == F_SETOWN) return report(fcntl(fd, cmd, getpid()));
  return report(fcntl(fd, cmd, 0));
}

static int op_prctl(int argc, char** argv) {
  if (argc < 1) usage("prctl OPTION [ARG2]");
  unsigned long option = value_of(argv[0]);
  unsigned long arg2 = argc > 1 ? value_of(argv[1]) : 0;
  if (option == PR_SET_NAME || option == PR_GET_NAME) {
    static char name[32] = "least-probe";
    arg2 = (unsigned long)name;
  }
  if (option == PR_SET_MM) arg2 = 0xffff;  // no such PR_SET_MM_* field: EINVAL
  return report(prctl((int)option, arg2, 0, 0, 0));
}

static int op_execve(int argc, char** argv) {
  if (argc < 1) usage("execve PATH [ARGS...]");
  execve(argv[0], argv, environ);
  return report(-1);
}

// `status FIELD`: the value of FIELD in /proc/self/status, e.g. NoNewPrivs.
static int op_status(const char* field) {
  FILE* f = fopen("/proc/self/status", "re");
  if (!f) return report(-1);
  char line[256];
  size_t len = strlen(field);
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, field, len) != 0 || line[len] != ':') continue;
    char* v = line + len + 1;
    v += strspn(v, " \t");
    v[strcspn(v, "\n")] = '\0';
    return answer_value(0, 0, v);
  }
  return fail(ENOENT);
}

// getpid through the i386 ABI (int 0x80, eax = 20) from this 64-bit process.
static int op_int80_getpid(void) {
#if defined(__x86_64__)
  long rc = 20;
  __asm__ volatile("int $0x80" : "+a"(rc) : : "memory", "r8", "r9", "r10", "r11");
  if (rc < 0) return fail((int)-rc);
  return answer(rc == getpid() ? 0 : -1, EPROTO);
#else
  return fail(ENOSYS);
#endif
}

// getpid with the x32 bit set in its number.
static int op_x32_getpid(void) {
#if defined(__x86_64__)
  return report(syscall(__X32_SYSCALL_BIT | SYS_getpid));
#else
  return fail(ENOSYS);
#endif
}

static int op_raw(int argc, char** argv) {
  if (argc < 1) usage("raw NR [ARGS...]");
  unsigned long a[6] = {0};
  for (int i = 1; i < argc && i <= 6; i++) a[i - 1] = value_of(argv[i]);
  return report(syscall((long)value_of(argv[0]), a[0], a[1], a[2], a[3], a[4], a[5]));
}

static int op_connect_tcp6(const char* port) {
  struct sockaddr_in6 addr;
  memset(&addr, 0, sizeof addr);
  addr.sin6_family = AF_INET6;
  addr.sin6_port = htons((uint16_t)value_of(port));
  addr.sin6_addr = in6addr_loopback;
  int fd = CHECK(socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
  return report(connect(fd, (struct sockaddr*)&addr, sizeof addr));
}

// A stream socket and PATH's address ("@name": abstract, without the NUL).
static int unix_socket_addr(const char* path, struct sockaddr_un* addr, socklen_t* len) {
  size_t n = strlen(path);
  if (n == 0 || n >= sizeof addr->sun_path) usage("bad unix socket path");
  memset(addr, 0, sizeof *addr);
  addr->sun_family = AF_UNIX;
  memcpy(addr->sun_path, path, n);
  if (path[0] == '@') addr->sun_path[0] = '\0';
  *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (path[0] == '@' ? 0 : 1));
  return socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
}

static int op_connect_unix(const char* path) {
  struct sockaddr_un addr;
  socklen_t len;
  int fd = CHECK(unix_socket_addr(path, &addr, &len));
  return report(connect(fd, (struct sockaddr*)&addr, len));
}

static int op_bind_unix(const char* path) {
  struct sockaddr_un addr;
  socklen_t len;
  int fd = CHECK(unix_socket_addr(path, &addr, &len));
  return report(bind(fd, (struct sockaddr*)&addr, len));
}

int main(int argc, char** argv);

// `repeat N OP [ARGS...]`: main again N times, with N standing in for the
// program name.
static int op_repeat(int argc, char** argv) {
  if (argc < 2) usage("repeat N OP [ARGS...]");
  unsigned long n = value_of(argv[0]);
  int rc = 0;
  for (unsigned long i = 0; i < n; i++) rc = main(argc, argv);
  return rc;
}

// An expression, so that `return NEED(1), op(a[0]);` reads as one line.
#define NEED(n) ((argc < (n)) ? usage("missing arguments for this operation") : 0)

int main(int argc, char** argv) {
  if (argc < 2) usage("usage: least-probe OP [ARGS...] (see tests/probe/probe.c)");
  const char* op = argv[1];
  char** a = argv + 2;  // the operation's arguments
  argc -= 2;
  struct timespec ts = {0, 0};
  // Operations, one syscall (or one small sequence) each.
  // glibc's getpid() never sets errno: the raw syscall reports a refusal.
  if (!strcmp(op, "getpid")) return report(syscall(SYS_getpid));
  if (!strcmp(op, "socket")) return op_socket(argc, a);
  if (!strcmp(op, "socketpair")) {
    int sv[2];
    int domain = argc > 0 ? (int)value_of(a[0]) : AF_UNIX;
    return report(socketpair(domain, SOCK_STREAM, 0, sv));
  }
  if (!strcmp(op, "sendfd")) return op_sendfd();
  if (!strcmp(op, "connect-tcp")) return NEED(1), op_connect_tcp(a[0]);
  if (!strcmp(op, "bind-tcp")) return NEED(1), op_bind_tcp(a[0]);
  // ioctl on fd 0 (a tty or not: ENOTTY shows the request reached the kernel).
  if (!strcmp(op, "ioctl")) {
    NEED(1);
    char buf[64] = {' '};
    return report(ioctl(STDIN_FILENO, value_of(a[0]), buf));
  }
  // The full 64-bit request, past libc, on fd 0.
  if (!strcmp(op, "ioctl-raw")) {
    NEED(1);
    char buf[64] = {' '};
    return report(syscall(SYS_ioctl, STDIN_FILENO, value_of(a[0]), buf));
  }
  if (!strcmp(op, "ioctl-pty")) return NEED(1), op_ioctl_pty(value_of(a[0]));
  if (!strcmp(op, "clone")) return NEED(1), op_clone(value_of(a[0]));
  if (!strcmp(op, "clone3")) return op_clone3();
  if (!strcmp(op, "fork")) return op_fork();
  if (!strcmp(op, "pthread")) return op_pthread();
  if (!strcmp(op, "unshare")) return NEED(1), report(unshare((int)value_of(a[0])));
  if (!strcmp(op, "mmap")) {
    NEED(1);
    void* p = mmap(NULL, 4096, (int)value_of(a[0]), MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return report(p == MAP_FAILED ? -1 : 0);
  }
  if (!strcmp(op, "mprotect")) return NEED(1), op_mprotect(value_of(a[0]));
  if (!strcmp(op, "fcntl")) return op_fcntl(argc, a);
  if (!strcmp(op, "prctl")) return op_prctl(argc, a);
  if (!strcmp(op, "personality")) return NEED(1), report(syscall(SYS_personality, value_of(a[0])));
  if (!strcmp(op, "open")) {
    NEED(2);
    return report(open(a[0], (int)value_of(a[1]) | O_CLOEXEC, 0644));
  }
  if (!strcmp(op, "stat")) {
    struct stat st;
    return NEED(1), report(stat(a[0], &st));
  }
  if (!strcmp(op, "truncate")) return NEED(2), report(truncate(a[0], (off_t)value_of(a[1])));
  if (!strcmp(op, "mkdir")) return NEED(1), report(mkdir(a[0], 0755));
  if (!strcmp(op, "unlink")) return NEED(1), report(unlink(a[0]));
  if (!strcmp(op, "rename")) return NEED(2), report(rename(a[0], a[1]));
  if (!strcmp(op, "chmod")) return NEED(2), report(chmod(a[0], (mode_t)strtoul(a[1], NULL, 8)));
  if (!strcmp(op, "chown")) return NEED(1), report(chown(a[0], (uid_t)-1, (gid_t)-1));
  if (!strcmp(op, "flock")) {
    NEED(1);
    int fd = CHECK(open(a[0], O_RDONLY | O_CLOEXEC));
    return report(flock(fd, LOCK_EX | LOCK_NB));
  }
  if (!strcmp(op, "mknod-fifo")) return NEED(1), report(mknod(a[0], S_IFIFO | 0600, 0));
  if (!strcmp(op, "mknod-chr"))  // /dev/null's numbers
    return NEED(1), report(mknod(a[0], S_IFCHR | 0600, makedev(1, 3)));
  if (!strcmp(op, "memfd_create")) return report(memfd_create("least-probe", MFD_CLOEXEC));
  if (!strcmp(op, "execve")) return op_execve(argc, a);
  if (!strcmp(op, "setuid")) return report(setuid(geteuid()));
  if (!strcmp(op, "clock_settime-invalid")) return report(clock_settime(-1, &ts));
  if (!strcmp(op, "ptrace-traceme")) return report(ptrace(PTRACE_TRACEME, 0, 0, 0));
  if (!strcmp(op, "mount-invalid"))  // the target does not exist: never mounts
    return report(mount("none", "/nonexistent/least-probe", "tmpfs", 0, NULL));
  if (!strcmp(op, "kill-self")) return NEED(1), report(kill(getpid(), (int)value_of(a[0])));
  if (!strcmp(op, "raise")) return NEED(1), report(raise((int)value_of(a[0])));
  if (!strcmp(op, "exit")) return NEED(1), (int)value_of(a[0]);
  if (!strcmp(op, "status")) return NEED(1), op_status(a[0]);
  if (!strcmp(op, "int80-getpid")) return op_int80_getpid();
  if (!strcmp(op, "x32-getpid")) return op_x32_getpid();
  if (!strcmp(op, "raw")) return op_raw(argc, a);
  if (!strcmp(op, "connect-tcp6")) return NEED(1), op_connect_tcp6(a[0]);
  if (!strcmp(op, "connect-unix")) return NEED(1), op_connect_unix(a[0]);
  if (!strcmp(op, "bind-unix")) return NEED(1), op_bind_unix(a[0]);
  if (!strcmp(op, "repeat")) return op_repeat(argc, a);
  return usage("unknown operation");
}
