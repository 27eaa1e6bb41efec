// The built-in default policy (no -p, no flags): everyday programs run
// without a single denial. "Without a denial" means exit 0, the expected
// output, and no `least: blocked` line on stderr.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "spawn.h"

namespace least::testing {
namespace {

using namespace std::chrono_literals;

void expect_clean(const SpawnResult& r) {
  EXPECT_EQ(r.status, 0) << r.describe();
  EXPECT_FALSE(has_line_starting_with(r.err, "least: blocked")) << r.describe();
  EXPECT_FALSE(has_line_starting_with(r.err, "least: error")) << r.describe();
}

struct CommandCase {
  std::string name;
  std::vector<std::string> argv;  // "{dir}" is a fresh directory holding `file` ("b\na\nc\n")
  std::string expect;             // exact stdout, or with a leading '~' a substring of it
  std::string stdin_data = {};
};

void PrintTo(const CommandCase& c, std::ostream* os) {
  *os << c.name;
}

// clang-format off
const CommandCase kCommands[] = {
    {"ShellPipeline", {"sh", "-c", "echo hi | tr a-z A-Z"}, "HI\n"},
    {"LsLaUsr", {"ls", "-la", "/usr"}, "~ bin\n"},
    {"Mkdir", {"sh", "-c", "mkdir -p {dir}/a/b && test -d {dir}/a/b && echo made"}, "made\n"},
    {"Cp", {"sh", "-c", "cp {dir}/file {dir}/copy && cat {dir}/copy"}, "b\na\nc\n"},
    {"CpPreserve", {"sh", "-c", "cp -a {dir}/file {dir}/kept && cat {dir}/kept"}, "b\na\nc\n"},
    {"Mv", {"sh", "-c", "mv {dir}/file {dir}/moved && cat {dir}/moved && test ! -e {dir}/file"},
     "b\na\nc\n"},
    {"Rm", {"sh", "-c", "rm -r {dir}/file && test ! -e {dir}/file && echo gone"}, "gone\n"},
    {"Sort", {"sort", "{dir}/file"}, "a\nb\nc\n"},
    {"SortStdin", {"sort", "-r"}, "c\nb\na\n", "a\nc\nb\n"},
    {"Sha256sum", {"sh", "-c", "printf abc | sha256sum"},
     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  -\n"},
    {"Date", {"date", "-u", "-d", "@0", "+%Y-%m-%d"}, "1970-01-01\n"},
    {"Env", {"env"}, "~LEAST_TEST_MARK=1\n"},
    {"Id", {"id"}, "~uid="},
    {"FindXargs", {"sh", "-c", "cd {dir} && find . -name file | xargs cat"}, "b\na\nc\n"},
    {"Mkfifo", {"sh", "-c", "mkfifo {dir}/p && test -p {dir}/p && echo fifo"}, "fifo\n"},
    {"TouchChmodStat", {"sh", "-c", "touch {dir}/t && chmod 600 {dir}/t && stat -c %a {dir}/t"},
     "600\n"},
    {"Flock", {"flock", "{dir}/file", "echo", "locked"}, "locked\n"},
    {"Mktemp", {"sh", "-c", "f=$(mktemp) && echo x > $f && cat $f && rm $f"}, "x\n"},
    {"Tar", {"sh", "-c", "cd {dir} && tar cf t.tar file && tar tf t.tar"}, "file\n"},
    {"Gzip", {"sh", "-c", "gzip -c {dir}/file | gzip -dc"}, "b\na\nc\n"},
    {"Awk", {"awk", "{n++} END {print n}", "{dir}/file"}, "3\n"},
    {"Sed", {"sed", "-n", "2p", "{dir}/file"}, "a\n"},
    {"BackgroundJobs", {"sh", "-c", "(echo one) & wait; echo two"}, "one\ntwo\n"},
};
// clang-format on

class DefaultPolicyCommand : public ::testing::TestWithParam<CommandCase> {};

TEST_P(DefaultPolicyCommand, RunsWithoutDenial) {
  const CommandCase& c = GetParam();
  TempDir dir;
  dir.write("file", "b\na\nc\n");
  std::vector<std::string> argv;
  for (std::string a : c.argv) {
    for (size_t at; (at = a.find("{dir}")) != std::string::npos;) a.replace(at, 5, dir.path());
    argv.push_back(a);
  }
  SpawnOptions options;
  options.env = {"LEAST_TEST_MARK=1", "LC_ALL=C"};
  if (!c.stdin_data.empty()) options.stdin_data = c.stdin_data;
  auto r = spawn(least_run({}, argv), options);
  expect_clean(r);
  if (c.expect.rfind('~', 0) == 0)
    EXPECT_NE(r.out.find(c.expect.substr(1)), std::string::npos) << r.describe();
  else
    EXPECT_EQ(r.out, c.expect) << r.describe();
}

INSTANTIATE_TEST_SUITE_P(Coreutils, DefaultPolicyCommand, ::testing::ValuesIn(kCommands),
                         [](const ::testing::TestParamInfo<CommandCase>& info) {
                           return info.param.name;
                         });

constexpr const char* kPython = "/usr/bin/python3";

TEST(DefaultPolicy, Python) {
  if (access(kPython, X_OK) != 0) GTEST_SKIP() << "no " << kPython;
  TempDir dir;
  std::string script = dir.write("script.py", R"py(
import json, socket, sqlite3, subprocess, tempfile, threading

out = subprocess.run(["echo", "sub"], capture_output=True, text=True, check=True).stdout.strip()
res = []
t = threading.Thread(target=lambda: res.append(json.dumps({"a": [1, 2]})))
t.start()
t.join()
with tempfile.NamedTemporaryFile("w+") as f:
    f.write("tmp")
    f.flush()
    f.seek(0)
    tmp = f.read()
with tempfile.TemporaryDirectory() as d:
    open(d + "/x", "w").write("y")
db = sqlite3.connect(":memory:")
db.execute("create table t(x)")
db.execute("insert into t values (42)")
val = db.execute("select x from t").fetchone()[0]
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(1)
c = socket.create_connection(srv.getsockname())
a, _ = srv.accept()
c.sendall(b"ping")
got = a.recv(4).decode()
print(out, res[0], tmp, val, got)
)py");
  SpawnOptions options;
  options.cwd = dir.path();
  auto r = spawn(least_run({}, {kPython, script}), options);
  expect_clean(r);
  EXPECT_EQ(r.out, "sub {\"a\": [1, 2]} tmp 42 ping\n") << r.describe();
}

TEST(DefaultPolicy, PythonCtypesCallback) {
  // libffi closures need memory both writable and executable (prot_exec).
  if (access(kPython, X_OK) != 0) GTEST_SKIP() << "no " << kPython;
  auto r =
      spawn(least_run({}, {kPython, "-c",
                           "import ctypes\n"
                           "f = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int)(lambda x: x * 2)\n"
                           "print(f(21))\n"}));
  expect_clean(r);
  EXPECT_EQ(r.out, "42\n") << r.describe();
}

TEST(DefaultPolicy, Git) {
  if (access("/usr/bin/git", X_OK) != 0) GTEST_SKIP() << "no git";
  TempDir dir;
  SpawnOptions options;
  options.cwd = dir.path();
  options.env = {"HOME=" + dir.path(), "GIT_CONFIG_NOSYSTEM=1", "LC_ALL=C"};
  auto git = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {
        "/usr/bin/git", "-c", "user.name=x", "-c", "user.email=y", "-c", "init.defaultBranch=main"};
    argv.insert(argv.end(), args.begin(), args.end());
    return spawn(least_run({}, argv), options);
  };
  expect_clean(git({"init", "-q", "repo"}));
  dir.write("repo/hello.txt", "hello\n");
  options.cwd = dir / "repo";
  expect_clean(git({"add", "hello.txt"}));
  auto commit = git({"commit", "-q", "-m", "first"});
  expect_clean(commit);
  auto log = git({"log", "--format=%s %an"});
  expect_clean(log);
  EXPECT_EQ(log.out, "first x\n") << log.describe();
  auto grep = git({"grep", "-P", "hel+o"});
  expect_clean(grep);
  EXPECT_EQ(grep.out, "hello.txt:hello\n") << grep.describe();
}

// A free TCP port on 127.0.0.1 (free when asked; the server takes it next).
int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int port = -1;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

bool accepts_connections(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

TEST(DefaultPolicy, CurlFromLoopbackServer) {
  if (access("/usr/bin/curl", X_OK) != 0 || access(kPython, X_OK) != 0)
    GTEST_SKIP() << "needs curl and python3";
  TempDir dir;
  dir.write("hello.txt", "served by the test\n");
  int port = free_port();
  ASSERT_GT(port, 0);
  SpawnOptions options;
  options.timeout = 30s;
  Process server({kPython, "-m", "http.server", std::to_string(port), "--bind", "127.0.0.1",
                  "--directory", dir.path()},
                 options);
  bool up = false;
  for (auto until = std::chrono::steady_clock::now() + 10s;
       !up && std::chrono::steady_clock::now() < until; std::this_thread::sleep_for(20ms))
    up = accepts_connections(port);
  ASSERT_TRUE(up) << "the HTTP server did not start on port " << port;

  auto r = spawn(least_run({}, {"/usr/bin/curl", "-sS", "--noproxy", "*",
                                "http://127.0.0.1:" + std::to_string(port) + "/hello.txt"}));
  kill(server.pid(), SIGTERM);
  server.wait();
  expect_clean(r);
  EXPECT_EQ(r.out, "served by the test\n") << r.describe();
}

}  // namespace
}  // namespace least::testing
