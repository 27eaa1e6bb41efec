// The eBPF session against real processes: a child that waits (as the
// launcher's first process does), is tracked, does setup of its own that
// must not be recorded, then execs a workload whose calls are known.
#include "learn/ebpf_session.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

namespace least::learn {
namespace {

namespace fs = std::filesystem;

// Our own table, so the test does not depend on capture_spec's choices.
CaptureSpec test_spec(int nr) {
  CaptureSpec c;
  switch (nr) {
    case SYS_execve:
    case SYS_chdir:
      c.string_args = 1;
      break;
    case SYS_openat:
    case SYS_newfstatat:
      c.string_args = 1 << 1;
      c.value_args = 1 << 2;
      break;
    case SYS_bind:
    case SYS_connect:
      c.sockaddr_arg = 1;
      c.sockaddr_len_arg = 2;
      break;
    case SYS_fcntl:
      c.value_args = 1 << 1;  // no memory to copy: values kept in the kernel
      break;
    case SYS_symlink:
      c.string_args = 0b11;
      break;
    case SYS_symlinkat:
      c.string_args = 0b101;
      break;
    default:
      break;
  }
  return c;
}

struct Traced {
  std::vector<SyscallEvent> events;
  std::array<uint64_t, kEbpfMaxSyscalls> counts{};
  EbpfLosses losses;
  std::vector<ArgumentValue> values;
  int status = -1;
};

// Forks a child that waits for "go", is tracked meanwhile, opens
// /etc/hostname (its own setup, like the launcher's), then runs argv.
// Nothing is pinned unless a test names a root (its own BPF filesystem).
Traced trace(const std::vector<std::string>& argv, const std::string& cwd,
             const std::string& pin_root = "") {
  Traced t;
  auto session =
      EbpfSession::open([&](const SyscallEvent& e) { t.events.push_back(e); }, test_spec, pin_root);
  EXPECT_TRUE(session.ok()) << session.error().str();
  if (!session) return t;
  int go[2];
  EXPECT_EQ(pipe2(go, O_CLOEXEC), 0);
  pid_t child = fork();
  if (child == 0) {
    char c;
    if (read(go[0], &c, 1) != 1) _exit(120);
    int fd = open("/etc/hostname", O_RDONLY);
    if (fd >= 0) close(fd);
    if (chdir(cwd.c_str()) != 0) _exit(121);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(go[0]);
  auto tracked = (*session)->track(child);
  EXPECT_TRUE(tracked.ok()) << tracked.error().str();
  EXPECT_EQ(write(go[1], "g", 1), 1);
  close(go[1]);
  // Read while it runs, as the launcher's loop does.
  for (;;) {
    struct pollfd p = {(*session)->epoll_fd(), POLLIN, 0};
    poll(&p, 1, 20);
    auto r = (*session)->consume();
    EXPECT_TRUE(r.ok()) << r.error().str();
    int status;
    if (waitpid(child, &status, WNOHANG) == child) {
      t.status = status;
      break;
    }
  }
  auto r = (*session)->consume();
  EXPECT_TRUE(r.ok()) << r.error().str();
  auto counts = (*session)->counts();
  EXPECT_TRUE(counts.ok());
  if (counts) t.counts = *counts;
  auto losses = (*session)->losses();
  EXPECT_TRUE(losses.ok());
  if (losses) t.losses = *losses;
  auto values = (*session)->values();
  EXPECT_TRUE(values.ok());
  if (values) t.values = *values;
  return t;
}

std::set<std::string> paths_of(const Traced& t, int nr, int arg) {
  std::set<std::string> out;
  for (const auto& e : t.events)
    if (e.nr == nr && e.memory[arg]) out.insert(*e.memory[arg]);
  return out;
}

class EbpfSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root for BPF";
    char tmpl[] = "/tmp/least-ebpf-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    fs::create_directories(dir_ + "/tree/sub/deeper");
    std::ofstream(dir_ + "/tree/top.txt") << "top\n";
    std::ofstream(dir_ + "/tree/sub/deeper/leaf.txt") << "leaf\n";
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  std::string dir_;
};

TEST_F(EbpfSessionTest, RecordsTheProgramFromItsExecWithRelativePathsMadeAbsolute) {
  // tar walks the tree with openat/newfstatat relative to directory fds;
  // cat opens a path relative to the cwd after cd.
  Traced t = trace(
      {"/bin/sh", "-c", "tar cf /dev/null tree && cd tree/sub && cat ../top.txt >/dev/null"}, dir_);
  ASSERT_TRUE(WIFEXITED(t.status) && WEXITSTATUS(t.status) == 0) << t.status;

  auto execs = paths_of(t, SYS_execve, 0);
  EXPECT_TRUE(execs.count("/bin/sh")) << "the root's own execve starts the recording";
  // The shell runs tar and cat through PATH: at least one candidate each.
  bool tar = false, cat = false;
  for (const auto& p : execs) {
    tar |= p.ends_with("/tar");
    cat |= p.ends_with("/cat");
  }
  EXPECT_TRUE(tar && cat) << "children are followed";

  std::set<std::string> opened = paths_of(t, SYS_openat, 1);
  for (const auto& p : paths_of(t, SYS_newfstatat, 1)) opened.insert(p);
  EXPECT_FALSE(opened.count("/etc/hostname")) << "the launcher's setup is not recorded";
  // openat(dirfd, "leaf.txt") from tar, resolved against the fd's directory.
  EXPECT_TRUE(opened.count(dir_ + "/tree/sub/deeper/leaf.txt"));
  // open("../top.txt") after cd tree/sub, against the cwd of that moment.
  EXPECT_TRUE(opened.count(dir_ + "/tree/sub/../top.txt"));
  for (const auto& p : opened)
    if (!p.empty()) {
      EXPECT_EQ(p[0], '/') << p;
    }

  // Calls with events are not also counted in the kernel, the rest are.
  EXPECT_EQ(t.counts[SYS_openat], 0u);
  EXPECT_EQ(t.counts[SYS_execve], 0u);
  EXPECT_GE(t.counts[SYS_exit_group], 3u);  // sh, tar, cat at least
  EXPECT_GE(t.counts[SYS_read], 1u);
  EXPECT_EQ(t.losses.ring_buffer_full + t.losses.too_long, 0u);
}

TEST_F(EbpfSessionTest, FollowsThreadsAndCapturesAddresses) {
  std::ofstream(dir_ + "/prog.py") << R"(
import socket, threading
def work():
    open("tree/top.txt").read()
    s = socket.socket(); s.bind(("127.0.0.1", 0)); s.close()
t = threading.Thread(target=work); t.start(); t.join()
)";
  Traced t = trace({"python3", "prog.py"}, dir_);
  ASSERT_TRUE(WIFEXITED(t.status) && WEXITSTATUS(t.status) == 0) << t.status;

  pid_t main_tid = 0, thread_tid = 0;
  for (const auto& e : t.events) {
    if (e.nr == SYS_execve && e.memory[0] && e.memory[0]->ends_with("python3")) main_tid = e.pid;
    if (e.nr == SYS_openat && e.memory[1] == dir_ + "/tree/top.txt") thread_tid = e.pid;
  }
  EXPECT_NE(main_tid, 0);
  EXPECT_NE(thread_tid, 0) << "the thread's relative open, resolved";
  EXPECT_NE(thread_tid, main_tid) << "recorded in the thread, not the main thread";

  bool bound = false;
  for (const auto& e : t.events) {
    if (e.nr != SYS_bind || !e.memory[1]) continue;
    ASSERT_GE(e.memory[1]->size(), sizeof(sockaddr_in));
    sockaddr_in in;
    memcpy(&in, e.memory[1]->data(), sizeof in);
    bound |= in.sin_family == AF_INET && in.sin_addr.s_addr == htonl(INADDR_LOOPBACK);
  }
  EXPECT_TRUE(bound);
}

TEST_F(EbpfSessionTest, ValuesOfCallsWithoutMemoryAreKeptInTheKernelOnce) {
  // F_GETFD (1) three times, F_GETFL (3) once: no event, each value once.
  Traced t =
      trace({"python3", "-c", "import fcntl\nfor c in (1, 1, 3, 1): fcntl.fcntl(0, c)"}, dir_);
  ASSERT_TRUE(WIFEXITED(t.status) && WEXITSTATUS(t.status) == 0) << t.status;
  for (const auto& e : t.events) EXPECT_NE(e.nr, SYS_fcntl) << "fcntl sent an event";
  std::set<uint64_t> cmds;
  for (const auto& v : t.values) {
    EXPECT_EQ(v.nr, SYS_fcntl) << "only fcntl has value arguments here";
    EXPECT_EQ(v.arg, 1);
    EXPECT_TRUE(cmds.insert(v.value).second) << "value " << v.value << " kept twice";
  }
  EXPECT_TRUE(cmds.count(1) && cmds.count(3));
  EXPECT_GE(t.counts[SYS_fcntl], 4u);
  EXPECT_EQ(t.losses.values_full, 0u);
}

TEST_F(EbpfSessionTest, SymlinkTargetsStayAsWritten) {
  Traced t = trace({"ln", "-s", "../target", "link"}, dir_ + "/tree");
  ASSERT_TRUE(WIFEXITED(t.status) && WEXITSTATUS(t.status) == 0) << t.status;
  // ln uses symlinkat(target, AT_FDCWD, link) or symlink(target, link).
  int seen = 0;
  for (const auto& e : t.events) {
    if (e.nr == SYS_symlink) {
      EXPECT_EQ(e.memory[0], "../target");
      EXPECT_EQ(e.memory[1], dir_ + "/tree/link");
      ++seen;
    } else if (e.nr == SYS_symlinkat) {
      EXPECT_EQ(e.memory[0], "../target");
      EXPECT_EQ(e.memory[2], dir_ + "/tree/link");
      ++seen;
    }
  }
  EXPECT_EQ(seen, 1);
}

TEST_F(EbpfSessionTest, UntrackedProcessesAreNotRecorded) {
  Traced t = trace({"true"}, dir_);
  // Our own calls while it ran (polls, reads of the ring) are not counted.
  EXPECT_EQ(t.counts[SYS_poll] + t.counts[SYS_epoll_wait], 0u);
  EXPECT_EQ(t.counts[SYS_wait4], 0u);
  EXPECT_GE(t.counts[SYS_exit_group], 1u);
}

// The pinned set, on a BPF filesystem of the test's own, mounted in a mount
// namespace of its own so that the machine's /sys/fs/bpf is never touched.
class EbpfPinsTest : public EbpfSessionTest {
 protected:
  void SetUp() override {
    EbpfSessionTest::SetUp();
    if (IsSkipped()) return;
    static bool unshared = false;
    if (!unshared) {
      ASSERT_EQ(unshare(CLONE_NEWNS), 0) << strerror(errno);
      ASSERT_EQ(mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr), 0) << strerror(errno);
      unshared = true;
    }
    fs::create_directories(dir_ + "/bpf");
    ASSERT_EQ(mount("bpf", (dir_ + "/bpf").c_str(), "bpf", 0, nullptr), 0) << strerror(errno);
    root_ = dir_ + "/bpf/least";
  }
  void TearDown() override {
    if (!root_.empty()) umount2((dir_ + "/bpf").c_str(), MNT_DETACH);
    EbpfSessionTest::TearDown();
  }
  std::string root_;
};

TEST_F(EbpfPinsTest, ASecondRunReusesThePinnedProgramsAndStartsClean) {
  std::vector<SyscallEvent> first_events;
  auto first = EbpfSession::open([&](const SyscallEvent& e) { first_events.push_back(e); },
                                 test_spec, root_);
  ASSERT_TRUE(first.ok()) << first.error().str();
  EXPECT_FALSE((*first)->reused());
  ASSERT_FALSE((*first)->pin_dir().empty());
  EXPECT_TRUE(fs::exists((*first)->pin_dir() + "/prog_on_sys_enter"));

  // A program tracked by the first run outlives it: it execs (an event the
  // first run never reads), then waits for a line and reads a file.
  int go[2], line[2];
  ASSERT_EQ(pipe2(go, O_CLOEXEC), 0);
  ASSERT_EQ(pipe(line), 0);
  pid_t stale = fork();
  if (stale == 0) {
    char c;
    if (read(go[0], &c, 1) != 1) _exit(120);
    dup2(line[0], 0);
    std::string cat = "read x; cat " + dir_ + "/tree/top.txt >/dev/null";
    execl("/bin/sh", "sh", "-c", cat.c_str(), nullptr);
    _exit(127);
  }
  close(go[0]);
  close(line[0]);
  ASSERT_TRUE((*first)->track(stale).ok());
  ASSERT_EQ(write(go[1], "g", 1), 1);
  close(go[1]);
  usleep(100 * 1000);  // sh has exec'd and waits on its stdin
  first->reset();      // the first run ends: detached, its events unread

  Traced t;
  auto second =
      EbpfSession::open([&](const SyscallEvent& e) { t.events.push_back(e); }, test_spec, root_);
  ASSERT_TRUE(second.ok()) << second.error().str();
  EXPECT_TRUE((*second)->reused()) << "the first run's programs, not a fresh load";
  // The stale program now reads the file while the second run watches.
  ASSERT_EQ(write(line[1], "x\n", 2), 2);
  close(line[1]);
  int status;
  ASSERT_EQ(waitpid(stale, &status, 0), stale);
  ASSERT_TRUE((*second)->consume().ok());
  for (const auto& e : t.events) {
    EXPECT_NE(e.pid, stale) << "an event of the first run's tree (nr " << e.nr << ")";
    for (const auto& m : e.memory)
      if (m) {
        EXPECT_EQ(m->find("top.txt"), std::string::npos) << *m;
      }
  }
  auto counts = (*second)->counts();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ((*counts)[SYS_exit_group] + (*counts)[SYS_read], 0u) << "counted from the stale tree";
}

TEST_F(EbpfPinsTest, ConcurrentRunsTakeTheirOwnSlot) {
  auto held = EbpfSession::open([](const SyscallEvent&) {}, test_spec, root_);
  ASSERT_TRUE(held.ok()) << held.error().str();
  // While the first holds slot 0, a second run loads into slot 1 and records.
  Traced t = trace({"/bin/sh", "-c", "cat tree/top.txt >/dev/null"}, dir_, root_);
  ASSERT_TRUE(WIFEXITED(t.status) && WEXITSTATUS(t.status) == 0) << t.status;
  EXPECT_TRUE(paths_of(t, SYS_openat, 1).count(dir_ + "/tree/top.txt"));
  EXPECT_TRUE(fs::exists((*held)->pin_dir() + "/prog_on_sys_enter"));
  size_t slots = 0;
  for (const auto& e : fs::directory_iterator(fs::path((*held)->pin_dir()).parent_path()))
    slots += fs::exists(e.path() / "prog_on_sys_enter");
  EXPECT_EQ(slots, 2u);
  held->reset();
  // With both free, a third run reuses one of them.
  Traced again = trace({"/bin/sh", "-c", "cat tree/top.txt >/dev/null"}, dir_, root_);
  EXPECT_TRUE(paths_of(again, SYS_openat, 1).count(dir_ + "/tree/top.txt"));
}

TEST(EbpfDirfd, AtCallsPointToTheirDirectoryDescriptor) {
  EXPECT_EQ(dirfd_arg_of(SYS_openat, 1), 0);
  EXPECT_EQ(dirfd_arg_of(SYS_renameat2, 3), 2);
  EXPECT_EQ(dirfd_arg_of(SYS_symlinkat, 0), -2);
  EXPECT_EQ(dirfd_arg_of(SYS_symlinkat, 2), 1);
  EXPECT_EQ(dirfd_arg_of(SYS_open, 0), -1);
  EXPECT_EQ(dirfd_arg_of(SYS_fanotify_mark, 4), 3);
}

}  // namespace
}  // namespace least::learn
