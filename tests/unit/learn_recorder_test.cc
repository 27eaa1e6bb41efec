// The recorder on synthetic events: capture_spec's table, paths made
// absolute against a live process (this one), endpoints, losses, merging.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <climits>
#include <cstring>
#include <filesystem>
#include <string>

#include "base/unique_fd.h"
#include "learn/event_recorder.h"
#include "plan/plan.h"

namespace least::learn {
namespace {

TEST(CaptureSpec, PathsValuesAndAddresses) {
  CaptureSpec openat = capture_spec(SYS_openat);
  EXPECT_EQ(openat.string_args, 1u << 1);
  CaptureSpec rename = capture_spec(SYS_renameat2);
  EXPECT_EQ(rename.string_args, (1u << 1) | (1u << 3));
  CaptureSpec socket = capture_spec(SYS_socket);
  EXPECT_EQ(socket.string_args, 0u);
  EXPECT_TRUE(socket.value_args & (1u << 0)) << "the domain is in the catalog's checks";
  CaptureSpec ioctl = capture_spec(SYS_ioctl);
  EXPECT_EQ(ioctl.value_args, 1u << 1);
  EXPECT_EQ(capture_spec(SYS_mprotect).value_args, 1u << 2);
  EXPECT_EQ(capture_spec(SYS_clone).value_args, 1u << 0);
  CaptureSpec connect = capture_spec(SYS_connect);
  EXPECT_EQ(connect.sockaddr_arg, 1);
  EXPECT_EQ(connect.sockaddr_len_arg, 2);
  EXPECT_FALSE(capture_spec(SYS_read).any()) << "read needs nothing: counted only";
  EXPECT_FALSE(capture_spec(SYS_getpid).any());
  EXPECT_FALSE(capture_spec(-1).any());
  EXPECT_FALSE(capture_spec(100000).any());
}

SyscallEvent event(int nr, std::array<uint64_t, 6> args) {
  SyscallEvent e;
  e.pid = getpid();
  e.nr = nr;
  e.args = args;
  return e;
}

TEST(EventRecorder, OpenFlagsBecomeAccess) {
  Recording r;
  EventRecorder rec(r);
  auto open = [&](const char* path, uint64_t flags) {
    SyscallEvent e = event(SYS_openat, {static_cast<uint64_t>(AT_FDCWD), 1, flags, 0, 0, 0});
    e.memory[1] = path;
    rec.record(e);
  };
  open("/etc/hostname", O_RDONLY | O_CLOEXEC);
  open("/tmp/out", O_WRONLY | O_CREAT | O_TRUNC);
  open("/tmp/rw", O_RDWR);
  open("/etc", O_PATH);
  rec.finish();
  EXPECT_EQ(r.paths["/etc/hostname"], plan::kPathRead);
  EXPECT_EQ(r.paths["/tmp/out"], plan::kPathWrite | plan::kPathCreate);
  EXPECT_EQ(r.paths["/tmp/rw"], plan::kPathRead | plan::kPathWrite);
  EXPECT_EQ(r.paths.count("/etc"), 0u) << "O_PATH only looks: nothing to grant, not kept";
  EXPECT_EQ(r.syscalls["openat"].count, 4u);
  EXPECT_TRUE(r.lost.empty());
}

TEST(EventRecorder, RelativePathsAgainstCwdAndDirfd) {
  char cwd[PATH_MAX];
  ASSERT_TRUE(getcwd(cwd, sizeof cwd));
  std::string real_cwd = std::filesystem::canonical(cwd);
  Recording r;
  EventRecorder rec(r);
  SyscallEvent e = event(SYS_openat, {static_cast<uint64_t>(AT_FDCWD), 1, O_RDONLY, 0, 0, 0});
  e.memory[1] = "./a/../b//c";
  rec.record(e);
  UniqueFd dir(open("/usr/share", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(dir.valid());
  SyscallEvent at = event(SYS_mkdirat, {static_cast<uint64_t>(dir.get()), 1, 0755, 0, 0, 0});
  at.memory[1] = "new-dir";
  rec.record(at);
  // A process that does not exist: its cwd cannot be read.
  SyscallEvent gone = event(SYS_openat, {static_cast<uint64_t>(AT_FDCWD), 1, 0, 0, 0, 0});
  gone.pid = 0x3fffffff;
  gone.memory[1] = "relative";
  rec.record(gone);
  // Unreadable memory.
  SyscallEvent unreadable = event(SYS_openat, {static_cast<uint64_t>(AT_FDCWD), 1, 0, 0, 0, 0});
  rec.record(unreadable);
  rec.finish();
  rec.finish();  // once only
  EXPECT_EQ(r.paths.count(real_cwd + "/b/c"), 1u) << real_cwd;
  EXPECT_EQ(r.paths["/usr/share/new-dir"], plan::kPathCreate);
  ASSERT_EQ(r.lost.size(), 2u);
  EXPECT_EQ(r.lost[0].rfind("1 relative paths", 0), 0u) << r.lost[0];
  EXPECT_EQ(r.lost[1].rfind("1 path or address arguments", 0), 0u) << r.lost[1];
}

TEST(EventRecorder, SymlinkedDirectoriesResolvedButNotProc) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("least-recorder-" + std::to_string(getpid()));
  fs::create_directories(dir / "real/sub");
  fs::create_symlink(dir / "real", dir / "link");
  fs::create_symlink("sub", dir / "real/inner");  // a link inside a linked directory
  fs::create_symlink(dir / "real/sub", dir / "deep");
  Recording r;
  EventRecorder rec(r);
  SyscallEvent e = event(SYS_openat, {static_cast<uint64_t>(AT_FDCWD), 1, O_RDONLY, 0, 0, 0});
  e.memory[1] = (dir / "link/file").string();
  rec.record(e);
  e.memory[1] = (dir / "link/inner/file2").string();
  rec.record(e);
  // ".." after a link is the target's parent, as the kernel resolves it.
  e.memory[1] = (dir / "deep/../file3").string();
  rec.record(e);
  e.memory[1] = "/proc/self/status";
  rec.record(e);
  e.memory[1] = "/dev/fd/0";
  rec.record(e);
  fs::remove_all(dir);
  std::string real = fs::canonical(fs::temp_directory_path()).string() + "/least-recorder-" +
                     std::to_string(getpid()) + "/real";
  EXPECT_EQ(r.paths.count(real + "/file"), 1u);
  EXPECT_EQ(r.paths.count(real + "/sub/file2"), 1u);
  EXPECT_EQ(r.paths.count(real + "/file3"), 1u);
  EXPECT_EQ(r.paths.count("/proc/self/status"), 1u);
  EXPECT_EQ(r.paths.count("/dev/fd/0"), 1u);
}

TEST(EventRecorder, EndpointsAndValues) {
  Recording r;
  EventRecorder rec(r);
  // A real socket of ours, so that its protocol can be read.
  UniqueFd udp(socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(udp.valid());
  sockaddr_in6 in6{};
  in6.sin6_family = AF_INET6;
  in6.sin6_port = htons(5353);
  in6.sin6_addr = in6addr_loopback;
  SyscallEvent c = event(SYS_connect, {static_cast<uint64_t>(udp.get()), 1, sizeof in6, 0, 0, 0});
  c.memory[1] = std::string(reinterpret_cast<const char*>(&in6), sizeof in6);
  rec.record(c);
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  std::memcpy(un.sun_path, "\0abstract", 9);
  SyscallEvent b = event(SYS_bind, {99, 1, 0, 0, 0, 0});
  b.memory[1] =
      std::string(reinterpret_cast<const char*>(&un), offsetof(sockaddr_un, sun_path) + 9);
  rec.record(b);
  for (uint64_t pid = 1; pid <= 300; ++pid) rec.record(event(SYS_prlimit64, {pid, 7, 0, 0, 0, 0}));
  rec.count(SYS_read, 1000);
  rec.finish();
  EXPECT_EQ(r.connects.count(Endpoint{"udp", "::1", 5353}), 1u);
  EXPECT_EQ(r.binds.count(Endpoint{"unix", "@abstract", 0}), 1u);
  EXPECT_EQ(r.syscalls["prlimit64"].values[0].size(), 256u);
  EXPECT_EQ(r.syscalls["prlimit64"].values.count(1), 0u) << "not an argument the catalog tests";
  EXPECT_EQ(r.syscalls["read"].count, 1000u);
  ASSERT_EQ(r.lost.size(), 1u);
  EXPECT_NE(r.lost[0].find("44 argument values"), std::string::npos) << r.lost[0];
}

TEST(EventRecorder, ProtocolFromTheSocketCallsWhenTheSocketIsGone) {
  Recording r;
  EventRecorder rec(r);
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(8080);
  in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const std::string bytes(reinterpret_cast<const char*>(&in), sizeof in);
  auto gone = [](int nr, std::array<uint64_t, 6> args) {
    SyscallEvent e = event(nr, args);
    e.pid = 0x3ffffff0;  // no such process: its descriptors cannot be borrowed
    return e;
  };
  rec.record(gone(SYS_socket, {AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0, 0, 0, 0}));
  SyscallEvent bind = gone(SYS_bind, {3, 1, sizeof in, 0, 0, 0});
  bind.memory[1] = bytes;
  rec.record(bind);
  // Another thread with both kinds: which one is unknown, and said.
  auto both = [&](int nr, std::array<uint64_t, 6> args) {
    SyscallEvent e = gone(nr, args);
    e.pid = 0x3ffffff1;
    return e;
  };
  rec.record(both(SYS_socket, {AF_INET6, SOCK_STREAM, 0, 0, 0, 0}));
  rec.record(both(SYS_socket, {AF_INET, SOCK_DGRAM, 0, 0, 0, 0}));
  SyscallEvent connect = both(SYS_connect, {4, 1, sizeof in, 0, 0, 0});
  connect.memory[1] = bytes;
  rec.record(connect);
  rec.finish();
  EXPECT_EQ(r.binds.count(Endpoint{"tcp", "127.0.0.1", 8080}), 1u);
  EXPECT_TRUE(r.connects.empty());
  ASSERT_EQ(r.lost.size(), 1u);
  EXPECT_NE(r.lost[0].find("1 network endpoints"), std::string::npos) << r.lost[0];
}

TEST(MergeRecording, UnionOfRuns) {
  Recording a, b;
  a.syscalls["read"].count = 2;
  a.syscalls["socket"].values[0] = {2};
  a.paths["/etc/a"] = plan::kPathRead;
  a.peak_processes = 3;
  a.ending = "exited with status 0";
  b.syscalls["read"].count = 3;
  b.syscalls["socket"].values[0] = {10};
  b.paths["/etc/a"] = plan::kPathWrite;
  b.connects.insert({"tcp", "127.0.0.1", 80});
  b.peak_processes = 2;
  b.peak_open_files = 9;
  b.lost = {"1 thing"};
  b.ending = "killed by SIGSEGV";
  b.complete = false;
  b.exit_code = 139;
  merge_recording(a, b);
  EXPECT_EQ(a.syscalls["read"].count, 5u);
  EXPECT_EQ(a.syscalls["socket"].values[0], (std::set<uint64_t>{2, 10}));
  EXPECT_EQ(a.paths["/etc/a"], plan::kPathRead | plan::kPathWrite);
  EXPECT_EQ(a.connects.size(), 1u);
  EXPECT_EQ(a.peak_processes, 3u);
  EXPECT_EQ(a.peak_open_files, 9u);
  EXPECT_EQ(a.lost.size(), 1u);
  EXPECT_FALSE(a.complete);
  EXPECT_EQ(a.ending, "killed by SIGSEGV");
  EXPECT_EQ(a.exit_code, 139);
}

}  // namespace
}  // namespace least::learn
