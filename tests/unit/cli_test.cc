// The command line, driven in-process: parsing returns a status, never exits.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>

#include "cli/app.h"

namespace least::cli {
namespace {

std::string last_out, last_err;

int app(std::vector<std::string> args) {
  args.insert(args.begin(), "least");
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  int rc = run_app(args);
  last_out = testing::internal::GetCapturedStdout();
  last_err = testing::internal::GetCapturedStderr();
  return rc;
}

TEST(Cli, HelpAndUsage) {
  EXPECT_EQ(app({"--help"}), kExitOk);
  EXPECT_NE(last_out.find("least run"), std::string::npos);
  EXPECT_EQ(app({"run", "--help"}), kExitOk);
  EXPECT_NE(last_out.find("--promise"), std::string::npos);
  EXPECT_EQ(app({}), kExitUsage);
  EXPECT_EQ(app({"frobnicate"}), kExitUsage);
  EXPECT_EQ(app({"explain", "--no-such-flag"}), kExitUsage);
  EXPECT_EQ(app({"run", "--no-such-flag", "--", "true"}), kExitLeastFailed);
}

TEST(Cli, ExplainDefaultAndFlags) {
  EXPECT_EQ(app({"explain"}), kExitOk);
  EXPECT_NE(last_out.find("the built-in default (no promises given)"), std::string::npos);
  EXPECT_NE(last_out.find("Docker allows 363"), std::string::npos);
  EXPECT_EQ(app({"explain", "--promise", "stdio", "--allow-syscall", "ptrace"}), kExitOk)
      << last_err;
  EXPECT_NE(last_out.find("Dangerous syscalls still allowed\n  ptrace"), std::string::npos)
      << last_out;
  EXPECT_NE(last_err.find("warning"), std::string::npos);
  EXPECT_EQ(app({"explain", "--promise", "stdoi"}), kExitUsage);
  EXPECT_NE(last_err.find("did you mean \"stdio\"?"), std::string::npos);
  EXPECT_EQ(app({"explain", "-p", "/nonexistent.least.toml"}), kExitUsage);
  EXPECT_NE(last_err.find("cannot read the policy"), std::string::npos);
  EXPECT_EQ(app({"explain", "--arch", "aarch64", "--promise", "stdio"}), kExitOk);
  EXPECT_NE(last_out.find("Syscalls on aarch64"), std::string::npos);
  EXPECT_EQ(app({"explain", "--arch", "mips"}), kExitUsage);
}

TEST(Cli, ExplainShowsEveryLayerOfARule) {
  EXPECT_EQ(app({"explain", "--promise", "stdio rpath", "--read", "/etc"}), kExitOk);
  EXPECT_NE(last_out.find("no network: seccomp (no AF_INET/AF_INET6/AF_PACKET sockets), an empty "
                          "network namespace, Landlock (no TCP bind or connect), CAP_NET_RAW "
                          "dropped"),
            std::string::npos)
      << last_out;
  EXPECT_NE(last_out.find("files only where listed: Landlock"), std::string::npos);
  EXPECT_EQ(app({"explain", "--promise", "stdio inet"}), kExitOk);
  EXPECT_EQ(last_out.find("no network:"), std::string::npos);
  EXPECT_EQ(last_out.find("network (loopback only)"), std::string::npos);
}

TEST(Cli, RunRefusesBadInputWith125) {
  EXPECT_EQ(app({"run"}), kExitLeastFailed);
  EXPECT_NE(last_err.find("no program given"), std::string::npos);
  EXPECT_EQ(app({"run", "--promise", "nope", "--", "true"}), kExitLeastFailed);
  EXPECT_EQ(app({"run", "--", "/nonexistent/program"}), kExitNotFound);
  EXPECT_EQ(app({"run", "--", "/etc/hostname"}), kExitCannotExec);
}

}  // namespace
}  // namespace least::cli

namespace least::cli {
namespace {

TEST(Cli, ExportFormatsAndErrors) {
  EXPECT_EQ(app({"export", "--help"}), kExitOk);
  for (const char* f : {"docker", "oci", "k8s", "apparmor", "systemd", "bpf"})
    EXPECT_NE(last_out.find(f), std::string::npos) << f;
  EXPECT_EQ(app({"export", "--format", "dockr"}), kExitUsage);
  EXPECT_NE(last_err.find("did you mean \"docker\"?"), std::string::npos) << last_err;
  EXPECT_EQ(app({"export"}), kExitUsage);  // --format is required
  EXPECT_EQ(app({"export", "--format", "bpf", "-o", "/nonexistent-dir/f.bpf"}), kExitFailure);
  EXPECT_NE(last_err.find("/nonexistent-dir/f.bpf"), std::string::npos) << last_err;
  // The raw filter is whole sock_filter records, ending in a return.
  char tmpl[] = "/tmp/least-export-XXXXXX";
  ASSERT_TRUE(mkdtemp(tmpl));
  std::string out = std::string(tmpl) + "/f.bpf";
  EXPECT_EQ(app({"export", "--promise", "stdio", "--format", "bpf", "-o", out}), kExitOk)
      << last_err;
  EXPECT_NE(last_err.find("note: execve and execveat are allowed"), std::string::npos) << last_err;
  std::ifstream in(out, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_GT(bytes.size(), 0u);
  EXPECT_EQ(bytes.size() % 8, 0u);
  std::remove(out.c_str());
  rmdir(tmpl);
}

// -o naming a fifo or a device is written into, never replaced by a file
// (a rename over -o /dev/null once turned the machine's /dev/null into one).
TEST(Cli, OutputIntoAFifoKeepsTheFifo) {
  char dir[] = "/tmp/least-fifo-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::string fifo = std::string(dir) + "/out";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  // Our reader end first, so that least's open for writing does not wait.
  int reader = open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(reader, 0);
  EXPECT_EQ(app({"export", "--promise", "stdio", "--format", "docker", "-o", fifo}), kExitOk)
      << last_err;
  std::string got;
  char buf[4096];
  for (ssize_t n; (n = read(reader, buf, sizeof buf)) > 0;) got.append(buf, static_cast<size_t>(n));
  close(reader);
  EXPECT_NE(got.find("\"syscalls\""), std::string::npos) << got;
  struct stat st;
  ASSERT_EQ(stat(fifo.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode)) << "the fifo was replaced";
  EXPECT_EQ(app({"export", "--promise", "stdio", "--format", "docker", "-o", dir}), kExitUsage);
  EXPECT_NE(last_err.find("is a directory"), std::string::npos) << last_err;
  // Through a symlink (dangling here): the file it names is written, the
  // link stays a link.
  std::string link = std::string(dir) + "/link", target = std::string(dir) + "/target";
  ASSERT_EQ(symlink("target", link.c_str()), 0);
  EXPECT_EQ(app({"export", "--promise", "stdio", "--format", "docker", "-o", link}), kExitOk)
      << last_err;
  struct stat lst;
  ASSERT_EQ(lstat(link.c_str(), &lst), 0);
  EXPECT_TRUE(S_ISLNK(lst.st_mode)) << "the link was replaced";
  EXPECT_EQ(stat(target.c_str(), &st), 0) << "the file the link names was not written";
  unlink(link.c_str());
  unlink(target.c_str());
  unlink(fifo.c_str());
  rmdir(dir);
}

TEST(Cli, MergeWritesOnePolicyAndRefusesBadInput) {
  char dir[] = "/tmp/least-merge-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::string a = std::string(dir) + "/a.least.toml", b = std::string(dir) + "/b.least.toml",
              out = std::string(dir) + "/ab.least.toml";
  std::ofstream(a) << "promises = [\"stdio\"]\n";
  std::ofstream(b) << "promises = [\"stdio\", \"inet\"]  # the client\n[network]\nconnect = "
                      "[\"tcp:443\"]\n";
  EXPECT_EQ(app({"merge", a, b, "-o", out}), kExitOk) << last_err;
  std::ifstream in(out);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("\"inet\""), std::string::npos) << text;
  EXPECT_NE(text.find("tcp:443"), std::string::npos) << text;
  EXPECT_EQ(app({"merge", a}), kExitUsage);
  std::ofstream(b) << "promises = [\"stdoi\"]\n";
  EXPECT_EQ(app({"merge", a, b, "-o", out}), kExitUsage);
  EXPECT_NE(last_err.find("did you mean \"stdio\"?"), std::string::npos) << last_err;
  // A failed merge leaves the earlier output as it was.
  std::ifstream again(out);
  std::string kept((std::istreambuf_iterator<char>(again)), std::istreambuf_iterator<char>());
  EXPECT_EQ(kept, text);
  for (const auto& f : {a, b, out}) unlink(f.c_str());
  rmdir(dir);
}

}  // namespace
}  // namespace least::cli
