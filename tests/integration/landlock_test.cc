// Landlock: --read, --write, --create and --exec limit the filesystem beneath
// the promises (which only say which syscalls exist).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>
#include <vector>

#include "spawn.h"

namespace least::testing {
namespace {

const std::string kFilePromises = "stdio rpath wpath cpath";

class LandlockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    mkdir((dir_ / "allowed").c_str(), 0755);
    mkdir((dir_ / "other").c_str(), 0755);
    dir_.write("allowed/file", "inside\n");
    dir_.write("other/file", "outside\n");
  }
  SpawnResult run(const std::vector<std::string>& flags, const std::vector<std::string>& args) {
    std::vector<std::string> least = {"--promise", kFilePromises};
    least.insert(least.end(), flags.begin(), flags.end());
    return spawn(least_run(least, probe(args)));
  }
  std::string allowed() const { return dir_ / "allowed"; }
  std::string in(const std::string& name) const { return dir_ / ("allowed/" + name); }
  std::string out(const std::string& name) const { return dir_ / ("other/" + name); }

  TempDir dir_;
};

TEST_F(LandlockTest, ReadBeneathReadPath) {
  auto r = run({"--read", allowed()}, {"open", in("file"), "O_RDONLY"});
  EXPECT_EQ(r.out, "OK\n") << r.describe();
  EXPECT_EQ(r.status, 0) << r.describe();
}

TEST_F(LandlockTest, ReadOutsideIsEacces) {
  auto r = run({"--read", allowed()}, {"open", out("file"), "O_RDONLY"});
  EXPECT_EQ(r.out, "ERRNO EACCES\n") << r.describe();
  EXPECT_EQ(r.status, EACCES) << r.describe();
  // Without --read the same open works: the promises alone allow it.
  auto control =
      spawn(least_run({"--promise", kFilePromises}, probe({"open", out("file"), "O_RDONLY"})));
  EXPECT_EQ(control.out, "OK\n") << control.describe();
}

TEST_F(LandlockTest, ListingOutsideIsEacces) {
  auto r = run({"--read", allowed()}, {"open", dir_ / "other", "O_RDONLY|O_DIRECTORY"});
  EXPECT_EQ(r.out, "ERRNO EACCES\n") << r.describe();
}

// Outside the write and create paths the mount namespace shows the host
// read-only, so that layer answers first (EROFS); Landlock stands behind it
// (CreateNeedsCreatePath shows Landlock alone, inside a writable path).
TEST_F(LandlockTest, WriteUnderReadOnlyIsRefused) {
  auto r = run({"--read", allowed()}, {"open", in("file"), "O_WRONLY"});
  EXPECT_EQ(r.out, "ERRNO EROFS\n") << r.describe();
  auto trunc = run({"--read", allowed()}, {"truncate", in("file"), "0"});
  EXPECT_EQ(trunc.out, "ERRNO EROFS\n") << trunc.describe();
}

TEST_F(LandlockTest, WriteUnderWritePath) {
  auto r = run({"--write", allowed()}, {"open", in("file"), "O_WRONLY|O_TRUNC"});
  EXPECT_EQ(r.out, "OK\n") << r.describe();
  auto trunc = run({"--write", allowed()}, {"truncate", in("file"), "0"});
  EXPECT_EQ(trunc.out, "OK\n") << trunc.describe();
}

TEST_F(LandlockTest, WritePathStillRefusesOtherPaths) {
  auto r = run({"--write", allowed()}, {"open", out("file"), "O_WRONLY"});
  EXPECT_EQ(r.out, "ERRNO EROFS\n") << r.describe();
}

TEST_F(LandlockTest, CreateNeedsCreatePath) {
  auto refused = run({"--write", allowed()}, {"open", in("new"), "O_WRONLY|O_CREAT"});
  EXPECT_EQ(refused.out, "ERRNO EACCES\n") << refused.describe();
  auto mkdir_refused = run({"--write", allowed()}, {"mkdir", in("newdir")});
  EXPECT_EQ(mkdir_refused.out, "ERRNO EACCES\n") << mkdir_refused.describe();
  auto unlink_refused = run({"--write", allowed()}, {"unlink", in("file")});
  EXPECT_EQ(unlink_refused.out, "ERRNO EACCES\n") << unlink_refused.describe();

  auto created = run({"--create", allowed()}, {"open", in("new"), "O_WRONLY|O_CREAT"});
  EXPECT_EQ(created.out, "OK\n") << created.describe();
  struct stat st;
  EXPECT_EQ(stat(in("new").c_str(), &st), 0) << "the file was not created";
  auto made = run({"--create", allowed()}, {"mkdir", in("newdir")});
  EXPECT_EQ(made.out, "OK\n") << made.describe();
  auto removed = run({"--create", allowed()}, {"unlink", in("file")});
  EXPECT_EQ(removed.out, "OK\n") << removed.describe();
}

TEST_F(LandlockTest, CreateOutsideIsRefused) {
  auto r = run({"--create", allowed()}, {"open", out("new"), "O_WRONLY|O_CREAT"});
  EXPECT_EQ(r.out, "ERRNO EROFS\n") << r.describe();
}

TEST_F(LandlockTest, ExecOutsideExecPathsIsEacces) {
  // The program itself is allowed; another copy of it elsewhere is not.
  std::string copy = dir_ / "other/probe-copy";
  auto cp = spawn({"/bin/cp", LEAST_PROBE, copy});
  ASSERT_EQ(cp.status, 0) << cp.describe();
  auto r = spawn(least_run({"--promise", "stdio rpath exec", "--read", dir_.path()},
                           probe({"execve", copy, "getpid"})));
  EXPECT_EQ(r.out, "ERRNO EACCES\n") << r.describe();
  auto allowed = spawn(least_run({"--promise", "stdio rpath exec", "--exec", dir_ / "other"},
                                 probe({"execve", copy, "getpid"})));
  EXPECT_EQ(allowed.out, "OK\n") << allowed.describe();
}

// Without [filesystem] paths the promises alone decide: seccomp lets open()
// through with any flags for rpath, so Landlock must refuse the writing.
TEST_F(LandlockTest, ReadOnlyPromisesCannotWriteOrCreate) {
  auto promises = [&](const char* p, const std::vector<std::string>& args) {
    return spawn(least_run({"--promise", p}, probe(args)));
  };
  auto create = promises("stdio rpath", {"open", out("new"), "O_WRONLY|O_CREAT"});
  EXPECT_EQ(create.out, "ERRNO EACCES\n") << create.describe();
  struct stat st;
  EXPECT_NE(stat(out("new").c_str(), &st), 0) << "the file was created";
  auto write = promises("stdio rpath", {"open", out("file"), "O_WRONLY"});
  EXPECT_EQ(write.out, "ERRNO EACCES\n") << write.describe();
  auto rdwr = promises("stdio rpath", {"open", out("file"), "O_RDWR"});
  EXPECT_EQ(rdwr.out, "ERRNO EACCES\n") << rdwr.describe();
  auto read = promises("stdio rpath", {"open", out("file"), "O_RDONLY"});
  EXPECT_EQ(read.out, "OK\n") << read.describe();
  auto devnull = promises("stdio rpath", {"open", "/dev/null", "O_RDWR"});
  EXPECT_EQ(devnull.out, "OK\n") << devnull.describe();

  // wpath: existing files may be written, nothing may be created.
  auto written = promises("stdio rpath wpath", {"open", out("file"), "O_WRONLY|O_TRUNC"});
  EXPECT_EQ(written.out, "OK\n") << written.describe();
  auto not_created = promises("stdio rpath wpath", {"open", out("new"), "O_WRONLY|O_CREAT"});
  EXPECT_EQ(not_created.out, "ERRNO EACCES\n") << not_created.describe();
  // cpath: both.
  auto created = promises("stdio rpath cpath", {"open", out("new"), "O_WRONLY|O_CREAT"});
  EXPECT_EQ(created.out, "OK\n") << created.describe();
}

TEST_F(LandlockTest, TmppathCreatesOnlyInTmp) {
  TempDir tmp;  // beneath /tmp
  std::string inside = tmp / "scratch";
  auto r = spawn(
      least_run({"--promise", "stdio rpath tmppath"}, probe({"open", inside, "O_WRONLY|O_CREAT"})));
  EXPECT_EQ(r.out, "OK\n") << r.describe();
  std::string home_file = "/var/tmp/least-tmppath-probe";
  auto outside = spawn(least_run({"--promise", "stdio rpath tmppath"},
                                 probe({"open", home_file, "O_WRONLY|O_CREAT"})));
  EXPECT_EQ(outside.out, "ERRNO EACCES\n") << outside.describe();
  unlink(home_file.c_str());
}

TEST_F(LandlockTest, TcpConnectLimitedToListedPorts) {
  auto r = spawn(
      least_run({"--promise", "stdio inet", "--connect", "tcp:1"}, probe({"connect-tcp", "2"})));
  EXPECT_EQ(r.out, "ERRNO EACCES\n") << r.describe();
  auto bind =
      spawn(least_run({"--promise", "stdio inet", "--connect", "tcp:1"}, probe({"bind-tcp", "0"})));
  EXPECT_EQ(bind.out, "ERRNO EACCES\n") << bind.describe();
}

}  // namespace
}  // namespace least::testing
