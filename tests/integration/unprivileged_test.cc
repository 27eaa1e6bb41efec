// The unprivileged path: least run by nobody (uid and gid 65534, no
// supplementary groups), through setpriv. Needs root to switch users.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "spawn.h"

namespace least::testing {
namespace {

class UnprivilegedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root to become nobody (the suite is not root)";
    if (access("/usr/bin/setpriv", X_OK) != 0) GTEST_SKIP() << "needs /usr/bin/setpriv";
    // nobody must reach the directory; 0711 on mkdtemp's 0700 is enough to
    // traverse it, files inside are created readable or world-writable.
    chmod(dir_.path().c_str(), 0755);
    mkdir((dir_ / "allowed").c_str(), 0755);
    mkdir((dir_ / "other").c_str(), 0755);
    mkdir((dir_ / "work").c_str(), 0777);
    chmod((dir_ / "work").c_str(), 0777);
    dir_.write("allowed/file", "inside\n");
    dir_.write("other/file", "outside\n");
  }
  SpawnResult run(const std::vector<std::string>& least_args,
                  const std::vector<std::string>& command) {
    return spawn(as_nobody(least_run(least_args, command)));
  }
  TempDir dir_;
};

TEST_F(UnprivilegedTest, RunsAsNobody) {
  auto r = run({}, {"id", "-u"});
  EXPECT_EQ(r.status, 0) << r.describe();
  EXPECT_EQ(r.out, "65534\n") << r.describe();
}

TEST_F(UnprivilegedTest, DefaultPolicyShellAndCoreutils) {
  auto r = run({}, {"sh", "-c",
                    "cd " + dir_ / "work" +
                        " && echo hi | tr a-z A-Z && mkdir d && echo x > d/f && cp d/f d/g && "
                        "mv d/g d/h && sort d/h && rm -r d && ls -la /usr > /dev/null && "
                        "printf abc | sha256sum"});
  EXPECT_EQ(r.status, 0) << r.describe();
  EXPECT_EQ(r.out, "HI\nx\nba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  -\n")
      << r.describe();
  EXPECT_FALSE(has_line_starting_with(r.err, "least:")) << r.describe();
}

TEST_F(UnprivilegedTest, RefusedSocket) {
  auto r = run({"--promise", "stdio unix"}, probe({"socket", "AF_INET", "SOCK_STREAM"}));
  EXPECT_EQ(r.out, "ERRNO EPERM\n") << r.describe();
  EXPECT_EQ(r.status, EPERM) << r.describe();
  auto allowed = run({"--promise", "stdio inet"}, probe({"socket", "AF_INET", "SOCK_STREAM"}));
  EXPECT_EQ(allowed.out, "OK\n") << allowed.describe();
  auto diag = run({}, probe({"socket", "AF_NETLINK", "SOCK_RAW", "NETLINK_SOCK_DIAG"}));
  EXPECT_EQ(diag.out, "ERRNO EPERM\n") << diag.describe();
  auto control = spawn(as_nobody(probe({"socket", "AF_NETLINK", "SOCK_RAW", "NETLINK_SOCK_DIAG"})));
  EXPECT_EQ(control.out, "OK\n") << control.describe();
}

TEST_F(UnprivilegedTest, LandlockReadDenial) {
  auto outside = run({"--promise", "stdio rpath", "--read", dir_ / "allowed"},
                     probe({"open", dir_ / "other/file", "O_RDONLY"}));
  EXPECT_EQ(outside.out, "ERRNO EACCES\n") << outside.describe();
  EXPECT_EQ(outside.status, EACCES) << outside.describe();
  auto inside = run({"--promise", "stdio rpath", "--read", dir_ / "allowed"},
                    probe({"open", dir_ / "allowed/file", "O_RDONLY"}));
  EXPECT_EQ(inside.out, "OK\n") << inside.describe();
  // nobody can read the file without least.
  auto control = spawn(as_nobody(probe({"open", dir_ / "other/file", "O_RDONLY"})));
  EXPECT_EQ(control.out, "OK\n") << control.describe();
}

// Without wpath/cpath, Landlock holds writing even where nobody may write.
TEST_F(UnprivilegedTest, ReadOnlyPromisesCannotCreate) {
  std::string target = dir_ / "work/new";
  auto refused = run({"--promise", "stdio rpath"}, probe({"open", target, "O_WRONLY|O_CREAT"}));
  EXPECT_EQ(refused.out, "ERRNO EACCES\n") << refused.describe();
  auto allowed =
      run({"--promise", "stdio rpath cpath"}, probe({"open", target, "O_WRONLY|O_CREAT"}));
  EXPECT_EQ(allowed.out, "OK\n") << allowed.describe();
}

TEST_F(UnprivilegedTest, ExecveRefusal) {
  auto r = run({"--promise", "stdio"}, probe({"execve", LEAST_PROBE, "getpid"}));
  EXPECT_EQ(r.out, "ERRNO EPERM\n") << r.describe();
  EXPECT_EQ(r.status, EPERM) << r.describe();
  EXPECT_TRUE(has_line_starting_with(r.err, "least: blocked execve(")) << r.describe();
  auto allowed = run({"--promise", "stdio exec"}, probe({"execve", LEAST_PROBE, "getpid"}));
  EXPECT_EQ(allowed.out, "OK\n") << allowed.describe();
}

TEST_F(UnprivilegedTest, NoNewPrivsAndAbiKill) {
  auto nnp = run({"--promise", "stdio rpath"}, probe({"status", "NoNewPrivs"}));
  EXPECT_EQ(nnp.out, "OK 1\n") << nnp.describe();
  auto x32 = run({"--promise", "stdio"}, probe({"x32-getpid"}));
  EXPECT_EQ(x32.status, 128 + 31) << x32.describe();
}

// The namespaces, made without privilege through a user namespace.
TEST_F(UnprivilegedTest, OwnProcessTree) {
  auto r = run({}, {"/bin/sh", "-c", "echo $$; ls /proc | grep -c '^[0-9]'"});
  EXPECT_EQ(r.status, 0) << r.describe();
  // The shell is pid 2 under the sandbox's init; /proc shows only the sandbox.
  EXPECT_EQ(r.out.substr(0, 2), "2\n") << r.describe();
  int visible = std::stoi(r.out.substr(2));
  EXPECT_GE(visible, 3);
  EXPECT_LE(visible, 5) << r.describe();
}

TEST_F(UnprivilegedTest, ReadOnlyHostButWritePaths) {
  std::string work = dir_ / "work";
  // No exec promise: sh's builtins are all this needs.
  auto r = run({"--promise", "stdio rpath wpath cpath", "--read", dir_.path(), "--create", work},
               {"/bin/sh", "-c",
                "echo x > " + work + "/made; read l < " + work + "/made; echo $l; echo x > " +
                    dir_.path() + "/other/nope"});
  EXPECT_EQ(r.out, "x\n") << r.describe();
  EXPECT_NE(r.err.find("Read-only file system"), std::string::npos) << r.describe();
}

TEST_F(UnprivilegedTest, NoNetworkMeansLoopbackOnly) {
  auto r = run({"--promise", "stdio rpath"}, {"/bin/cat", "/proc/net/dev"});
  EXPECT_EQ(r.status, 0) << r.describe();
  EXPECT_NE(r.out.find("lo:"), std::string::npos) << r.describe();
  // Header (2 lines) and lo: no other interface exists in the namespace.
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 3) << r.describe();
}

TEST_F(UnprivilegedTest, ProcessLimitFallsBackToRlimitWithWarning) {
  std::string file = dir_.write("pids.least.toml", "[limits]\nprocesses = 5\n");
  auto r =
      run({"-p", file}, {"/bin/sh", "-c", "for i in 1 2 3 4 5 6 7 8; do sleep 1 & done; wait"});
  EXPECT_NE(r.err.find("RLIMIT_NPROC"), std::string::npos) << r.describe();
  EXPECT_NE(r.err.find("Cannot fork"), std::string::npos) << r.describe();
}

}  // namespace
}  // namespace least::testing
