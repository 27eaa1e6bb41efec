// Table-driven: one syscall made by least-probe under `least run`, with an
// exact expected answer. Each promise is shown allowed with the smallest set
// that contains it and refused with the smallest set that does not; each
// argument constraint of the catalog is shown from both sides.
//
// `control` runs the same probe without least: where it answers differently
// from the refusal, the refusal is least's doing and not the kernel's.
#include <gtest/gtest.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <sstream>
#include <string>
#include <vector>

#include "spawn.h"

namespace least::testing {
namespace {

struct ProbeCase {
  std::string name;
  std::vector<std::string> least;  // `least run` options; empty: the built-in default policy
  std::vector<std::string> args;   // the probe's; "{dir}" is a fresh directory, "{probe}" itself
  std::string expect;  // "OK", "OK <value>", "ERRNO <NAME>", "KILLED <SIGNAL>" or "EXIT <status>"
  std::string control = {};  // the probe's answer without least; empty: not checked
  bool control_needs_root = false;
};

// gtest prints the case by its name, not its bytes.
void PrintTo(const ProbeCase& c, std::ostream* os) {
  *os << c.name;
}

std::vector<std::string> promise(const std::string& promises) {
  return {"--promise", promises};
}
const std::vector<std::string> kDefault = {};

// Every thread flag glibc's pthread_create passes, as clone() takes them.
const char* const kThreadFlags =
    "CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM";

// clang-format off
const ProbeCase kPromiseCases[] = {
    // stdio: without it the probe cannot even exit (exit_group is refused, and
    // glibc's last resort, hlt, faults).
    {"StdioAllowsGetpid", promise("stdio"), {"getpid"}, "OK"},
    // Without stdio even libc's start-up fails (no memory), and its message
    // cannot be written; exiting is always allowed.
    {"WithoutStdioNothingRuns", promise("rpath"), {"getpid"}, "EXIT 127"},
    {"StdioAllowsSocketpairUnix", promise("stdio"), {"socketpair", "AF_UNIX"}, "OK"},
    {"StdioAllowsFcntlGetfl", promise("stdio"), {"fcntl", "F_GETFL"}, "OK"},

    {"RpathAllowsOpen", promise("stdio rpath"), {"open", "{dir}/file", "O_RDONLY"}, "OK"},
    {"OpenNeedsRpath", promise("stdio"), {"open", "{dir}/file", "O_RDONLY"}, "ERRNO EPERM", "OK"},
    {"RpathAllowsStat", promise("stdio rpath"), {"stat", "{dir}/file"}, "OK"},
    {"StatNeedsRpath", promise("stdio wpath"), {"stat", "{dir}/file"}, "ERRNO EPERM", "OK"},

    {"WpathAllowsTruncate", promise("stdio wpath"), {"truncate", "{dir}/file", "0"}, "OK"},
    {"TruncateNeedsWpath", promise("stdio rpath cpath"), {"truncate", "{dir}/file", "0"},
     "ERRNO EPERM", "OK"},

    {"CpathAllowsMkdir", promise("stdio cpath"), {"mkdir", "{dir}/new"}, "OK"},
    {"MkdirNeedsCpath", promise("stdio rpath wpath"), {"mkdir", "{dir}/new"}, "ERRNO EPERM", "OK"},
    {"CpathAllowsRename", promise("stdio cpath"), {"rename", "{dir}/file", "{dir}/moved"}, "OK"},
    {"RenameNeedsCpath", promise("stdio rpath wpath"), {"rename", "{dir}/file", "{dir}/moved"},
     "ERRNO EPERM", "OK"},

    {"DpathAllowsMkfifo", promise("stdio dpath"), {"mknod-fifo", "{dir}/fifo"}, "OK"},
    {"MkfifoNeedsDpath", promise("stdio cpath"), {"mknod-fifo", "{dir}/fifo"}, "ERRNO EPERM",
     "OK"},
    {"DpathNeverDeviceNodes", promise("stdio dpath"), {"mknod-chr", "{dir}/null"}, "ERRNO EPERM",
     "OK", true},

    {"TmppathAllowsMemfd", promise("stdio tmppath"), {"memfd_create"}, "OK"},
    {"MemfdNeedsTmppath", promise("stdio"), {"memfd_create"}, "ERRNO EPERM", "OK"},

    {"FattrAllowsChmod", promise("stdio fattr"), {"chmod", "{dir}/file", "600"}, "OK"},
    {"ChmodNeedsFattr", promise("stdio rpath wpath cpath"), {"chmod", "{dir}/file", "600"},
     "ERRNO EPERM", "OK"},

    {"ChownAllowsChown", promise("stdio chown"), {"chown", "{dir}/file"}, "OK"},
    {"ChownNeedsChown", promise("stdio fattr"), {"chown", "{dir}/file"}, "ERRNO EPERM", "OK"},

    {"FlockAllowsFlock", promise("stdio rpath flock"), {"flock", "{dir}/file"}, "OK"},
    {"FlockNeedsFlock", promise("stdio rpath"), {"flock", "{dir}/file"}, "ERRNO EPERM", "OK"},
    {"FlockAllowsFcntlSetlk", promise("stdio rpath wpath flock"), {"fcntl", "F_SETLK", "{dir}/file"},
     "OK"},
    {"FcntlSetlkNeedsFlock", promise("stdio rpath wpath"), {"fcntl", "F_SETLK", "{dir}/file"},
     "ERRNO EPERM", "OK"},
    {"FcntlOfdSetlkNeedsFlock", promise("stdio rpath wpath"), {"fcntl", "F_OFD_SETLK", "{dir}/file"},
     "ERRNO EPERM", "OK"},

    {"InetAllowsTcpSocket", promise("stdio inet"), {"socket", "AF_INET", "SOCK_STREAM"}, "OK"},
    {"TcpSocketNeedsInet", promise("stdio unix"), {"socket", "AF_INET", "SOCK_STREAM"},
     "ERRNO EPERM", "OK"},
    {"InetAllowsUdp6Socket", promise("stdio inet"), {"socket", "AF_INET6", "SOCK_DGRAM"}, "OK"},
    {"InetAllowsBind", promise("stdio inet"), {"bind-tcp", "0"}, "OK"},

    {"UnixAllowsUnixSocket", promise("stdio unix"), {"socket", "AF_UNIX", "SOCK_STREAM"}, "OK"},
    {"UnixSocketNeedsUnix", promise("stdio inet"), {"socket", "AF_UNIX", "SOCK_STREAM"},
     "ERRNO EPERM", "OK"},

    {"DnsAllowsNetlinkRoute", promise("stdio dns"),
     {"socket", "AF_NETLINK", "SOCK_RAW", "NETLINK_ROUTE"}, "OK"},
    {"NetlinkRouteNeedsDns", promise("stdio inet unix"),
     {"socket", "AF_NETLINK", "SOCK_RAW", "NETLINK_ROUTE"}, "ERRNO EPERM", "OK"},
    {"DnsAllowsUdpSocket", promise("stdio dns"), {"socket", "AF_INET", "SOCK_DGRAM"}, "OK"},

    // sendfd and recvfd grant nothing beyond stdio (SCM_RIGHTS sits in msghdr
    // memory seccomp cannot read): passing a descriptor works with each, and
    // with stdio alone, as the catalog documents.
    {"SendfdPassesDescriptor", promise("stdio sendfd"), {"sendfd"}, "OK"},
    {"RecvfdPassesDescriptor", promise("stdio recvfd"), {"sendfd"}, "OK"},
    {"StdioAlonePassesDescriptor", promise("stdio"), {"sendfd"}, "OK"},

    {"ProcAllowsFork", promise("stdio proc"), {"fork"}, "OK"},
    {"ForkNeedsProc", promise("stdio thread"), {"fork"}, "ERRNO EPERM", "OK"},
    {"ProcAllowsKill", promise("stdio proc"), {"kill-self", "0"}, "OK"},
    {"KillNeedsProc", promise("stdio"), {"kill-self", "0"}, "ERRNO EPERM", "OK"},

    {"ThreadAllowsCloneThread", promise("stdio thread"), {"clone", kThreadFlags}, "OK"},
    {"CloneThreadNeedsThread", promise("stdio proc"), {"clone", kThreadFlags}, "ERRNO EPERM",
     "OK"},
    {"ThreadAllowsPthreadCreate", promise("stdio thread"), {"pthread"}, "OK"},
    {"PthreadCreateNeedsThread", promise("stdio proc"), {"pthread"}, "ERRNO EPERM", "OK"},

    {"ExecAllowsExecve", promise("stdio exec"), {"execve", "{probe}", "getpid"}, "OK"},
    {"ExecveNeedsExec", promise("stdio"), {"execve", "{probe}", "getpid"}, "ERRNO EPERM", "OK"},

    {"ProtExecAllowsRwxMmap", promise("stdio prot_exec"), {"mmap", "PROT_READ|PROT_WRITE|PROT_EXEC"},
     "OK"},
    {"RwxMmapNeedsProtExec", promise("stdio"), {"mmap", "PROT_READ|PROT_WRITE|PROT_EXEC"},
     "ERRNO EPERM", "OK"},

    {"IdAllowsSetuid", promise("stdio id"), {"setuid"}, "OK"},
    {"SetuidNeedsId", promise("stdio"), {"setuid"}, "ERRNO EPERM", "OK"},

    {"TtyAllowsSetWindowSize", promise("stdio rpath tty"), {"ioctl-pty", "TIOCSWINSZ"}, "OK"},
    {"SetWindowSizeNeedsTty", promise("stdio rpath wpath"), {"ioctl-pty", "TIOCSWINSZ"}, "ERRNO EPERM",
     "OK"},

    // An invalid clock: the kernel answers EINVAL once the call reaches it.
    {"SettimeAllowsClockSettime", promise("stdio settime"), {"clock_settime-invalid"},
     "ERRNO EINVAL"},
    {"ClockSettimeNeedsSettime", promise("stdio"), {"clock_settime-invalid"}, "ERRNO EPERM",
     "ERRNO EINVAL"},
};

const ProbeCase kArgumentCases[] = {
    // socket: domain, type and protocol.
    {"InetAllowsCloexecType", promise("stdio inet"),
     {"socket", "AF_INET", "SOCK_STREAM|SOCK_CLOEXEC"}, "OK"},
    {"InetRefusesRawIp", promise("stdio inet"), {"socket", "AF_INET", "SOCK_RAW", "IPPROTO_ICMP"},
     "ERRNO EPERM", "OK", true},
    {"InetRefusesSctp", promise("stdio inet"), {"socket", "AF_INET", "SOCK_STREAM", "IPPROTO_SCTP"},
     "ERRNO EPERM"},
    {"InetRefusesUnix", promise("inet stdio"), {"socket", "AF_UNIX", "SOCK_DGRAM"}, "ERRNO EPERM",
     "OK"},
    {"DnsRefusesNetlinkAudit", promise("stdio dns"),
     {"socket", "AF_NETLINK", "SOCK_RAW", "NETLINK_AUDIT"}, "ERRNO EPERM"},
    {"DnsRefusesNetlinkSockDiag", promise("stdio dns"),
     {"socket", "AF_NETLINK", "SOCK_RAW", "NETLINK_SOCK_DIAG"}, "ERRNO EPERM", "OK"},
    {"DnsRefusesNetlinkUevent", promise("stdio dns"),
     {"socket", "AF_NETLINK", "SOCK_DGRAM", "NETLINK_KOBJECT_UEVENT"}, "ERRNO EPERM", "OK"},
    {"DnsRefusesUnix", promise("stdio dns"), {"socket", "AF_UNIX", "SOCK_STREAM"}, "ERRNO EPERM"},
    {"DefaultRefusesPacket", kDefault, {"socket", "AF_PACKET", "SOCK_RAW"}, "ERRNO EPERM", "OK",
     true},
    {"DefaultRefusesVsock", kDefault, {"socket", "AF_VSOCK", "SOCK_STREAM"}, "ERRNO EPERM"},
    {"DefaultRefusesNetlinkAudit", kDefault,
     {"socket", "AF_NETLINK", "SOCK_RAW", "NETLINK_AUDIT"}, "ERRNO EPERM"},
    {"DefaultAllowsNetlinkRoute", kDefault,
     {"socket", "AF_NETLINK", "SOCK_RAW", "NETLINK_ROUTE"}, "OK"},
    {"StdioRefusesSocketpairInet", promise("stdio"), {"socketpair", "AF_INET"}, "ERRNO EPERM",
     "ERRNO EOPNOTSUPP"},

    // ioctl: fd 0 is /dev/null, so a request that reaches the kernel answers
    // ENOTTY; the pty cases use a fresh /dev/ptmx.
    {"StdioAllowsTcgets", promise("stdio"), {"ioctl", "TCGETS"}, "ERRNO ENOTTY"},
    {"StdioAllowsTcgetsOnPty", promise("stdio rpath wpath"), {"ioctl-pty", "TCGETS"}, "OK"},
    {"StdioAllowsFionbio", promise("stdio"), {"ioctl", "FIONBIO"}, "OK"},
    {"StdioRefusesTiocswinsz", promise("stdio"), {"ioctl", "TIOCSWINSZ"}, "ERRNO EPERM",
     "ERRNO ENOTTY"},
    {"TtyRefusesTiocsti", promise("stdio tty"), {"ioctl", "TIOCSTI"}, "ERRNO EPERM",
     "ERRNO ENOTTY"},
    {"TtyRefusesTiocsl", promise("stdio tty"), {"ioctl", "TIOCLINUX"}, "ERRNO EPERM",
     "ERRNO ENOTTY"},
    {"TtyRefusesTiocstiOnPty", promise("stdio rpath tty"), {"ioctl-pty", "TIOCSTI"}, "ERRNO EPERM"},
    {"DefaultRefusesTiocsti", kDefault, {"ioctl", "TIOCSTI"}, "ERRNO EPERM", "ERRNO ENOTTY"},
    {"DefaultRefusesTiocstiOnPty", kDefault, {"ioctl-pty", "TIOCSTI"}, "ERRNO EPERM"},
    {"DefaultRefusesTioclinux", kDefault, {"ioctl", "TIOCLINUX"}, "ERRNO EPERM", "ERRNO ENOTTY"},
    {"DefaultRefusesTiocsetd", kDefault, {"ioctl", "TIOCSETD"}, "ERRNO EPERM", "ERRNO ENOTTY"},
    // The kernel reads 32 bits of the request: 0x1_00005412 is TIOCSTI.
    {"DefaultRefusesTiocstiUpperBits", kDefault, {"ioctl-raw", "0x100005412"}, "ERRNO EPERM",
     "ERRNO ENOTTY"},
    {"TtyRefusesTiocstiUpperBits", promise("stdio tty"), {"ioctl-raw", "0x100005412"},
     "ERRNO EPERM", "ERRNO ENOTTY"},
    {"StdioAllowsTcgetsUpperBits", promise("stdio"), {"ioctl-raw", "0x100005401"}, "ERRNO ENOTTY"},

    // clone: no namespaces in any promise; threads only with thread.
    {"ProcRefusesCloneNewuser", promise("stdio proc"), {"clone", "CLONE_NEWUSER|SIGCHLD"},
     "ERRNO EPERM", "OK", true},
    {"ProcRefusesCloneNewnet", promise("stdio proc"), {"clone", "CLONE_NEWNET|SIGCHLD"},
     "ERRNO EPERM", "OK", true},
    {"DefaultRefusesCloneNewuser", kDefault, {"clone", "CLONE_NEWUSER|SIGCHLD"}, "ERRNO EPERM",
     "OK", true},
    {"ThreadRefusesThreadWithNewns", promise("stdio thread"),
     {"clone", "CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_NEWNET"},
     "ERRNO EPERM"},
    {"ProcAllowsPlainClone", promise("stdio proc"), {"clone", "SIGCHLD"}, "OK"},
    {"ProcAllowsVforkLikeClone", promise("stdio proc"), {"clone", "CLONE_VM|CLONE_VFORK|SIGCHLD"},
     "OK"},
    {"DefaultAllowsFork", kDefault, {"fork"}, "OK"},
    {"DefaultAllowsPthreadCreate", kDefault, {"pthread"}, "OK"},
    {"DefaultClone3IsEnosys", kDefault, {"clone3"}, "ERRNO ENOSYS", "OK"},
    {"ProcThreadClone3IsEnosys", promise("stdio proc thread"), {"clone3"}, "ERRNO ENOSYS", "OK"},
    {"StdioClone3IsEnosys", promise("stdio"), {"clone3"}, "ERRNO ENOSYS", "OK"},

    // W^X, as systemd's MemoryDenyWriteExecute.
    {"StdioAllowsAnonymousRx", promise("stdio"), {"mmap", "PROT_READ|PROT_EXEC"}, "OK"},
    {"StdioAllowsRw", promise("stdio"), {"mmap", "PROT_READ|PROT_WRITE"}, "OK"},
    {"StdioRefusesWx", promise("stdio"), {"mmap", "PROT_WRITE|PROT_EXEC"}, "ERRNO EPERM", "OK"},
    {"StdioRefusesMprotectRwx", promise("stdio"), {"mprotect", "PROT_READ|PROT_WRITE|PROT_EXEC"},
     "ERRNO EPERM", "OK"},
    {"StdioRefusesMprotectRx", promise("stdio"), {"mprotect", "PROT_READ|PROT_EXEC"},
     "ERRNO EPERM", "OK"},
    {"StdioAllowsMprotectR", promise("stdio"), {"mprotect", "PROT_READ"}, "OK"},
    {"ProtExecAllowsMprotectRwx", promise("stdio prot_exec"),
     {"mprotect", "PROT_READ|PROT_WRITE|PROT_EXEC"}, "OK"},
    {"DefaultAllowsRwx", kDefault, {"mmap", "PROT_READ|PROT_WRITE|PROT_EXEC"}, "OK"},

    // fcntl commands.
    {"StdioRefusesFcntlSetown", promise("stdio"), {"fcntl", "F_SETOWN"}, "ERRNO EPERM", "OK"},
    {"StdioRefusesFcntlSetlease", promise("stdio rpath wpath"), {"fcntl", "F_SETLEASE", "{dir}/file"},
     "ERRNO EPERM"},

    // personality: Docker's set.
    {"StdioAllowsPersonalityQuery", promise("stdio"), {"personality", "0xffffffff"}, "OK"},
    {"StdioAllowsPerLinux", promise("stdio"), {"personality", "PER_LINUX"}, "OK"},
    {"StdioRefusesReadImpliesExec", promise("stdio"), {"personality", "READ_IMPLIES_EXEC"},
     "ERRNO EPERM", "OK"},
    {"StdioRefusesAddrNoRandomize", promise("stdio"), {"personality", "ADDR_NO_RANDOMIZE"},
     "ERRNO EPERM", "OK"},

    // prctl options.
    {"StdioAllowsPrSetName", promise("stdio"), {"prctl", "PR_SET_NAME"}, "OK"},
    {"StdioAllowsBecomingUndumpable", promise("stdio"), {"prctl", "PR_SET_DUMPABLE", "0"}, "OK"},
    {"StdioRefusesBecomingDumpable", promise("stdio"), {"prctl", "PR_SET_DUMPABLE", "1"},
     "ERRNO EPERM", "OK"},
    {"StdioRefusesPrSetMm", promise("stdio"), {"prctl", "PR_SET_MM"}, "ERRNO EPERM"},
    {"StdioRefusesPrSetPtracer", promise("stdio"), {"prctl", "PR_SET_PTRACER", "0"},
     "ERRNO EPERM"},
    {"IdAllowsPrSetKeepcaps", promise("stdio id"), {"prctl", "PR_SET_KEEPCAPS", "0"}, "OK"},
    {"StdioRefusesPrSetKeepcaps", promise("stdio"), {"prctl", "PR_SET_KEEPCAPS", "0"},
     "ERRNO EPERM", "OK"},
};

// The built-in default policy: everyday programs work, these never do.
const ProbeCase kDangerousCases[] = {
    {"DefaultRefusesUnshare", kDefault, {"unshare", "CLONE_NEWUSER"}, "ERRNO EPERM", "OK", true},
    {"DefaultRefusesMount", kDefault, {"mount-invalid"}, "ERRNO EPERM", "ERRNO ENOENT", true},
    {"DefaultRefusesPtrace", kDefault, {"ptrace-traceme"}, "ERRNO EPERM", "OK"},
    {"DefaultRefusesSetuid", kDefault, {"setuid"}, "ERRNO EPERM", "OK"},
    {"DefaultRefusesClockSettime", kDefault, {"clock_settime-invalid"}, "ERRNO EPERM",
     "ERRNO EINVAL"},
    {"DefaultRefusesDeviceNodes", kDefault, {"mknod-chr", "{dir}/null"}, "ERRNO EPERM", "OK", true},
    {"DefaultRefusesPrSetMm", kDefault, {"prctl", "PR_SET_MM"}, "ERRNO EPERM"},
    // bpf(BPF_PROG_LOAD=5, NULL, 0): EFAULT or EPERM without least; refused here.
    {"EvenAllPromisesRefuseBpf",
     promise("stdio rpath wpath cpath dpath tmppath fattr chown flock inet unix dns sendfd "
             "recvfd proc thread exec prot_exec id tty settime"),
     {"raw", "321", "5", "0", "0"}, "ERRNO EPERM"},
    // A number newer than the syscall tables: ENOSYS, as from a kernel without it.
    {"DefaultNewerSyscallIsEnosys", kDefault, {"raw", "500"}, "ERRNO ENOSYS", "ERRNO ENOSYS"},
};
// clang-format on

std::vector<std::string> substitute(const std::vector<std::string>& args, const TempDir& dir) {
  std::vector<std::string> out;
  for (std::string a : args) {
    for (auto [from, to] : {std::pair<std::string, std::string>{"{dir}", dir.path()},
                            std::pair<std::string, std::string>{"{probe}", LEAST_PROBE}})
      for (size_t at; (at = a.find(from)) != std::string::npos;) a.replace(at, from.size(), to);
    out.push_back(a);
  }
  return out;
}

std::string first_line(const std::string& s) {
  return s.substr(0, s.find('\n'));
}

int expected_status(const std::string& expect) {
  if (expect.rfind("OK", 0) == 0) return 0;
  if (expect.rfind("ERRNO ", 0) == 0) return errno_from_name(expect.substr(6));
  if (expect.rfind("EXIT ", 0) == 0) return std::stoi(expect.substr(5));
  if (expect.rfind("KILLED ", 0) == 0) {
    for (int s = 1; s < NSIG; ++s)
      if (const char* abbrev = sigabbrev_np(s);
          abbrev && expect.substr(7) == "SIG" + std::string(abbrev))
        return 128 + s;
  }
  ADD_FAILURE() << "bad expectation in the table: " << expect;
  return -1;
}

class ProbeTest : public ::testing::TestWithParam<ProbeCase> {};

TEST_P(ProbeTest, AnswersExactly) {
  const ProbeCase& c = GetParam();
  TempDir dir;
  dir.write("file", "content\n");
  auto r = spawn(least_run(c.least, probe(substitute(c.args, dir))));
  const bool silent = c.expect.rfind("KILLED ", 0) == 0 || c.expect.rfind("EXIT ", 0) == 0;
  EXPECT_EQ(first_line(r.out), silent ? "" : c.expect) << r.describe();
  EXPECT_EQ(r.status, expected_status(c.expect)) << r.describe();
  EXPECT_FALSE(r.signaled) << "least itself was killed\n" << r.describe();
  EXPECT_FALSE(has_line_starting_with(r.err, "least: error")) << r.describe();

  if (c.control.empty() || (c.control_needs_root && geteuid() != 0)) return;
  TempDir control_dir;
  control_dir.write("file", "content\n");
  auto without = spawn(probe(substitute(c.args, control_dir)));
  EXPECT_EQ(first_line(without.out), c.control) << "without least:\n" << without.describe();
}

std::string case_name(const ::testing::TestParamInfo<ProbeCase>& info) {
  return info.param.name;
}

INSTANTIATE_TEST_SUITE_P(Promises, ProbeTest, ::testing::ValuesIn(kPromiseCases), case_name);
INSTANTIATE_TEST_SUITE_P(Arguments, ProbeTest, ::testing::ValuesIn(kArgumentCases), case_name);
INSTANTIATE_TEST_SUITE_P(Dangerous, ProbeTest, ::testing::ValuesIn(kDangerousCases), case_name);

// Every promise of the catalog has a case above that allows something with it.
TEST(ProbeTables, EveryPromiseHasACase) {
  auto r = spawn({LEAST_BINARY, "promises"});
  ASSERT_EQ(r.status, 0) << r.describe();
  std::istringstream in(r.out);
  std::string line;
  int promises = 0;
  while (std::getline(in, line)) {
    std::string name = line.substr(0, line.find(' '));
    if (name.empty()) continue;
    ++promises;
    bool covered = false;
    for (const auto& c : kPromiseCases)
      if (c.least.size() == 2 && c.expect.rfind("KILLED", 0) != 0 &&
          c.expect.rfind("EXIT", 0) != 0) {
        std::string words = " " + c.least[1] + " ";
        covered |= words.find(" " + name + " ") != std::string::npos;
      }
    EXPECT_TRUE(covered) << "no case for promise " << name;
  }
  EXPECT_GE(promises, 21);
}

}  // namespace
}  // namespace least::testing
