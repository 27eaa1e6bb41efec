// The promise catalog: pledge(2) promises mapped to Linux x86_64 and aarch64
// syscalls. Names that exist on one architecture only (open, stat, fork,
// arch_prctl...) are listed anyway; the lowering skips what an arch lacks.
#include "policy/catalog.h"

// Kernel UAPI ioctl numbers: <sys/ioctl.h> brings <asm/ioctls.h>; TCGETS2 and
// friends need struct termios2 from <asm/termbits.h>, so <termios.h> (which
// clashes with it) is not included here.
#include <asm/termbits.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <initializer_list>
#include <set>
#include <utility>

namespace least::policy {
namespace {

constexpr uint64_t kInt = 0xffffffff;  // int arguments: the kernel reads 32 bits

// A constant with its symbolic name, for the `text` people read.
struct Named {
  uint64_t value;
  const char* name;
};
#define LEAST_NAMED(x) (Named{static_cast<uint64_t>(x), #x})

ArgCheck eq32(uint8_t arg, uint64_t value, std::string text) {
  return ArgCheck{arg, kInt, value & kInt, std::move(text)};
}

ArgCheck masked(uint8_t arg, uint64_t mask, uint64_t value, std::string text) {
  return ArgCheck{arg, mask, value & mask, std::move(text)};
}

// Builds one Promise in a readable way.
class PromiseBuilder {
 public:
  PromiseBuilder(std::string name, std::string summary) {
    p_.name = std::move(name);
    p_.summary = std::move(summary);
  }
  PromiseBuilder& allow(std::initializer_list<const char*> names) {
    for (const char* n : names) p_.grants.push_back(SyscallGrant{n, {}});
    return *this;
  }
  PromiseBuilder& allow_when(const char* syscall, std::vector<ArgCheck> when) {
    p_.grants.push_back(SyscallGrant{syscall, std::move(when)});
    return *this;
  }
  // One grant per value: `syscall` when `what == NAME` on argument `arg`.
  PromiseBuilder& allow_each(const char* syscall, uint8_t arg, const char* what,
                             std::initializer_list<Named> values) {
    for (const Named& v : values)
      allow_when(syscall, {eq32(arg, v.value, std::string(what) + " == " + v.name)});
    return *this;
  }
  Promise build() { return std::move(p_); }

 private:
  Promise p_;
};

// Namespace flags clone() accepts. CLONE_NEWTIME is not here: its bit is part
// of CSIGNAL for clone(), only clone3 and unshare take it.
constexpr uint64_t kCloneNewAll = CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC |
                                  CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET;
constexpr uint64_t kCloneMask = kCloneNewAll | CLONE_THREAD;
constexpr uint64_t kProtWX = PROT_WRITE | PROT_EXEC;
constexpr const char* kOpen[] = {"open", "openat", "openat2"};

// Adds open, openat and openat2 (any flags: see the rpath summary).
void allow_open(PromiseBuilder& b) {
  for (const char* n : kOpen) b.allow({n});
}

// socket(domain, type, protocol) for one IP family and one type.
void allow_ip_socket(PromiseBuilder& b, Named domain, Named type,
                     std::initializer_list<Named> protocols) {
  for (const Named& proto : protocols)
    b.allow_when("socket", {eq32(0, domain.value, std::string("domain == ") + domain.name),
                            masked(1, 0xf, type.value, std::string("type & 0xf == ") + type.name),
                            eq32(2, proto.value, std::string("protocol == ") + proto.name)});
}

Promise stdio() {
  PromiseBuilder b("stdio",
                   "the basics of a running process: memory (never writable and executable at "
                   "once), signals, time, pipes, polling, I/O on descriptors it already has "
                   "(sendmsg and recvmsg included), harmless fcntl, ioctl and prctl requests");
  b.allow({// I/O on open descriptors. pledge puts ftruncate/fsync in stdio too.
           "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev",
           "preadv2", "pwritev2", "lseek", "close", "close_range", "dup", "dup2", "dup3", "pipe",
           "pipe2", "sendfile", "splice", "tee", "copy_file_range", "fadvise64", "readahead",
           "ftruncate", "fallocate", "fsync", "fdatasync", "sync_file_range", "msync", "fstat",
           "getdents", "getdents64", "fchdir", "getcwd", "umask",
           // Memory. mmap/mprotect are below, checked for W^X.
           "brk", "munmap", "mremap", "madvise", "mlock", "mlock2", "munlock", "mlockall",
           "munlockall", "pkey_alloc", "pkey_free", "map_shadow_stack", "membarrier",
           // Signals and timers. tgkill/tkill are how raise() and abort() work;
           // seccomp cannot tell "self" from another thread id.
           "exit", "exit_group", "restart_syscall", "rt_sigaction", "rt_sigprocmask",
           "rt_sigreturn", "rt_sigpending", "rt_sigsuspend", "rt_sigtimedwait", "sigaltstack",
           "pause", "alarm", "getitimer", "setitimer", "timer_create", "timer_settime",
           "timer_gettime", "timer_getoverrun", "timer_delete", "tgkill", "tkill",
           // Threads' plumbing that glibc and the loader use in every process.
           "futex", "futex_waitv", "futex_wait", "futex_wake", "futex_requeue", "set_robust_list",
           "get_robust_list", "rseq", "set_tid_address", "arch_prctl",
           // Time, identity, limits, scheduling: reading only (setrlimit can only
           // lower limits or raise soft ones up to the hard limit).
           "getrandom", "clock_gettime", "clock_getres", "clock_nanosleep", "nanosleep",
           "gettimeofday", "time", "times", "getpid", "getppid", "gettid", "getuid", "geteuid",
           "getgid", "getegid", "getgroups", "getresuid", "getresgid", "getpgrp", "getpgid",
           "getsid", "capget", "uname", "sysinfo", "getrlimit", "setrlimit", "getrusage",
           "getpriority", "ioprio_get", "sched_yield", "sched_getaffinity", "sched_getparam",
           "sched_getscheduler", "sched_getattr", "sched_get_priority_max",
           "sched_get_priority_min", "sched_rr_get_interval", "getcpu",
           // Waiting on descriptors and children.
           "poll", "ppoll", "select", "pselect6", "epoll_create", "epoll_create1", "epoll_ctl",
           "epoll_wait", "epoll_pwait", "epoll_pwait2", "eventfd", "eventfd2", "timerfd_create",
           "timerfd_settime", "timerfd_gettime", "signalfd", "signalfd4", "wait4", "waitid",
           // Sockets already open (creating one needs inet, unix or dns).
           "recvfrom", "sendto", "recvmsg", "sendmsg", "recvmmsg", "sendmmsg", "shutdown",
           "getsockopt", "getsockname", "getpeername",
           // Restricting oneself further is always fine.
           "seccomp", "landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self"});

  // fstat: glibc 2.33+ implements it as fstatat(fd, "", AT_EMPTY_PATH). The
  // path is in memory, so a non-empty one still resolves (metadata only);
  // honest stat() of a path without AT_EMPTY_PATH needs rpath, as in pledge.
  b.allow_when("newfstatat", {masked(3, AT_EMPTY_PATH, AT_EMPTY_PATH,
                                     "flags & AT_EMPTY_PATH == AT_EMPTY_PATH (fstat of an fd)")});
  b.allow_when("statx", {masked(2, AT_EMPTY_PATH, AT_EMPTY_PATH,
                                "flags & AT_EMPTY_PATH == AT_EMPTY_PATH (fstat of an fd)")});

  // W^X, as systemd's MemoryDenyWriteExecute: a mapping is writable or
  // executable, never both, and nothing becomes executable after the fact.
  // Executable file mappings stay allowed: the loader maps libraries so.
  b.allow_when("mmap", {masked(2, kProtWX, 0, "prot & (PROT_WRITE|PROT_EXEC) == 0")});
  b.allow_when("mmap",
               {masked(2, kProtWX, PROT_WRITE, "prot & (PROT_WRITE|PROT_EXEC) == PROT_WRITE")});
  b.allow_when("mmap",
               {masked(2, kProtWX, PROT_EXEC, "prot & (PROT_WRITE|PROT_EXEC) == PROT_EXEC")});
  b.allow_when("mprotect", {masked(2, PROT_EXEC, 0, "prot & PROT_EXEC == 0")});
  b.allow_when("pkey_mprotect", {masked(2, PROT_EXEC, 0, "prot & PROT_EXEC == 0")});

  // An anonymous pair reaches nothing outside (pledge stdio has socketpair).
  b.allow_when("socketpair", {eq32(0, AF_UNIX, "domain == AF_UNIX")});

  // fcntl: descriptor flags, pipe size (bounded by fs.pipe-max-size for
  // users) and memfd seals (self-restriction). Not F_SETOWN/F_SETSIG (signals
  // to other processes), leases, or dnotify; locks are the flock promise.
  b.allow_each(
      "fcntl", 1, "cmd",
      {LEAST_NAMED(F_DUPFD), LEAST_NAMED(F_DUPFD_CLOEXEC), LEAST_NAMED(F_GETFD),
       LEAST_NAMED(F_SETFD), LEAST_NAMED(F_GETFL), LEAST_NAMED(F_SETFL), LEAST_NAMED(F_GETPIPE_SZ),
       LEAST_NAMED(F_SETPIPE_SZ), LEAST_NAMED(F_GET_SEALS), LEAST_NAMED(F_ADD_SEALS)});

  // ioctl: what programs do on any descriptor. TCGETS is isatty(); a non-tty
  // answers ENOTTY. FICLONE/FICLONERANGE copy between open files like
  // copy_file_range (cp --reflink=auto tries them first). Never TIOCSTI or
  // TIOCLINUX, in no promise.
  b.allow_each("ioctl", 1, "request",
               {LEAST_NAMED(FIONREAD), LEAST_NAMED(FIONBIO), LEAST_NAMED(FIOCLEX),
                LEAST_NAMED(FIONCLEX), LEAST_NAMED(TCGETS), LEAST_NAMED(TIOCGWINSZ),
                LEAST_NAMED(FICLONE), LEAST_NAMED(FICLONERANGE)});

  // prctl: names, death signal, reading credentials state, glibc's
  // PR_SET_VMA, and self-restriction (no_new_privs, seccomp, undumpable).
  // Not PR_SET_MM (rewrites the memory map), PR_SET_PTRACER (invites a
  // tracer), raising ambient capabilities or securebits (id promise).
  b.allow_each(
      "prctl", 0, "option",
      {LEAST_NAMED(PR_SET_NAME), LEAST_NAMED(PR_GET_NAME), LEAST_NAMED(PR_GET_DUMPABLE),
       LEAST_NAMED(PR_SET_PDEATHSIG), LEAST_NAMED(PR_GET_PDEATHSIG),
       LEAST_NAMED(PR_GET_NO_NEW_PRIVS), LEAST_NAMED(PR_SET_NO_NEW_PRIVS),
       LEAST_NAMED(PR_CAPBSET_READ), LEAST_NAMED(PR_GET_SECUREBITS), LEAST_NAMED(PR_GET_KEEPCAPS),
       LEAST_NAMED(PR_SET_VMA), LEAST_NAMED(PR_GET_TID_ADDRESS), LEAST_NAMED(PR_GET_SECCOMP),
       LEAST_NAMED(PR_SET_SECCOMP), LEAST_NAMED(PR_GET_TIMERSLACK), LEAST_NAMED(PR_SET_TIMERSLACK),
       LEAST_NAMED(PR_GET_THP_DISABLE), LEAST_NAMED(PR_SET_THP_DISABLE)});
  // Becoming undumpable hardens (ssh-agent, gpg-agent do it); becoming
  // dumpable again is not offered.
  b.allow_when("prctl", {eq32(0, PR_SET_DUMPABLE, "option == PR_SET_DUMPABLE"),
                         masked(1, ~uint64_t{0}, 0, "arg2 == 0 (SUID_DUMP_DISABLE)")});
  b.allow_when("prctl",
               {eq32(0, PR_CAP_AMBIENT, "option == PR_CAP_AMBIENT"),
                masked(1, ~uint64_t{0}, PR_CAP_AMBIENT_IS_SET, "arg2 == PR_CAP_AMBIENT_IS_SET")});

  // personality: Docker's set. Others (READ_IMPLIES_EXEC, ADDR_NO_RANDOMIZE)
  // weaken memory protections.
  b.allow_when("personality", {eq32(0, 0, "persona == PER_LINUX")});
  b.allow_when("personality", {eq32(0, 0x0008, "persona == PER_LINUX32")});
  b.allow_when("personality", {eq32(0, 0x0020000, "persona == UNAME26")});
  b.allow_when("personality", {eq32(0, 0x0020008, "persona == PER_LINUX32|UNAME26")});
  b.allow_when("personality", {eq32(0, 0xffffffff, "persona == 0xffffffff (query)")});

  // Limits of this process only (pid 0); other processes need proc.
  b.allow_when("prlimit64", {eq32(0, 0, "pid == 0 (self)")});
  return b.build();
}

Promise rpath() {
  PromiseBuilder b("rpath",
                   "read files and directories: open, stat, access, readlink, chdir, statfs, "
                   "xattr reads, inotify (open with any flags: openat2 hides them from seccomp, "
                   "so Landlock refuses writing without wpath and creating without cpath)");
  allow_open(b);
  b.allow({"stat", "lstat", "newfstatat", "statx", "access", "faccessat", "faccessat2", "readlink",
           "readlinkat", "chdir", "statfs", "fstatfs", "getxattr", "lgetxattr", "fgetxattr",
           "listxattr", "llistxattr", "flistxattr",
           // Watching needs read permission on the watched inode.
           "inotify_init", "inotify_init1", "inotify_add_watch", "inotify_rm_watch"});
  return b.build();
}

Promise wpath() {
  PromiseBuilder b("wpath",
                   "write files that exist: open (any flags; Landlock holds the paths), "
                   "truncate a path, sync file systems");
  allow_open(b);
  b.allow({"truncate", "sync", "syncfs"});
  return b.build();
}

Promise cpath() {
  PromiseBuilder b("cpath",
                   "create, rename, link and remove files and directories (Landlock holds "
                   "the paths)");
  allow_open(b);
  b.allow({"creat", "mkdir", "mkdirat", "rename", "renameat", "renameat2", "link", "linkat",
           "symlink", "symlinkat", "unlink", "unlinkat", "rmdir"});
  return b.build();
}

Promise dpath() {
  PromiseBuilder b("dpath", "create FIFOs (mkfifo); never device nodes");
  // umode_t: the kernel reads 16 bits; S_IFMT lies within them.
  b.allow_when("mknod", {masked(1, S_IFMT, S_IFIFO, "mode & S_IFMT == S_IFIFO")});
  b.allow_when("mknodat", {masked(2, S_IFMT, S_IFIFO, "mode & S_IFMT == S_IFIFO")});
  return b.build();
}

Promise tmppath() {
  PromiseBuilder b("tmppath",
                   "temporary files: open, stat and unlink (Landlock confines them to the "
                   "temporary directory), and anonymous memory files (memfd_create)");
  allow_open(b);
  // memfd_create is a temporary file without a path. It matters only with
  // exec (code that is on no disk can run); the lowering warns about that.
  b.allow({"stat", "lstat", "newfstatat", "statx", "unlink", "unlinkat", "memfd_create"});
  return b.build();
}

Promise fattr() {
  PromiseBuilder b("fattr",
                   "change file modes, times and extended attributes (chmod, utimensat, "
                   "setxattr)");
  b.allow({"chmod", "fchmod", "fchmodat", "fchmodat2", "utime", "utimes", "utimensat", "futimesat",
           "setxattr", "lsetxattr", "fsetxattr", "removexattr", "lremovexattr", "fremovexattr"});
  return b.build();
}

Promise chown_promise() {
  PromiseBuilder b("chown", "change file owner and group (the kernel still checks rights)");
  b.allow({"chown", "fchown", "fchownat", "lchown"});
  return b.build();
}

Promise flock() {
  PromiseBuilder b("flock", "file locks: flock() and fcntl record and open-file-description locks");
  b.allow({"flock"});
  b.allow_each("fcntl", 1, "cmd",
               {LEAST_NAMED(F_GETLK), LEAST_NAMED(F_SETLK), LEAST_NAMED(F_SETLKW),
                LEAST_NAMED(F_OFD_GETLK), LEAST_NAMED(F_OFD_SETLK), LEAST_NAMED(F_OFD_SETLKW)});
  return b.build();
}

// Calls that make a socket useful once it exists.
constexpr std::initializer_list<const char*> kSocketUse = {"bind",   "connect", "listen",
                                                           "accept", "accept4", "setsockopt"};

Promise inet() {
  PromiseBuilder b("inet",
                   "IPv4 and IPv6 TCP and UDP sockets (and ICMP echo \"ping\" sockets): "
                   "socket, bind, connect, listen, accept; Landlock holds TCP ports");
  // Protocols are checked too: SOCK_STREAM with IPPROTO_SCTP would load a
  // rarely used protocol module. MPTCP is TCP's extension and used by default
  // in some runtimes.
  const Named v4 = LEAST_NAMED(AF_INET), v6 = LEAST_NAMED(AF_INET6);
  const Named stream = LEAST_NAMED(SOCK_STREAM), dgram = LEAST_NAMED(SOCK_DGRAM);
  const Named ip = LEAST_NAMED(IPPROTO_IP), tcp = LEAST_NAMED(IPPROTO_TCP),
              mptcp = LEAST_NAMED(IPPROTO_MPTCP), udp = LEAST_NAMED(IPPROTO_UDP);
  allow_ip_socket(b, v4, stream, {ip, tcp, mptcp});
  allow_ip_socket(b, v6, stream, {ip, tcp, mptcp});
  allow_ip_socket(b, v4, dgram, {ip, udp, LEAST_NAMED(IPPROTO_ICMP)});
  allow_ip_socket(b, v6, dgram, {ip, udp, LEAST_NAMED(IPPROTO_ICMPV6)});
  b.allow(kSocketUse);
  return b.build();
}

Promise unix_promise() {
  PromiseBuilder b("unix",
                   "Unix domain sockets of any type: socket, socketpair, bind, connect, "
                   "listen, accept");
  b.allow_when("socket", {eq32(0, AF_UNIX, "domain == AF_UNIX")});
  b.allow_when("socketpair", {eq32(0, AF_UNIX, "domain == AF_UNIX")});
  b.allow(kSocketUse);
  return b.build();
}

Promise dns() {
  PromiseBuilder b("dns",
                   "name resolution: UDP and TCP sockets for the resolver and the NETLINK_ROUTE "
                   "socket of getaddrinfo(AI_ADDRCONFIG). Seccomp cannot check the address: "
                   "Landlock holds TCP ports, UDP reaches any host");
  const Named stream = LEAST_NAMED(SOCK_STREAM), dgram = LEAST_NAMED(SOCK_DGRAM);
  for (const Named& family : {LEAST_NAMED(AF_INET), LEAST_NAMED(AF_INET6)}) {
    allow_ip_socket(b, family, dgram, {LEAST_NAMED(IPPROTO_IP), LEAST_NAMED(IPPROTO_UDP)});
    allow_ip_socket(b, family, stream, {LEAST_NAMED(IPPROTO_IP), LEAST_NAMED(IPPROTO_TCP)});
  }
  // netlink accepts only SOCK_RAW and SOCK_DGRAM, so the type needs no check.
  b.allow_when("socket", {eq32(0, AF_NETLINK, "domain == AF_NETLINK"),
                          eq32(2, NETLINK_ROUTE, "protocol == NETLINK_ROUTE")});
  // glibc binds the netlink socket, connects the UDP one, sets IP_RECVERR.
  // nscd and systemd's nss-resolve answer over AF_UNIX: that needs unix, which
  // dns does not imply (it would reach every Unix socket, Docker's included);
  // glibc falls back to DNS when they are refused.
  b.allow({"bind", "connect", "setsockopt"});
  return b.build();
}

Promise sendfd() {
  return PromiseBuilder("sendfd",
                        "send descriptors over Unix sockets. Grants nothing beyond stdio: "
                        "SCM_RIGHTS sits in msghdr memory that seccomp cannot read, so "
                        "sendmsg is in stdio; telling them apart needs the supervisor")
      .build();
}

Promise recvfd() {
  return PromiseBuilder("recvfd",
                        "receive descriptors over Unix sockets. Grants nothing beyond stdio, "
                        "for the same reason as sendfd (recvmsg is in stdio)")
      .build();
}

Promise proc() {
  PromiseBuilder b("proc",
                   "create processes (fork, vfork, clone without threads or namespaces), "
                   "signal them, set process groups, sessions, priorities and limits");
  b.allow({"fork", "vfork", "kill", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "setpgid", "setsid",
           "setpriority", "ioprio_set", "sched_setaffinity", "sched_setscheduler", "sched_setparam",
           "sched_setattr", "prlimit64", "pidfd_open", "pidfd_send_signal", "process_mrelease"});
  b.allow_when("clone", {masked(0, kCloneMask, 0, "flags & (CLONE_NEW*|CLONE_THREAD) == 0")});
  // Init-like programs (tini, dumb-init, service managers) reap orphans.
  b.allow_each("prctl", 0, "option",
               {LEAST_NAMED(PR_SET_CHILD_SUBREAPER), LEAST_NAMED(PR_GET_CHILD_SUBREAPER)});
  return b.build();
}

Promise thread() {
  PromiseBuilder b("thread", "create threads: clone with CLONE_THREAD and no namespace flags");
  b.allow_when("clone", {masked(0, kCloneMask, CLONE_THREAD,
                                "flags & (CLONE_NEW*|CLONE_THREAD) == CLONE_THREAD")});
  return b.build();
}

Promise exec() {
  PromiseBuilder b("exec", "execute programs (Landlock holds which files may be executed)");
  b.allow({"execve", "execveat"});
  return b.build();
}

Promise prot_exec() {
  PromiseBuilder b("prot_exec",
                   "memory both writable and executable, and making memory executable later "
                   "(JIT compilers, libffi closures): mmap, mprotect, pkey_mprotect unchecked");
  b.allow({"mmap", "mprotect", "pkey_mprotect"});
  return b.build();
}

Promise id() {
  PromiseBuilder b("id",
                   "change user and group ids, supplementary groups and capabilities (within "
                   "what the kernel already permits)");
  b.allow({"setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setgroups",
           "setfsuid", "setfsgid", "capset"});
  b.allow_each("prctl", 0, "option",
               {LEAST_NAMED(PR_SET_KEEPCAPS), LEAST_NAMED(PR_SET_SECUREBITS),
                LEAST_NAMED(PR_CAPBSET_DROP), LEAST_NAMED(PR_CAP_AMBIENT)});
  return b.build();
}

Promise tty() {
  PromiseBuilder b("tty",
                   "terminal control: termios settings, window size, foreground process "
                   "group, controlling terminal, pseudo-terminals; never TIOCSTI or TIOCLINUX");
  // Not TIOCSETD (loads line disciplines), TIOCCONS, TIOCSTI, TIOCLINUX.
  b.allow_each("ioctl", 1, "request",
               {LEAST_NAMED(TCGETS),     LEAST_NAMED(TCSETS),     LEAST_NAMED(TCSETSW),
                LEAST_NAMED(TCSETSF),    LEAST_NAMED(TCGETS2),    LEAST_NAMED(TCSETS2),
                LEAST_NAMED(TCSETSW2),   LEAST_NAMED(TCSETSF2),   LEAST_NAMED(TCSBRK),
                LEAST_NAMED(TCXONC),     LEAST_NAMED(TCFLSH),     LEAST_NAMED(TIOCGPGRP),
                LEAST_NAMED(TIOCSPGRP),  LEAST_NAMED(TIOCGSID),   LEAST_NAMED(TIOCOUTQ),
                LEAST_NAMED(TIOCGWINSZ), LEAST_NAMED(TIOCSWINSZ), LEAST_NAMED(TIOCSCTTY),
                LEAST_NAMED(TIOCNOTTY),  LEAST_NAMED(TIOCGPTN),   LEAST_NAMED(TIOCSPTLCK),
                LEAST_NAMED(TIOCGPTPEER)});
  return b.build();
}

Promise settime() {
  PromiseBuilder b("settime", "set the system clock (needs CAP_SYS_TIME besides)");
  b.allow({"clock_settime", "settimeofday", "adjtimex", "clock_adjtime"});
  return b.build();
}

#undef LEAST_NAMED

}  // namespace

const std::vector<Promise>& promise_catalog() {
  // In pledge(2)'s order, which is also the order the docs show.
  static const std::vector<Promise> catalog = {
      stdio(),         rpath(),  wpath(), cpath(),        dpath(), tmppath(), fattr(),
      chown_promise(), flock(),  inet(),  unix_promise(), dns(),   sendfd(),  recvfd(),
      proc(),          thread(), exec(),  prot_exec(),    id(),    tty(),     settime()};
  return catalog;
}

const Promise* find_promise(std::string_view name) {
  for (const Promise& p : promise_catalog())
    if (p.name == name) return &p;
  return nullptr;
}

std::vector<std::string_view> promise_names() {
  std::vector<std::string_view> names;
  for (const Promise& p : promise_catalog()) names.push_back(p.name);
  return names;
}

const DangerousSyscall* find_dangerous(std::string_view syscall) {
  for (const DangerousSyscall& d : dangerous_syscalls())
    if (d.syscall == syscall) return &d;
  return nullptr;
}

bool catalog_knows(std::string_view syscall) {
  static const std::set<std::string, std::less<>> known = [] {
    std::set<std::string, std::less<>> s;
    for (const Promise& p : promise_catalog())
      for (const SyscallGrant& g : p.grants) s.insert(g.syscall);
    for (const DangerousSyscall& d : dangerous_syscalls()) s.insert(d.syscall);
    for (const std::string& u : unpromised_syscalls()) s.insert(u);
    return s;
  }();
  return known.contains(syscall);
}

const std::vector<std::string>& default_promises() {
  // Runs sh, coreutils, python3, git and curl unchanged, yet is tighter than
  // Docker's default profile: no id or settime, no namespaces, no ptrace,
  // only IP/Unix/route-netlink sockets, only the ioctls listed above.
  // prot_exec is in: JITs need W+X memory. Without it `git grep -P` dies
  // ("Couldn't JIT the PCRE2 pattern") and python ctypes callbacks raise
  // MemoryError; node and java fail too. W^X guards against exploits of the
  // program, not its escape from the sandbox. A policy naming its promises
  // can leave it out.
  static const std::vector<std::string> defaults = {
      "stdio", "rpath",  "wpath", "cpath",     "dpath", "tmppath", "fattr",
      "chown", "flock",  "inet",  "unix",      "dns",   "sendfd",  "recvfd",
      "proc",  "thread", "exec",  "prot_exec", "tty"};
  return defaults;
}

}  // namespace least::policy

namespace least::policy {

const std::vector<DangerousSyscall>& dangerous_syscalls() {
  // What Docker's default profile refuses to a container without extra
  // capabilities, plus ptrace and friends, io_uring and the new mount API.
  static const std::vector<DangerousSyscall> dangerous = [] {
    std::vector<DangerousSyscall> d;
    auto add = [&d](std::initializer_list<const char*> names, const char* why) {
      for (const char* n : names) d.push_back(DangerousSyscall{n, why});
    };
    add({"_sysctl", "create_module", "get_kernel_syms", "query_module", "nfsservctl", "uselib",
         "ustat", "sysfs"},
        "obsolete kernel interface, removed or unused for years");
    add({"acct"}, "switches process accounting for the whole system");
    add({"add_key", "keyctl", "request_key"},
        "kernel keyrings: not namespaced, a long history of exploits");
    add({"adjtimex", "clock_adjtime", "clock_settime", "settimeofday", "stime"},
        "sets the system clock");
    add({"bpf"}, "loads eBPF programs into the kernel");
    add({"chroot"}, "changes the root directory, a classic step of escapes");
    add({"init_module", "finit_module", "delete_module"}, "loads or unloads kernel modules");
    add({"kexec_load", "kexec_file_load"}, "boots another kernel");
    add({"reboot"}, "reboots or halts the machine");
    add({"swapon", "swapoff"}, "changes the system's swap devices");
    add({"iopl", "ioperm"}, "gives direct access to hardware I/O ports");
    add({"vm86", "vm86old"}, "virtual 8086 mode (i386 only)");
    add({"mount", "umount", "umount2", "pivot_root"}, "changes the mount table");
    add({"fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree", "mount_setattr"},
        "new mount API: changes the mount table");
    add({"setns", "unshare"}, "enters or creates namespaces (the sandbox sets them up itself)");
    add({"sethostname", "setdomainname"}, "renames the host (UTS namespace)");
    add({"quotactl", "quotactl_fd"}, "manages disk quotas");
    add({"vhangup"}, "hangs up the current terminal");
    add({"syslog"}, "reads or clears the kernel log, which shows kernel addresses");
    add({"lookup_dcookie"}, "profiling interface into kernel internals");
    add({"perf_event_open"},
        "performance monitoring: a large source of kernel bugs and side "
        "channels");
    add({"fanotify_init"}, "watches file access across whole file systems");
    add({"name_to_handle_at"}, "makes file handles that open_by_handle_at turns into access");
    add({"open_by_handle_at"},
        "opens files by handle, past every path check (the \"shocker\" container escape)");
    add({"ptrace"}, "controls other processes; bypassed seccomp before Linux 4.8");
    add({"process_vm_readv", "process_vm_writev"}, "reads or writes another process's memory");
    add({"pidfd_getfd"}, "copies a descriptor out of another process");
    add({"process_madvise"}, "gives memory advice for another process");
    add({"kcmp"}, "compares kernel objects of other processes (leaks kernel pointer order)");
    add({"get_mempolicy", "set_mempolicy", "set_mempolicy_home_node", "mbind", "migrate_pages",
         "move_pages"},
        "NUMA memory placement, also of other processes' pages");
    add({"userfaultfd"},
        "handles page faults in user space; widens kernel race windows for "
        "exploits");
    add({"io_uring_setup", "io_uring_enter", "io_uring_register"},
        "io_uring: runs operations seccomp never sees, frequent kernel exploits");
    std::sort(d.begin(), d.end(), [](const DangerousSyscall& a, const DangerousSyscall& b) {
      return a.syscall < b.syscall;
    });
    return d;
  }();
  return dangerous;
}

const std::vector<std::string>& unpromised_syscalls() {
  // Refused with EPERM unless allowed by name. Sorted.
  static const std::vector<std::string> unpromised = [] {
    std::vector<std::string> u = {
        // Never implemented by Linux (the kernel answers ENOSYS anyway).
        "afs_syscall", "getpmsg", "putpmsg", "security", "tuxcall", "vserver",
        // Obsolete or 32-bit only: x86_64 glibc uses arch_prctl, not these.
        "epoll_ctl_old", "epoll_wait_old", "get_thread_area", "set_thread_area", "modify_ldt",
        "remap_file_pages",
        // Page-cache residency: side channels, and common programs do without.
        "mincore", "cachestat",
        // Linux AIO, System V IPC and POSIX message queues: databases and old
        // X11 clients use them; allow them by name.
        "io_setup", "io_destroy", "io_submit", "io_cancel", "io_getevents", "io_pgetevents",
        "msgget", "msgsnd", "msgrcv", "msgctl", "semget", "semop", "semtimedop", "semctl", "shmget",
        "shmat", "shmdt", "shmctl", "mq_open", "mq_unlink", "mq_timedsend", "mq_timedreceive",
        "mq_notify", "mq_getsetattr",
        // Rare, with a history of kernel bugs (vmsplice) or of no use without
        // fanotify_init (dangerous) or a boot option (memfd_secret).
        "vmsplice", "fanotify_mark", "memfd_secret"};
    std::sort(u.begin(), u.end());
    return u;
  }();
  return unpromised;
}

}  // namespace least::policy
