// `least bundle` and `least export --format oci`, proven by the real
// consumers: each bundle runs under runc and under crun with a busybox rootfs
// and the static probe inside, and what the policy says is what the program
// meets (seccomp answers, capabilities, rlimits, cgroup limits, no_new_privs,
// read-only root, bind mounts, a private /tmp). Docker's profile runs through
// the same config.json.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "consumer.h"

namespace least::testing {
namespace {

namespace fs = std::filesystem;
using Args = std::vector<std::string>;

Args probe_in(const Args& args) {
  Args out = {kProbeInRootfs};
  out.insert(out.end(), args.begin(), args.end());
  return out;
}

// Every container this file starts must be gone, cgroups included.
class NoLeftovers : public ::testing::Environment {
 public:
  void TearDown() override {
    auto left = leftover_cgroups(container_prefix());
    EXPECT_TRUE(left.empty()) << "cgroups left behind, first: " << left.front();
  }
};
[[maybe_unused]] const auto* const kNoLeftovers =
    ::testing::AddGlobalTestEnvironment(new NoLeftovers);

class BundleTest : public ::testing::TestWithParam<Runtime> {
 protected:
  Runtime runtime() const { return GetParam(); }

  // A bundle for the policy, then one container per probe call; the answers.
  std::vector<std::string> answers(const Args& least_args, const std::vector<Args>& calls,
                                   const std::string& name = "bundle") {
    std::string dir = tmp_ / name;
    make_bundle(dir, least_args, probe_in({"getpid"}));
    std::vector<Args> argvs;
    for (const auto& c : calls) argvs.push_back(probe_in(c));
    std::vector<std::string> out;
    for (const auto& r : run_containers(runtime(), dir, tmp_ / "state", argvs))
      out.push_back(probe_answer(r) + (r.status < 0 ? " (" + r.describe() + ")" : ""));
    return out;
  }

  SpawnResult run(const std::string& dir) { return run_container(runtime(), dir, tmp_ / "state"); }

  TempDir tmp_;
};

TEST_P(BundleTest, ProgramRuns) {
  std::string dir = tmp_ / "b";
  auto config = make_bundle(dir, {"--promise", "stdio"}, probe_in({"getpid"}));
  SpawnResult r = run(dir);
  EXPECT_EQ(r.status, 0) << r.describe();
  EXPECT_EQ(probe_answer(r), "OK") << r.describe();
}

// The OCI seccomp object from the Plan: allowed calls work, refused ones get
// the policy's errno, argument conditions hold (socket families).
TEST_P(BundleTest, SeccompAllowsAndRefuses) {
  auto got = answers({"--promise", "stdio unix"}, {{"socket", "AF_UNIX", "SOCK_STREAM"},
                                                   {"socket", "AF_INET", "SOCK_STREAM"},
                                                   {"socket", "AF_PACKET", "SOCK_RAW"},
                                                   {"memfd_create"},
                                                   {"status", "Seccomp"}});
  EXPECT_EQ(got,
            (std::vector<std::string>{"OK", "ERRNO EPERM", "ERRNO EPERM", "ERRNO EPERM", "OK 2"}));
}

TEST_P(BundleTest, DeniedSyscallGetsThePolicysErrno) {
  auto got = answers({"--promise", "stdio", "--deny-syscall", "getpid=EACCES"},
                     {{"getpid"}, {"fcntl", "F_GETFL"}});
  EXPECT_EQ(got, (std::vector<std::string>{"ERRNO EACCES", "OK"}));
}

TEST_P(BundleTest, CapabilitiesDroppedAndNoNewPrivs) {
  auto got = answers({"--promise", "stdio rpath"}, {{"status", "CapEff"},
                                                    {"status", "CapPrm"},
                                                    {"status", "CapBnd"},
                                                    {"status", "CapAmb"},
                                                    {"status", "NoNewPrivs"}});
  EXPECT_EQ(got, (std::vector<std::string>{"OK 0000000000000000", "OK 0000000000000000",
                                           "OK 0000000000000000", "OK 0000000000000000", "OK 1"}));
}

TEST_P(BundleTest, KeptCapabilityIsKeptInEverySet) {
  std::string policy = tmp_.write("caps.least.toml",
                                  "promises = [\"stdio\", \"rpath\"]\n"
                                  "[isolation]\ncapabilities = [\"CAP_NET_BIND_SERVICE\"]\n");
  auto got =
      answers({"-p", policy}, {{"status", "CapEff"}, {"status", "CapBnd"}, {"status", "CapAmb"}});
  EXPECT_EQ(got, (std::vector<std::string>{"OK 0000000000000400", "OK 0000000000000400",
                                           "OK 0000000000000400"}));
}

// rlimits through process.rlimits, processes and memory through the pids and
// memory cgroups (read back through the read-only /sys/fs/cgroup mount), and
// no_new_privs seen by busybox itself.
TEST_P(BundleTest, LimitsAreSet) {
  std::string policy = tmp_.write("limits.least.toml",
                                  "[limits]\nopen_files = 64\nprocesses = 32\n"
                                  "memory = \"64M\"\n");
  std::string dir = tmp_ / "limits";
  make_bundle(dir, {"-p", policy},
              {"/bin/sh", "-c",
               "ulimit -n; cat /sys/fs/cgroup/pids/pids.max "
               "/sys/fs/cgroup/memory/memory.limit_in_bytes; grep NoNewPrivs /proc/self/status"});
  SpawnResult r = run(dir);
  EXPECT_EQ(r.status, 0) << r.describe();
  EXPECT_EQ(r.out, "64\n32\n67108864\nNoNewPrivs:\t1\n") << r.describe();
}

// [filesystem] lists paths: the root is read-only, write paths are bound
// read-write from the host, read paths read-only.
TEST_P(BundleTest, ReadOnlyRootAndPolicyMounts) {
  std::string rw = tmp_ / "data-rw", ro = tmp_ / "data-ro";
  fs::create_directories(rw);
  fs::create_directories(ro);
  tmp_.write("data-ro/file", "hello\n");
  auto got = answers({"--promise", "stdio rpath wpath cpath", "--write", rw, "--read", ro},
                     {{"mkdir", "/newdir"},
                      {"mkdir", rw + "/sub"},
                      {"mkdir", ro + "/sub"},
                      {"open", ro + "/file", "O_RDONLY"},
                      {"open", ro + "/file", "O_RDWR"}});
  EXPECT_EQ(got,
            (std::vector<std::string>{"ERRNO EROFS", "OK", "ERRNO EROFS", "OK", "ERRNO EROFS"}));
  EXPECT_TRUE(fs::is_directory(rw + "/sub")) << "the write path is the host's own directory";
}

TEST_P(BundleTest, PrivateTmpOnReadOnlyRoot) {
  std::string ro = tmp_ / "data-ro";
  fs::create_directories(ro);
  std::string policy = tmp_.write("tmp.least.toml",
                                  "promises = [\"stdio\", \"rpath\", \"cpath\"]\n"
                                  "[filesystem]\nread = [\"" +
                                      ro +
                                      "\"]\n"
                                      "[isolation]\nprivate_tmp = true\n");
  auto got = answers({"-p", policy}, {{"mkdir", "/tmp/x"}, {"mkdir", "/x"}});
  EXPECT_EQ(got, (std::vector<std::string>{"OK", "ERRNO EROFS"}));
}

// Docker's profile (least export --format docker) put in config.json's
// linux.seccomp: the runtimes accept it and enforce the same answers. The
// policy holds rpath: Docker's profile does not carry the openat flags runc
// needs after installing the filter (allow_runtime_start), so without rpath
// runc could not start it (docker runs runc); crun could.
TEST_P(BundleTest, DockerProfileThroughConfigJson) {
  SpawnResult exported = least({"export", "--promise", "stdio rpath unix", "--format", "docker"});
  ASSERT_EQ(exported.status, 0) << exported.describe();
  nlohmann::json docker = nlohmann::json::parse(exported.out);
  std::string dir = tmp_ / "docker";
  auto config = make_bundle(dir, {"--promise", "stdio rpath unix"}, probe_in({"getpid"}));
  config["linux"]["seccomp"] = docker_to_oci_seccomp(docker);
  write_config(dir, config);
  std::vector<std::string> got;
  for (const auto& r :
       run_containers(runtime(), dir, tmp_ / "state",
                      {probe_in({"getpid"}), probe_in({"socket", "AF_UNIX", "SOCK_STREAM"}),
                       probe_in({"socket", "AF_INET", "SOCK_STREAM"}),
                       probe_in({"clone", "CLONE_NEWUSER|SIGCHLD"})}))
    got.push_back(probe_answer(r));
  EXPECT_EQ(got, (std::vector<std::string>{"OK", "OK", "ERRNO EPERM", "ERRNO EPERM"}));
}

INSTANTIATE_TEST_SUITE_P(Runtimes, BundleTest, ::testing::ValuesIn(kRuntimes),
                         [](const auto& info) { return std::string(runtime_name(info.param)); });

// The command itself: what it writes and what it refuses.
class BundleCommand : public ::testing::Test {
 protected:
  TempDir tmp_;
};

TEST_F(BundleCommand, WritesACompleteConfig) {
  fs::create_directories(tmp_ / "rootfs");
  SpawnOptions in_tmp;
  in_tmp.cwd = tmp_.path();
  SpawnResult r = least({"bundle", "--promise", "stdio", "--rootfs", "rootfs", "out"}, in_tmp);
  ASSERT_EQ(r.status, 0) << r.describe();
  auto config = read_config(tmp_ / "out");
  EXPECT_EQ(config["ociVersion"], "1.0.2");
  EXPECT_EQ(config["process"]["args"], nlohmann::json::array({"/bin/sh"}));
  EXPECT_EQ(config["process"]["cwd"], "/");
  EXPECT_EQ(config["process"]["terminal"], false);
  EXPECT_EQ(config["process"]["noNewPrivileges"], true);
  EXPECT_EQ(config["root"]["path"], tmp_ / "rootfs") << "absolute, the given directory itself";
  EXPECT_EQ(config["root"]["readonly"], true) << "stdio alone may write nothing";
  EXPECT_FALSE(fs::exists(tmp_ / "out/rootfs")) << "the rootfs is referenced, not copied";
  std::vector<std::string> destinations;
  for (const auto& m : config["mounts"]) destinations.push_back(m["destination"]);
  for (const char* d : {"/proc", "/dev", "/dev/pts", "/dev/shm", "/sys"})
    EXPECT_NE(std::find(destinations.begin(), destinations.end(), d), destinations.end()) << d;
  std::vector<std::string> ns;
  for (const auto& n : config["linux"]["namespaces"]) ns.push_back(n["type"]);
  EXPECT_EQ(ns, (std::vector<std::string>{"mount", "pid", "ipc", "uts", "cgroup", "network"}));
}

TEST_F(BundleCommand, CommandAfterDashes) {
  fs::create_directories(tmp_ / "rootfs");
  SpawnResult r =
      least({"bundle", "--rootfs", tmp_ / "rootfs", tmp_ / "out", "--", "/bin/echo", "-n", "hi"});
  ASSERT_EQ(r.status, 0) << r.describe();
  EXPECT_EQ(read_config(tmp_ / "out")["process"]["args"],
            nlohmann::json::array({"/bin/echo", "-n", "hi"}));
}

TEST_F(BundleCommand, RefusesMissingRootfs) {
  SpawnResult r = least({"bundle", "--rootfs", tmp_ / "nope", tmp_ / "out"});
  EXPECT_EQ(r.status, 2) << r.describe();
  EXPECT_NE(r.err.find("rootfs \"" + (tmp_ / "nope") + "\": No such file or directory"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(tmp_ / "out"));
}

TEST_F(BundleCommand, RefusesRootfsThatIsNotADirectory) {
  std::string file = tmp_.write("file", "x");
  SpawnResult r = least({"bundle", "--rootfs", file, tmp_ / "out"});
  EXPECT_EQ(r.status, 2) << r.describe();
  EXPECT_NE(r.err.find("is not a directory"), std::string::npos) << r.err;
}

TEST_F(BundleCommand, RefusesToOverwriteWithoutForce) {
  fs::create_directories(tmp_ / "rootfs");
  fs::create_directories(tmp_ / "out");
  std::string old = tmp_.write("out/config.json", "{\"mine\": true}\n");
  SpawnResult r = least({"bundle", "--rootfs", tmp_ / "rootfs", tmp_ / "out"});
  EXPECT_EQ(r.status, 2) << r.describe();
  EXPECT_NE(r.err.find("exists; pass --force to replace it"), std::string::npos) << r.err;
  EXPECT_EQ(read_config(tmp_ / "out")["mine"], true) << "left untouched";
  r = least({"bundle", "--force", "--rootfs", tmp_ / "rootfs", tmp_ / "out"});
  EXPECT_EQ(r.status, 0) << r.describe();
  EXPECT_EQ(read_config(tmp_ / "out")["ociVersion"], "1.0.2");
}

TEST_F(BundleCommand, BadPolicyIsAUsageError) {
  fs::create_directories(tmp_ / "rootfs");
  SpawnResult r =
      least({"bundle", "--promise", "stdio nosuch", "--rootfs", tmp_ / "rootfs", tmp_ / "out"});
  EXPECT_EQ(r.status, 2) << r.describe();
  EXPECT_FALSE(fs::exists(tmp_ / "out/config.json"));
}

// export --format oci: the same pieces, shaped like config.json, and notes
// for what OCI cannot hold.
TEST(ExportOci, FragmentsAndNotes) {
  SpawnResult r = least({"export", "--promise", "stdio inet", "--connect", "tcp:443", "--read",
                         "/etc/ssl", "--format", "oci"});
  ASSERT_EQ(r.status, 0) << r.describe();
  auto f = nlohmann::json::parse(r.out);
  EXPECT_EQ(f["process"]["noNewPrivileges"], true);
  EXPECT_EQ(f["process"]["capabilities"]["bounding"], nlohmann::json::array());
  EXPECT_EQ(f["root"]["readonly"], true);
  ASSERT_EQ(f["mounts"].size(), 1u) << f["mounts"].dump();
  EXPECT_EQ(f["mounts"][0]["destination"], "/etc/ssl");
  EXPECT_EQ(f["mounts"][0]["options"],
            nlohmann::json::array({"rbind", "ro", "nosuid", "nodev", "noexec"}));
  for (const auto& n : f["linux"]["namespaces"])
    EXPECT_NE(n["type"], "network") << "inet keeps the host's network, as least run does";
  EXPECT_TRUE(f["linux"].contains("seccomp"));
  EXPECT_NE(r.err.find("no field for TCP ports (connect tcp:443)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("the whole rootfs stays readable"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace least::testing
