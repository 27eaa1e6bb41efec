// The policy writer and merge: recordings of real paths on this host become
// policies that parse, lower, and allow exactly what was recorded.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "bpf_simulator.h"
#include "enforce/seccomp_filter.h"
#include "learn/policy_writer.h"
#include "learn/recording.h"
#include "plan/lower.h"
#include "policy/parser.h"

namespace least {
namespace {

namespace fs = std::filesystem;

struct Parsed {
  policy::Policy policy;
  plan::Plan plan;
};

// The writer's output must read back without a single diagnostic.
Parsed parse(const std::string& text) {
  policy::Diagnostics diags;
  diags.add_source("learned.least.toml", text);
  auto p = policy::parse_policy_text(text, "learned.least.toml", diags);
  EXPECT_TRUE(p) << diags.render() << "\n" << text;
  if (!p) return {};
  policy::validate_policy(*p, diags);
  EXPECT_FALSE(diags.has_errors()) << diags.render() << "\n" << text;
  auto plan = plan::lower_policy(*p);
  EXPECT_TRUE(plan.ok()) << text;
  return {*p, plan.ok() ? *plan : plan::Plan{}};
}

std::vector<std::string> values(const std::vector<policy::Located<std::string>>& list) {
  std::vector<std::string> out;
  for (const auto& e : list) out.push_back(e.value);
  return out;
}

bool has(const std::vector<std::string>& list, const std::string& v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

// Whether the lowered filter lets this call through without asking.
bool allowed(const plan::Plan& plan, const char* name, std::array<uint64_t, 6> args = {}) {
  auto prog = enforce::compile_seccomp(plan.seccomp);
  EXPECT_TRUE(prog.ok());
  seccomp_data d{};
  d.nr = *sys::syscall_number(name, plan.seccomp.arch);
  d.arch = sys::audit_arch(plan.seccomp.arch);
  for (int i = 0; i < 6; ++i) d.args[i] = args[i];
  return test::run_bpf(prog->code, d) == SECCOMP_RET_ALLOW;
}

learn::Recording basic_recording() {
  learn::Recording r;
  r.command = {"cat", "/etc/hostname"};
  r.ending = "exited with status 0";
  for (const char* s : {"read", "write", "close", "fstat", "exit_group", "brk", "openat"})
    r.syscalls[s].count = 3;
  r.syscalls["mmap"].count = 5;
  r.syscalls["mmap"].values[2] = {PROT_READ, PROT_READ | PROT_WRITE, PROT_READ | PROT_EXEC};
  r.syscalls["execve"].count = 1;
  r.paths["/etc/hostname"] = plan::kPathRead;
  r.paths["/usr/lib/x86_64-linux-gnu/libc.so.6"] = plan::kPathRead;
  return r;
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/least-writer-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path_); }
  const std::string& path() const { return path_; }
  std::string file(const std::string& name, const std::string& text = "x") const {
    std::string p = path_ + "/" + name;
    std::ofstream(p) << text;
    return p;
  }

 private:
  std::string path_;
};

TEST(LearnWriter, SmallestPromisesAndOnlyTheFileRead) {
  auto text = learn::write_policy(basic_recording());
  auto p = parse(text);
  EXPECT_EQ(values(p.policy.promises), (std::vector<std::string>{"stdio", "rpath"})) << text;
  // The library is the runtime's: not listed. /etc is never widened.
  EXPECT_EQ(values(p.policy.filesystem.read), (std::vector<std::string>{"/etc/hostname"}));
  // The launcher's own execve needs no exec promise.
  EXPECT_FALSE(has(p.plan.promises, "exec"));
  EXPECT_TRUE(allowed(p.plan, "mmap", {0, 4096, PROT_READ | PROT_EXEC}));
  EXPECT_FALSE(allowed(p.plan, "mmap", {0, 4096, PROT_WRITE | PROT_EXEC}));
  EXPECT_FALSE(allowed(p.plan, "socket", {AF_INET, SOCK_STREAM, 0}));
  // Each entry says why it is there.
  EXPECT_NE(text.find("\"stdio\",  # "), std::string::npos) << text;
  EXPECT_NE(text.find("cat /etc/hostname"), std::string::npos) << text;
}

TEST(LearnWriter, ArgumentValuesChooseThePromise) {
  auto r = basic_recording();
  r.syscalls["clone"].values[0] = {CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
                                   CLONE_THREAD | CLONE_SYSVSEM};
  r.syscalls["clone"].count = 2;
  auto p = parse(learn::write_policy(r));
  EXPECT_TRUE(has(values(p.policy.promises), "thread"));
  EXPECT_FALSE(has(values(p.policy.promises), "proc"));

  // clone3's flags are in memory: least run answers it ENOSYS and glibc
  // retries clone with the same flags, which the policy must then allow.
  auto r3 = basic_recording();
  r3.syscalls["clone3"].count = 1;
  r3.syscalls["clone3"].values[0] = {CLONE_VM | CLONE_VFORK | SIGCHLD};
  auto p3 = parse(learn::write_policy(r3));
  EXPECT_TRUE(has(values(p3.policy.promises), "proc"));
  EXPECT_FALSE(has(values(p3.policy.promises), "thread"));
  EXPECT_TRUE(allowed(p3.plan, "clone", {CLONE_VM | CLONE_VFORK | SIGCHLD}));
}

TEST(LearnWriter, NetworkEndpointsBecomePortsWithInet) {
  auto r = basic_recording();
  r.syscalls["socket"].count = 2;
  r.syscalls["socket"].values = {
      {0, {AF_INET}}, {1, {SOCK_STREAM | SOCK_CLOEXEC}}, {2, {IPPROTO_TCP}}};
  r.syscalls["connect"].count = 1;
  r.connects.insert({"tcp", "127.0.0.1", 8080});
  r.binds.insert({"tcp", "127.0.0.1", 9090});
  auto text = learn::write_policy(r);
  auto p = parse(text);
  EXPECT_TRUE(has(values(p.policy.promises), "inet")) << text;
  EXPECT_EQ(values(p.policy.network.connect), (std::vector<std::string>{"tcp:8080"}));
  EXPECT_EQ(values(p.policy.network.bind), (std::vector<std::string>{"tcp:9090"}));
  EXPECT_TRUE(allowed(p.plan, "socket", {AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP}));
}

TEST(LearnWriter, WhatNoPromiseCoversIsAllowedNarrowly) {
  auto r = basic_recording();
  r.syscalls["ptrace"].count = 4;
  r.syscalls["socket"].count = 1;
  r.syscalls["socket"].values = {{0, {AF_NETLINK}}, {1, {SOCK_RAW}}, {2, {NETLINK_AUDIT}}};
  auto text = learn::write_policy(r);
  auto p = parse(text);
  EXPECT_TRUE(has(values(p.policy.syscalls.allow), "ptrace")) << text;
  EXPECT_NE(text.find("dangerous"), std::string::npos) << text;
  ASSERT_EQ(p.policy.syscalls.allow_when.size(), 1u) << text;
  EXPECT_EQ(p.policy.syscalls.allow_when[0].name.value, "socket");
  EXPECT_TRUE(allowed(p.plan, "socket", {AF_NETLINK, SOCK_RAW, NETLINK_AUDIT}));
  EXPECT_FALSE(allowed(p.plan, "socket", {AF_NETLINK, SOCK_RAW, NETLINK_ROUTE}));
  EXPECT_FALSE(allowed(p.plan, "socket", {AF_INET, SOCK_STREAM, 0}));
}

TEST(LearnWriter, PathsCollapseWherePeopleWouldWriteADirectory) {
  TempDir work;
  auto r = basic_recording();
  for (const char* f : {"a.txt", "b.txt", "c.txt"}) r.paths[work.file(f)] = plan::kPathRead;
  r.paths[work.path() + "/out/new.log"] = plan::kPathCreate | plan::kPathWrite;
  fs::create_directory(work.path() + "/out");
  r.paths["/usr/share/zoneinfo/Etc/UTC"] = plan::kPathRead;
  for (const char* f : {"/etc/passwd", "/etc/group", "/etc/hosts"}) r.paths[f] = plan::kPathRead;
  r.paths["/proc/4242/status"] = plan::kPathRead;
  r.paths["/usr/bin/true"] = plan::kPathExec | plan::kPathRead;
  r.paths[work.path() + "/deleted-long-ago"] = plan::kPathRead;
  r.paths["/nonexistent/also"] = plan::kPathRead;
  auto text = learn::write_policy(r);
  auto p = parse(text);
  auto read = values(p.policy.filesystem.read);
  EXPECT_TRUE(has(read, work.path())) << text;            // three files in one directory
  EXPECT_TRUE(has(read, "/usr/share/zoneinfo")) << text;  // a data tree
  EXPECT_TRUE(has(read, "/etc/passwd")) << text;          // /etc: one by one
  EXPECT_FALSE(has(read, "/etc")) << text;
  EXPECT_TRUE(has(read, "/proc")) << text;
  EXPECT_EQ(values(p.policy.filesystem.create), (std::vector<std::string>{work.path() + "/out"}))
      << text;
  EXPECT_EQ(values(p.policy.filesystem.exec), (std::vector<std::string>{"/usr/bin/true"}));
  EXPECT_TRUE(has(values(p.policy.promises), "cpath")) << text;
  EXPECT_NE(text.find("do not exist now"), std::string::npos) << text;
}

TEST(LearnWriter, NeverWidensToTheHomeDirectoryWithoutSayingSo) {
  TempDir home;
  setenv("HOME", home.path().c_str(), 1);
  auto r = basic_recording();
  for (const char* f : {".a", ".b", ".c", ".d"}) r.paths[home.file(f)] = plan::kPathRead;
  auto text = learn::write_policy(r);
  auto p = parse(text);
  EXPECT_FALSE(has(values(p.policy.filesystem.read), home.path())) << text;
  EXPECT_TRUE(has(values(p.policy.filesystem.read), home.path() + "/.a")) << text;
  // Creating directly in it needs the directory: said in the comment.
  r.paths[home.path() + "/.history"] = plan::kPathCreate;
  text = learn::write_policy(r);
  p = parse(text);
  EXPECT_TRUE(has(values(p.policy.filesystem.create), home.path())) << text;
  EXPECT_NE(text.find("no narrower rule would do"), std::string::npos) << text;
  unsetenv("HOME");
}

TEST(LearnWriter, LimitsFromPeaksAndAnIncompleteRunSaysSo) {
  auto r = basic_recording();
  r.peak_processes = 40;
  r.peak_open_files = 10;
  r.complete = false;
  r.ending = "killed by SIGSEGV";
  r.lost.push_back("12 path records: the ring buffer was full");
  auto text = learn::write_policy(r);
  auto p = parse(text);
  ASSERT_TRUE(p.policy.limits.processes);
  EXPECT_EQ(p.policy.limits.processes->value, 160u);
  ASSERT_TRUE(p.policy.limits.open_files);
  EXPECT_EQ(p.policy.limits.open_files->value, 256u);
  EXPECT_NE(text.find("killed by SIGSEGV"), std::string::npos);
  EXPECT_NE(text.find("covers only what it did"), std::string::npos);
  EXPECT_NE(text.find("12 path records"), std::string::npos);

  // A run too short for a sample still gets the floors.
  r.peak_processes = r.peak_open_files = 0;
  text = learn::write_policy(r);
  p = parse(text);
  ASSERT_TRUE(p.policy.limits.processes && p.policy.limits.open_files) << text;
  EXPECT_EQ(p.policy.limits.processes->value, 64u);
  EXPECT_EQ(p.policy.limits.open_files->value, 256u);
  EXPECT_NE(text.find("none sampled"), std::string::npos) << text;
}

TEST(LearnWriter, PathsThatTomlCannotHoldPlainlyAreEscaped) {
  TempDir work;
  auto r = basic_recording();
  std::string odd = work.file("quote\"back\\slash#hash");
  r.paths[odd] = plan::kPathRead;
  auto p = parse(learn::write_policy(r));
  EXPECT_TRUE(has(values(p.policy.filesystem.read), odd));
}

TEST(LearnMerge, UnitesPoliciesAndKeepsTheirComments) {
  TempDir work;
  std::string a =
      "promises = [\n  \"stdio\",  # basics\n  \"rpath\",\n]\n"
      "[filesystem]\nread = [\n  \"" +
      work.path() + "/x\",  # the input\n]\n[limits]\nopen_files = 256\n";
  std::string b = "promises = [\"stdio\", \"inet\"]\n[filesystem]\nread = [\"" + work.path() +
                  "\"]\n[network]\nconnect = [\"tcp:443\"]  # the API\n[limits]\nopen_files = "
                  "1024\n[syscalls]\ndeny = [\"ptrace\"]\n";
  auto merged = learn::merge_policies({{"a.least.toml", a}, {"b.least.toml", b}});
  ASSERT_TRUE(merged.ok()) << merged.error().str();
  auto p = parse(*merged);
  EXPECT_EQ(values(p.policy.promises), (std::vector<std::string>{"stdio", "rpath", "inet"}));
  // The file beneath the directory is covered by it.
  EXPECT_EQ(values(p.policy.filesystem.read), (std::vector<std::string>{work.path()}));
  EXPECT_EQ(values(p.policy.network.connect), (std::vector<std::string>{"tcp:443"}));
  EXPECT_EQ(p.policy.limits.open_files->value, 1024u);
  EXPECT_EQ(p.policy.syscalls.deny.size(), 1u);
  EXPECT_NE(merged->find("# basics"), std::string::npos) << *merged;
  EXPECT_NE(merged->find("# the API"), std::string::npos) << *merged;
}

TEST(LearnMerge, AnAllowOnOneSideWinsOverADenyOnTheOther) {
  auto merged =
      learn::merge_policies({{"a", "promises = [\"stdio\"]\n[syscalls]\ndeny = [\"ptrace\"]\n"},
                             {"b", "promises = [\"stdio\"]\n[syscalls]\nallow = [\"ptrace\"]\n"}});
  ASSERT_TRUE(merged.ok());
  auto p = parse(*merged);
  EXPECT_TRUE(p.policy.syscalls.deny.empty()) << *merged;
  EXPECT_TRUE(allowed(p.plan, "ptrace"));
}

TEST(LearnMerge, BadInputIsReportedWithItsPlace) {
  auto merged = learn::merge_policies({{"good.least.toml", "promises = [\"stdio\"]\n"},
                                       {"bad.least.toml", "promises = [\"stdoi\"]\n"}});
  ASSERT_FALSE(merged.ok());
  EXPECT_NE(merged.error().message.find("bad.least.toml:1"), std::string::npos)
      << merged.error().message;
  EXPECT_NE(merged.error().message.find("stdio"), std::string::npos);
}

}  // namespace
}  // namespace least
