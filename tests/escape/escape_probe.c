// least-escape-probe: ONE escape attempt named on its command line. Prints
// `OK` (or `OK <value>`) or `ERRNO <NAME>` on its first line and exits with
// the errno (0 on success); a second line may add details (`detail ...`).
// Static, so that it starts under any promise set without a loader. Driven by
// least_escape_tests (cases.cc); README.md lists the attacks.
//
// Calls that would change the machine are made with arguments the kernel
// rejects (invalid magic, flags, lengths or paths that do not exist), so that
// outside the sandbox they show the call is reachable and change nothing.
//
//   getpid  exit CODE  int80-getpid  x32-getpid
//   clone FLAGS  clone3 FLAGS  unshare FLAGS  setns-self  fork-bomb N MS
//   victim FILE SECRET          a process to attack (see op_victim)
//   ptrace-traceme  ptrace-seize PID  pvm-write PID ADDR TEXT  pidfd-getfd PID FD
//   kill PID SIG                PID may be `parent`
//   mount-invalid  umount-invalid  pivot_root-invalid  chroot-invalid  fsopen
//   proc-mem-write  read-file PATH  write-file PATH TEXT
//   link-write FROM TO TEXT  rename-write FROM TO TEXT  open-by-handle TYPE:HEX
//   execve PATH [ARGS...]  memfd-exec  exec-oracle EXISTING MISSING  list-fds
//   socket DOMAIN TYPE [PROTO]  connect-tcp PORT  connect-abstract NAME
//   ioctl-raw REQUEST [BYTE]    on fd 0, all 64 bits of REQUEST
//   ctty-tiocsti                TIOCSCTTY on fd 0, then TIOCSTI
//   euid  rlimit-raise  capset-sysadmin
//   io_uring_setup  bpf-map  perf-open  userfaultfd  keyctl-user-keyring  add-key
//   syslog-size  modify_ldt-read  iopl-invalid  clock_settime-invalid
//   sethostname-invalid  reboot-invalid  swapon-invalid  kexec_load-invalid
//   kexec_file_load-invalid  init_module-invalid  finit_module-invalid
//
// Exit status 2 with a message on stderr means the probe was called wrongly.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <linux/io_uring.h>
#include <linux/keyctl.h>
#include <linux/netlink.h>
#include <linux/perf_event.h>
#include <linux/sched.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char** environ;

#define PROBE_NAME "least-escape-probe"
#include "probe_common.h"

// clang-format off
static const struct name kNames[] = {
    N(AF_INET), N(AF_UNIX), N(AF_NETLINK), N(AF_PACKET), N(AF_VSOCK), N(SOCK_STREAM),
    N(SOCK_DGRAM), N(SOCK_RAW), N(NETLINK_ROUTE), N(TIOCSTI), N(TIOCLINUX), N(CLONE_NEWUSER),
    N(CLONE_NEWNS), N(CLONE_NEWNET), N(CLONE_NEWPID), N(SIGCHLD), N(SIGKILL), N(SIGTERM),
    N(SIGUSR1),
};
// clang-format on

static long read_all(int fd, char* buf, size_t size) {
  size_t got = 0;
  while (got + 1 < size) {
    ssize_t n = read(fd, buf + got, size - 1 - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) break;
    got += (size_t)n;
  }
  buf[got] = '\0';
  return (long)got;
}

// ---- non-native syscall ABIs -------------------------------------------

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
  return report(syscall(0x40000000L | SYS_getpid));
#else
  return fail(ENOSYS);
#endif
}

// ---- processes and namespaces -------------------------------------------

static int clone_child(void* arg) {
  (void)arg;
  _exit(0);
}

// clone(2) (never clone3) with FLAGS; the child exits at once.
static int op_clone(unsigned long flags) {
  static char stack[64 * 1024] __attribute__((aligned(16)));
  pid_t pid = clone(clone_child, stack + sizeof stack, (int)flags, NULL);
  if (pid < 0) return report(-1);
  waitpid(pid, NULL, __WALL);
  return answer(0, 0);
}

static int op_clone3(unsigned long flags) {
  struct clone_args args;
  memset(&args, 0, sizeof args);
  args.flags = flags & ~0xffUL;
  args.exit_signal = SIGCHLD;
  long pid = syscall(SYS_clone3, &args, sizeof args);
  if (pid == 0) _exit(0);
  if (pid < 0) return report(-1);
  waitpid((pid_t)pid, NULL, 0);
  return answer(0, 0);
}

// Forks up to N children (each waits on a pipe), for at most MS
// milliseconds, then lets them all go. `OK` when all N were made, else the
// errno of the first failure; `detail forked=K` either way.
static int op_fork_bomb(long n, long ms) {
  int p[2];
  CHECK(pipe2(p, O_CLOEXEC));
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  long forked = 0;
  int err = 0;
  for (long i = 0; i < n; i++) {
    clock_gettime(CLOCK_MONOTONIC, &now);
    long elapsed = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
    if (elapsed > ms) {
      err = ETIME;
      break;
    }
    pid_t pid = fork();
    if (pid == 0) {
      char c;
      close(p[1]);
      while (read(p[0], &c, 1) < 0 && errno == EINTR) {
      }
      _exit(0);
    }
    if (pid < 0) {
      err = errno;
      break;
    }
    forked++;
  }
  close(p[1]);  // every child reads end of file and exits
  while (wait(NULL) > 0 || errno == EINTR) {
  }
  int rc = answer(err ? -1 : 0, err);
  char line[64];
  snprintf(line, sizeof line, "detail forked=%ld\n", forked);
  say(line);
  return rc;
}

// A process to attack: holds SECRET open, writes "PID ADDR FD" to FILE, then
// watches its buffer. `CHANGED <text>` (exit 0) as soon as someone wrote into
// it; `UNCHANGED` (exit 1) on SIGUSR1; `TIMEOUT` (exit 3) after 15 s.
static volatile char g_victim[64] = "ORIGINAL";
static volatile sig_atomic_t g_usr1;
static void on_usr1(int sig) {
  (void)sig;
  g_usr1 = 1;
}

static int op_victim(const char* file, const char* secret) {
  signal(SIGUSR1, on_usr1);
  int fd = CHECK(open(secret, O_RDONLY));
  char tmp[4096], line[128];
  snprintf(tmp, sizeof tmp, "%s.tmp", file);
  snprintf(line, sizeof line, "%d %p %d\n", getpid(), (void*)g_victim, fd);
  int out = CHECK(open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (write(out, line, strlen(line)) < 0) return fail(errno);
  close(out);
  CHECK(rename(tmp, file));
  for (int i = 0; i < 3000; i++) {
    if (memcmp((const char*)g_victim, "ORIGINAL", 9) != 0) {
      char copy[80];
      memcpy(copy, (const char*)g_victim, sizeof copy - 16);
      copy[sizeof copy - 16] = '\0';
      snprintf(line, sizeof line, "CHANGED %s\n", copy);
      say(line);
      return 0;
    }
    if (g_usr1) {
      say("UNCHANGED\n");
      return 1;
    }
    usleep(5000);
  }
  say("TIMEOUT\n");
  return 3;
}

// process_vm_writev of TEXT at ADDR in PID.
static int op_pvm_write(pid_t pid, unsigned long addr, const char* text) {
  struct iovec local = {(void*)text, strlen(text) + 1};
  struct iovec remote = {(void*)addr, strlen(text) + 1};
  return report(process_vm_writev(pid, &local, 1, &remote, 1, 0));
}

// Steals descriptor FD of PID and reads from it: `OK <what it read>`.
static int op_pidfd_getfd(pid_t pid, int fd) {
  int pidfd = (int)CHECK(syscall(SYS_pidfd_open, pid, 0));
  int stolen = (int)CHECK(syscall(SYS_pidfd_getfd, pidfd, fd, 0));
  char buf[128];
  CHECK(pread(stolen, buf, sizeof buf - 1, 0));
  buf[strcspn(buf, "\n")] = '\0';
  buf[sizeof buf - 1] = '\0';
  return answer_value(0, 0, buf);
}

// Joins this process's own UTS namespace again through a pidfd: harmless,
// and still needs CAP_SYS_ADMIN.
static int op_setns_self(void) {
  int pidfd = (int)CHECK(syscall(SYS_pidfd_open, getpid(), 0));
  return report(setns(pidfd, CLONE_NEWUTS));
}

// A pid argument: a number, or `parent` for the process that started us
// (under least, the sandbox's init).
static pid_t pid_arg(const char* text) {
  return strcmp(text, "parent") == 0 ? getppid() : (pid_t)value_of(text);
}

// The descriptors open in this process, by number: `OK 0 1 2`.
static int op_list_fds(void) {
  char list[512] = "";
  size_t len = 0;
  for (int fd = 0; fd < 4096 && len + 8 < sizeof list; fd++)
    if (fcntl(fd, F_GETFD) != -1)
      len += (size_t)snprintf(list + len, sizeof list - len, "%s%d", len ? " " : "", fd);
  return answer_value(0, 0, list);
}

// execve of a file that exists and of one that does not: the two answers,
// `OK <errno> <errno>`. Different answers tell whether a path exists.
static int op_exec_oracle(const char* existing, const char* missing) {
  char* argv[] = {"least-escape-probe", "exit", "0", NULL};
  execve(existing, argv, environ);
  int e1 = errno;
  execve(missing, argv, environ);
  int e2 = errno;
  char value[64];
  snprintf(value, sizeof value, "%s %s", strerrorname_np(e1), strerrorname_np(e2));
  return answer_value(0, 0, value);
}

// ---- memory ------------------------------------------------------------

// Writes through /proc/self/mem into a read-only page of this program.
static const char kReadOnly[16] __attribute__((aligned(16))) = "ORIGINAL";
static int op_proc_mem_write(void) {
  int fd = (int)CHECK(open("/proc/self/mem", O_RDWR | O_CLOEXEC));
  CHECK(pwrite(fd, "PATCHED", 8, (off_t)(uintptr_t)kReadOnly));
  const volatile char* p = kReadOnly;
  char now[16];
  for (int i = 0; i < 15; i++) now[i] = p[i];
  now[15] = '\0';
  return answer_value(0, 0, now);
}

// ---- files -------------------------------------------------------------

static int op_read_file(const char* path) {
  int fd = (int)CHECK(open(path, O_RDONLY | O_CLOEXEC));
  char buf[256];
  CHECK(read_all(fd, buf, sizeof buf));
  buf[strcspn(buf, "\n")] = '\0';
  return answer_value(0, 0, buf);
}

// Overwrites an existing file (no O_CREAT: the attack is on the file there).
static int write_file(const char* path, const char* text) {
  int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) return -1;
  size_t len = strlen(text);
  ssize_t n = write(fd, text, len);
  int err = errno;
  close(fd);
  errno = err;
  return n == (ssize_t)len ? 0 : -1;
}

// `TYPE:HEX`, from name_to_handle_at outside: open the file it names.
static int op_open_by_handle(const char* spec) {
  char* colon = strchr(spec, ':');
  if (!colon) usage("open-by-handle TYPE:HEX");
  size_t bytes = strlen(colon + 1) / 2;
  struct file_handle* h = calloc(1, sizeof *h + bytes);
  h->handle_bytes = (unsigned)bytes;
  h->handle_type = (int)strtol(spec, NULL, 0);
  for (size_t i = 0; i < bytes; i++) {
    char hex[3] = {colon[1 + 2 * i], colon[2 + 2 * i], 0};
    h->f_handle[i] = (unsigned char)strtoul(hex, NULL, 16);
  }
  int fd = (int)CHECK(open_by_handle_at(AT_FDCWD, h, O_RDONLY | O_CLOEXEC));
  char buf[256];
  CHECK(read_all(fd, buf, sizeof buf));
  buf[strcspn(buf, "\n")] = '\0';
  return answer_value(0, 0, buf);
}

// memfd_create, a copy of this program in it, and execveat of the memfd
// running `exit 42`.
static int op_memfd_exec(void) {
  int mem = (int)CHECK(memfd_create("least-escape", MFD_CLOEXEC));
  int self = (int)CHECK(open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
  char buf[65536];
  for (;;) {
    ssize_t n = CHECK(read(self, buf, sizeof buf));
    if (n == 0) break;
    if (write(mem, buf, (size_t)n) != n) return fail(errno ? errno : EIO);
  }
  char* argv[] = {"least-escape-probe", "exit", "42", NULL};
  syscall(SYS_execveat, mem, "", argv, environ, AT_EMPTY_PATH);
  return report(-1);
}

// ---- sockets -----------------------------------------------------------

static int op_connect_tcp(const char* port) {
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)value_of(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int fd = (int)CHECK(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  return report(connect(fd, (struct sockaddr*)&addr, sizeof addr));
}

static int op_connect_abstract(const char* name) {
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  size_t len = strlen(name);
  if (len + 1 > sizeof addr.sun_path) usage("abstract name too long");
  memcpy(addr.sun_path + 1, name, len);
  int fd = (int)CHECK(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  return report(connect(fd, (struct sockaddr*)&addr,
                        (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len)));
}

// ---- privileges and limits ---------------------------------------------

static int op_euid(void) {
  char value[64];
  snprintf(value, sizeof value, "ruid=%u euid=%u", getuid(), geteuid());
  return answer_value(0, 0, value);
}

// Raises RLIMIT_NOFILE's soft limit to the hard one (allowed to anyone),
// then both above the hard limit. Answers the second; `detail` tells the
// first and the hard limit before and after.
static int op_rlimit_raise(void) {
  struct rlimit before, after;
  CHECK(getrlimit(RLIMIT_NOFILE, &before));
  struct rlimit within = {before.rlim_max, before.rlim_max};
  int within_rc = setrlimit(RLIMIT_NOFILE, &within);
  int within_err = errno;
  struct rlimit above = {before.rlim_max + 1, before.rlim_max + 1};
  int rc = setrlimit(RLIMIT_NOFILE, &above);
  int err = errno;
  getrlimit(RLIMIT_NOFILE, &after);
  int status = answer(rc, err);
  char line[160];
  snprintf(line, sizeof line, "detail within=%s hard=%llu after=%llu\n",
           within_rc == 0 ? "OK" : strerrorname_np(within_err), (unsigned long long)before.rlim_max,
           (unsigned long long)after.rlim_max);
  say(line);
  return status;
}

// Adds CAP_SYS_ADMIN to the permitted and effective sets.
static int op_capset_sysadmin(void) {
  struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct d[2];
  memset(d, 0, sizeof d);
  CHECK(syscall(SYS_capget, &h, d));
  d[0].permitted |= 1U << CAP_SYS_ADMIN;
  d[0].effective |= 1U << CAP_SYS_ADMIN;
  return report(syscall(SYS_capset, &h, d));
}

// ---- kernel interfaces -------------------------------------------------

static int op_io_uring_setup(void) {
  struct io_uring_params p;
  memset(&p, 0, sizeof p);
  return report(syscall(SYS_io_uring_setup, 1, &p));
}

static int op_bpf_map(void) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.map_type = BPF_MAP_TYPE_ARRAY;
  attr.key_size = 4;
  attr.value_size = 4;
  attr.max_entries = 1;
  return report(syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof attr));
}

static int op_perf_open(void) {
  struct perf_event_attr a;
  memset(&a, 0, sizeof a);
  a.type = PERF_TYPE_SOFTWARE;
  a.size = sizeof a;
  a.config = PERF_COUNT_SW_TASK_CLOCK;
  a.disabled = 1;
  a.exclude_kernel = 1;
  a.exclude_hv = 1;
  return report(syscall(SYS_perf_event_open, &a, 0, -1, -1, 0));
}

// On fd 0, all 64 bits of REQUEST passed to the kernel; the argument points
// to BYTE ('X' unless given: the character TIOCSTI pushes).
static int op_ioctl_raw(unsigned long request, unsigned long byte) {
  char buf[64] = {0};
  buf[0] = (char)byte;
  return report(syscall(SYS_ioctl, STDIN_FILENO, request, buf));
}

#define NEED(n) ((argc < (n)) ? usage("missing arguments for this operation") : 0)

int main(int argc, char** argv) {
  if (argc < 2) usage("usage: least-escape-probe OP [ARGS...] (see tests/escape/README.md)");
  const char* op = argv[1];
  char** a = argv + 2;
  argc -= 2;
  static char zeros[64];
  struct timespec ts = {0, 0};

  if (!strcmp(op, "getpid")) return report(syscall(SYS_getpid));
  if (!strcmp(op, "exit")) return NEED(1), (int)value_of(a[0]);
  if (!strcmp(op, "int80-getpid")) return op_int80_getpid();
  if (!strcmp(op, "x32-getpid")) return op_x32_getpid();
  // Processes and namespaces.
  if (!strcmp(op, "clone")) return NEED(1), op_clone(value_of(a[0]));
  if (!strcmp(op, "clone3")) return NEED(1), op_clone3(value_of(a[0]));
  if (!strcmp(op, "unshare")) return NEED(1), report(unshare((int)value_of(a[0])));
  if (!strcmp(op, "fork-bomb"))
    return NEED(2), op_fork_bomb((long)value_of(a[0]), (long)value_of(a[1]));
  if (!strcmp(op, "victim")) return NEED(2), op_victim(a[0], a[1]);
  if (!strcmp(op, "ptrace-traceme")) return report(ptrace(PTRACE_TRACEME, 0, 0, 0));
  // Seized, not stopped: the victim runs on, and is let go when we exit.
  if (!strcmp(op, "ptrace-seize"))
    return NEED(1), report(ptrace(PTRACE_SEIZE, pid_arg(a[0]), 0, 0));
  if (!strcmp(op, "pvm-write"))
    return NEED(3), op_pvm_write((pid_t)value_of(a[0]), value_of(a[1]), a[2]);
  if (!strcmp(op, "pidfd-getfd"))
    return NEED(2), op_pidfd_getfd((pid_t)value_of(a[0]), (int)value_of(a[1]));
  if (!strcmp(op, "kill")) return NEED(2), report(kill(pid_arg(a[0]), (int)value_of(a[1])));
  if (!strcmp(op, "list-fds")) return op_list_fds();
  if (!strcmp(op, "setns-self")) return op_setns_self();
  // Mounts: paths that do not exist, so nothing is ever mounted.
  if (!strcmp(op, "mount-invalid"))
    return report(mount("none", "/nonexistent/least-escape", "tmpfs", 0, NULL));
  if (!strcmp(op, "umount-invalid")) return report(umount2("/nonexistent/least-escape", 0));
  if (!strcmp(op, "pivot_root-invalid"))
    return report(syscall(SYS_pivot_root, "/nonexistent/least-escape", "/nonexistent/old"));
  if (!strcmp(op, "chroot-invalid")) return report(chroot("/nonexistent/least-escape"));
  // A filesystem context that is never mounted, closed at exit.
  if (!strcmp(op, "fsopen")) return report(syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC));
  // Memory, files.
  if (!strcmp(op, "proc-mem-write")) return op_proc_mem_write();
  if (!strcmp(op, "read-file")) return NEED(1), op_read_file(a[0]);
  if (!strcmp(op, "write-file")) return NEED(2), report(write_file(a[0], a[1]));
  if (!strcmp(op, "link-write")) {  // a hard link where writing is allowed
    NEED(3);
    CHECK(link(a[0], a[1]));
    return report(write_file(a[1], a[2]));
  }
  if (!strcmp(op, "rename-write")) {  // moved to where writing is allowed
    NEED(3);
    CHECK(rename(a[0], a[1]));
    return report(write_file(a[1], a[2]));
  }
  if (!strcmp(op, "open-by-handle")) return NEED(1), op_open_by_handle(a[0]);
  if (!strcmp(op, "execve")) {
    NEED(1);
    execve(a[0], a, environ);
    return report(-1);
  }
  if (!strcmp(op, "memfd-exec")) return op_memfd_exec();
  if (!strcmp(op, "exec-oracle")) return NEED(2), op_exec_oracle(a[0], a[1]);
  // Sockets.
  if (!strcmp(op, "socket")) {
    NEED(2);
    int proto = argc > 2 ? (int)value_of(a[2]) : 0;
    return report(socket((int)value_of(a[0]), (int)value_of(a[1]) | SOCK_CLOEXEC, proto));
  }
  if (!strcmp(op, "connect-tcp")) return NEED(1), op_connect_tcp(a[0]);
  if (!strcmp(op, "connect-abstract")) return NEED(1), op_connect_abstract(a[0]);
  // Terminals.
  // Makes fd 0 its controlling terminal first (it may, as a session leader
  // whose terminal belongs to no other session), then TIOCSTI.
  if (!strcmp(op, "ctty-tiocsti")) {
    CHECK(ioctl(STDIN_FILENO, TIOCSCTTY, 0));
    return op_ioctl_raw(TIOCSTI, 'X');
  }
  if (!strcmp(op, "ioctl-raw"))
    return NEED(1), op_ioctl_raw(value_of(a[0]), argc > 1 ? value_of(a[1]) : 'X');
  // Privileges and limits.
  if (!strcmp(op, "euid")) return op_euid();
  if (!strcmp(op, "rlimit-raise")) return op_rlimit_raise();
  if (!strcmp(op, "capset-sysadmin")) return op_capset_sysadmin();
  // Kernel interfaces.
  if (!strcmp(op, "io_uring_setup")) return op_io_uring_setup();
  if (!strcmp(op, "bpf-map")) return op_bpf_map();
  if (!strcmp(op, "perf-open")) return op_perf_open();
  if (!strcmp(op, "userfaultfd")) return report(syscall(SYS_userfaultfd, O_CLOEXEC));
  if (!strcmp(op, "keyctl-user-keyring"))  // the id of the user's keyring, never created
    return report(syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_USER_KEYRING, 0));
  if (!strcmp(op, "add-key"))  // into the process keyring, gone at exit
    return report(syscall(SYS_add_key, "user", "least-escape", "x", 1, KEY_SPEC_PROCESS_KEYRING));
  if (!strcmp(op, "syslog-size"))  // SYSLOG_ACTION_SIZE_BUFFER: reads nothing
    return report(syscall(SYS_syslog, 10, NULL, 0));
  if (!strcmp(op, "modify_ldt-read"))
    return report(syscall(SYS_modify_ldt, 0, zeros, sizeof zeros));
  if (!strcmp(op, "iopl-invalid")) return report(syscall(SYS_iopl, 4));  // levels are 0..3
  // Machine-wide state, always with arguments the kernel rejects.
  if (!strcmp(op, "clock_settime-invalid")) return report(clock_settime((clockid_t)-1, &ts));
  if (!strcmp(op, "sethostname-invalid"))  // longer than __NEW_UTS_LEN (64)
    return report(syscall(SYS_sethostname, zeros, 65));
  if (!strcmp(op, "reboot-invalid"))  // not LINUX_REBOOT_MAGIC1
    return report(syscall(SYS_reboot, 0xdeadbeefUL, 0xdeadbeefUL, 0, NULL));
  if (!strcmp(op, "swapon-invalid"))
    return report(syscall(SYS_swapon, "/nonexistent/least-escape", 0));
  if (!strcmp(op, "kexec_load-invalid"))  // undefined flags
    return report(syscall(SYS_kexec_load, 0, 0, NULL, 0xdead0000UL));
  if (!strcmp(op, "kexec_file_load-invalid"))
    return report(syscall(SYS_kexec_file_load, -1, -1, 0, NULL, 0xdead0000UL));
  if (!strcmp(op, "init_module-invalid"))  // 64 zero bytes: not an ELF image
    return report(syscall(SYS_init_module, zeros, sizeof zeros, ""));
  if (!strcmp(op, "finit_module-invalid")) return report(syscall(SYS_finit_module, -1, "", 0));
  return usage("unknown operation");
}
