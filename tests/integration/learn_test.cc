// `least learn --backend notify` on real programs: what the recorder saw (--recording-json),
// how runs that crash, fail to start or are interrupted end.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "learn_fixture.h"
#include "spawn.h"

namespace least::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

struct Learned {
  SpawnResult run;
  json recording;  // null when no recording was written
};

// Records `command` and reads back what was recorded.
Learned learn(const std::vector<std::string>& command, const SpawnOptions& options = {},
              bool as_nobody_user = false) {
  TempDir dir;
  chmod(dir.path().c_str(), 0777);  // nobody writes the recording there too
  std::string file = dir / "recording.json";
  auto argv = least_learn({"--recording-json", file}, command);
  Learned l;
  l.run = spawn(as_nobody_user ? as_nobody(argv) : argv, options);
  if (std::filesystem::exists(file)) l.recording = json::parse(slurp(file));
  return l;
}

TEST(LearnRecording, AbsolutePathReadAndExec) {
  auto l = learn({"cat", "/etc/hostname"});
  ASSERT_EQ(l.run.status, 0) << l.run.describe();
  const json& r = l.recording;
  ASSERT_FALSE(r.is_null()) << l.run.describe();
  EXPECT_TRUE(has_access(r, "/etc/hostname", "read")) << r["paths"].dump(1);
  EXPECT_FALSE(has_access(r, "/etc/hostname", "write")) << r["paths"].dump(1);
  EXPECT_TRUE(has_access(r, "/usr/bin/cat", "exec")) << r["paths"].dump(1);
  EXPECT_GE(calls(r, "execve"), 1u);
  EXPECT_GE(calls(r, "read"), 1u);
  EXPECT_EQ(r["ending"], "exited with status 0");
  EXPECT_TRUE(r["complete"].get<bool>());
  EXPECT_TRUE(r["lost"].empty()) << r["lost"].dump();
  // What the program printed reaches stdout untouched, the policy after it.
  EXPECT_EQ(l.run.out.rfind(slurp("/etc/hostname"), 0), 0u) << l.run.out;
  EXPECT_NE(l.run.out.find("promises = ["), std::string::npos) << l.run.out;
  EXPECT_TRUE(has_line_starting_with(l.run.err, "least: learn: ")) << l.run.err;
}

TEST(LearnRecording, ArgumentValuesFromTheCatalog) {
  auto l = learn({"python3", "-c",
                  "import socket, mmap\n"
                  "socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                  "socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n"});
  ASSERT_EQ(l.run.status, 0) << l.run.describe();
  const json& socket = l.recording["syscalls"]["socket"];
  auto seen = [&](const char* arg, uint64_t value) {
    for (const auto& v : socket["values"][arg])
      if ((v.get<uint64_t>() & 0xf) == value || v.get<uint64_t>() == value) return true;
    return false;
  };
  EXPECT_TRUE(seen("0", AF_INET)) << socket.dump();
  EXPECT_TRUE(seen("0", AF_UNIX)) << socket.dump();
  EXPECT_TRUE(seen("1", SOCK_DGRAM)) << socket.dump();
  EXPECT_TRUE(seen("1", SOCK_STREAM)) << socket.dump();
  // The loader maps code: PROT_READ|PROT_EXEC is among mmap's prot values.
  bool exec_mapping = false;
  for (const auto& v : l.recording["syscalls"]["mmap"]["values"]["2"])
    if (v.get<uint64_t>() & 4) exec_mapping = true;
  EXPECT_TRUE(exec_mapping) << l.recording["syscalls"]["mmap"].dump();
  // Arguments the catalog does not test are not kept.
  EXPECT_TRUE(l.recording["syscalls"]["read"]["values"].empty());
}

TEST(LearnRecording, RelativePathsResolvedAgainstCwdAndDirfd) {
  TempDir dir;
  dir.write("relative", "x\n");
  std::filesystem::create_directory(dir / "sub");
  dir.write("sub/inner", "y\n");
  auto l = learn({"sh", "-c",
                  "cd " + dir.path() +
                      "/sub && cat ../relative && cat ./inner >/dev/null && "
                      "python3 -c 'import os\n"
                      "d = os.open(\"" +
                      dir.path() +
                      "\", os.O_RDONLY)\n"
                      "os.close(os.open(\"sub/created\", os.O_WRONLY | os.O_CREAT, dir_fd=d))\n"
                      "os.mkdir(\"newdir\", dir_fd=d)\n"
                      "os.rename(\"" +
                      dir.path() + "/newdir\", \"renamed\", dst_dir_fd=d)'"});
  ASSERT_EQ(l.run.status, 0) << l.run.describe();
  const json& r = l.recording;
  EXPECT_TRUE(has_access(r, dir / "relative", "read")) << r["paths"].dump(1);
  EXPECT_TRUE(has_access(r, dir / "sub/inner", "read")) << r["paths"].dump(1);
  EXPECT_TRUE(has_access(r, dir / "sub/created", "create")) << r["paths"].dump(1);
  EXPECT_TRUE(has_access(r, dir / "sub/created", "write")) << r["paths"].dump(1);
  EXPECT_FALSE(has_access(r, dir / "sub/created", "read")) << r["paths"].dump(1);
  EXPECT_TRUE(has_access(r, dir / "newdir", "create")) << r["paths"].dump(1);
  EXPECT_TRUE(has_access(r, dir / "renamed", "create")) << r["paths"].dump(1);
  for (const auto& [path, kinds] : r["paths"].items()) {
    EXPECT_EQ(path[0], '/') << path;
    EXPECT_EQ(path.find("/../"), std::string::npos) << path;
    EXPECT_EQ(path.find("/./"), std::string::npos) << path;
  }
}

TEST(LearnRecording, ThreadsAndForksAreFollowed) {
  TempDir dir;
  dir.write("by-thread", "t\n");
  dir.write("by-child", "c\n");
  auto l = learn({"python3", "-c",
                  "import os, threading\n"
                  "t = threading.Thread(target=lambda: open('" +
                      (dir / "by-thread") +
                      "').read())\n"
                      "t.start(); t.join()\n"
                      "pid = os.fork()\n"
                      "if pid == 0:\n"
                      "    open('" +
                      (dir / "by-child") +
                      "').read(); os._exit(0)\n"
                      "os.waitpid(pid, 0)\n"});
  ASSERT_EQ(l.run.status, 0) << l.run.describe();
  EXPECT_TRUE(has_access(l.recording, dir / "by-thread", "read"));
  EXPECT_TRUE(has_access(l.recording, dir / "by-child", "read"));
  EXPECT_GE(calls(l.recording, "clone3") + calls(l.recording, "clone"), 2u)
      << l.recording["syscalls"].dump();
}

TEST(LearnRecording, BindAndConnectEndpointsWithProtocol) {
  const int tcp = test_port(0), udp = test_port(1);
  auto l = learn({"python3", "-c",
                  "import socket\n"
                  "s = socket.socket(); s.bind(('127.0.0.1', " +
                      std::to_string(tcp) +
                      ")); s.listen()\n"
                      "u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)\n"
                      "u.connect(('::1', " +
                      std::to_string(udp) +
                      "))\n"
                      "c = socket.socket(); c.connect(('127.0.0.1', " +
                      std::to_string(tcp) + "))\n"});
  ASSERT_EQ(l.run.status, 0) << l.run.describe();
  const json& r = l.recording;
  EXPECT_TRUE(has_endpoint(r["binds"], "tcp", "127.0.0.1", tcp)) << r["binds"].dump();
  EXPECT_TRUE(has_endpoint(r["connects"], "udp", "::1", udp)) << r["connects"].dump();
  EXPECT_TRUE(has_endpoint(r["connects"], "tcp", "127.0.0.1", tcp)) << r["connects"].dump();
  EXPECT_FALSE(has_endpoint(r["binds"], "udp", "::1", udp)) << r["binds"].dump();
}

TEST(LearnRecording, UnixSocketPaths) {
  TempDir dir;
  auto l = learn({"python3", "-c",
                  "import socket, os\n"
                  "os.chdir('" +
                      dir.path() +
                      "')\n"
                      "s = socket.socket(socket.AF_UNIX); s.bind('sock'); s.listen()\n"
                      "a = socket.socket(socket.AF_UNIX); a.bind('\\0least-learn-test')\n"
                      "c = socket.socket(socket.AF_UNIX); c.connect('" +
                      (dir / "sock") + "')\n"});
  ASSERT_EQ(l.run.status, 0) << l.run.describe();
  const json& r = l.recording;
  EXPECT_TRUE(has_endpoint(r["binds"], "unix", dir / "sock", 0)) << r["binds"].dump();
  EXPECT_TRUE(has_endpoint(r["binds"], "unix", "@least-learn-test", 0)) << r["binds"].dump();
  EXPECT_TRUE(has_endpoint(r["connects"], "unix", dir / "sock", 0)) << r["connects"].dump();
  EXPECT_TRUE(has_access(r, dir / "sock", "create")) << r["paths"].dump(1);
}

TEST(LearnRecording, PeakProcesses) {
  auto l = learn({"sh", "-c", "for i in 1 2 3 4 5; do sleep 0.5 & done; wait"});
  ASSERT_EQ(l.run.status, 0) << l.run.describe();
  EXPECT_GE(l.recording["peak_processes"].get<int>(), 6);
  EXPECT_GE(l.recording["peak_open_files"].get<int>(), 3);
}

TEST(LearnRecording, PeakOpenFiles) {
  auto l = learn({"python3", "-c",
                  "import os\n"
                  "fds = [os.open('/dev/null', os.O_RDONLY) for _ in range(40)]\n"});
  ASSERT_EQ(l.run.status, 0) << l.run.describe();
  EXPECT_GE(l.recording["peak_open_files"].get<int>(), 43);
}

TEST(LearnRecording, CrashStillYieldsTheRecording) {
  auto l = learn({"sh", "-c", "cat /etc/hostname >/dev/null; kill -SEGV $$"});
  EXPECT_EQ(l.run.status, 0) << l.run.describe();
  ASSERT_FALSE(l.recording.is_null()) << l.run.describe();
  EXPECT_EQ(l.recording["ending"], "killed by SIGSEGV");
  EXPECT_FALSE(l.recording["complete"].get<bool>());
  EXPECT_EQ(l.recording["exit_code"], 128 + SIGSEGV);
  EXPECT_TRUE(has_access(l.recording, "/etc/hostname", "read"));
  EXPECT_NE(l.run.err.find("killed by SIGSEGV: the policy covers only what it did before"),
            std::string::npos)
      << l.run.err;
}

TEST(LearnRecording, FailingProgramIsSaid) {
  auto l = learn({"sh", "-c", "exit 3"});
  EXPECT_EQ(l.run.status, 0) << l.run.describe();
  EXPECT_EQ(l.recording["ending"], "exited with status 3");
  EXPECT_TRUE(l.recording["complete"].get<bool>());
  EXPECT_NE(l.run.err.find("exited with status 3"), std::string::npos) << l.run.err;
}

TEST(LearnRecording, ProgramThatCannotStart) {
  TempDir dir;
  std::string file = dir / "recording.json";
  auto missing = spawn(least_learn({"--recording-json", file}, {"/nonexistent/program"}));
  EXPECT_EQ(missing.status, 127) << missing.describe();
  EXPECT_TRUE(has_line_starting_with(missing.err, "least: error: learn: "));
  EXPECT_NE(missing.err.find("/nonexistent/program"), std::string::npos) << missing.err;
  EXPECT_NE(missing.err.find("not found"), std::string::npos) << missing.err;
  auto not_executable =
      spawn(least_learn({"--recording-json", file}, {dir.write("script", "#!/bin/sh\n", 0644)}));
  EXPECT_EQ(not_executable.status, 126) << not_executable.describe();
  EXPECT_FALSE(std::filesystem::exists(file));
  // Nothing left behind: the temporary file is gone too.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), {}), 1);
  auto no_program = spawn({LEAST_BINARY, "learn"});
  EXPECT_EQ(no_program.status, 125) << no_program.describe();
  auto bad_backend =
      spawn(least_learn({"--backend", "dtrace", "--recording-json", file}, {"true"}));
  EXPECT_EQ(bad_backend.status, 125) << bad_backend.describe();
  EXPECT_NE(bad_backend.err.find("unknown backend"), std::string::npos) << bad_backend.err;
}

TEST(LearnRecording, UnwritableOutputFailsBeforeTheRun) {
  TempDir dir;
  auto r = spawn(least_learn({"--recording-json", "/nonexistent-dir/r.json"},
                             {"sh", "-c", "touch " + (dir / "ran")}));
  EXPECT_EQ(r.status, 125) << r.describe();
  EXPECT_FALSE(std::filesystem::exists(dir / "ran")) << "the program ran anyway";
}

TEST(LearnOutput, NeverClobberedOnFailureNeverReplacedWhenSpecial) {
  TempDir dir;
  std::string policy = dir.write("app.least.toml", "promises = [\"stdio\"]\n");
  auto failed = spawn(least_learn({"-o", policy}, {"/nonexistent/program"}));
  EXPECT_EQ(failed.status, 127) << failed.describe();
  EXPECT_EQ(slurp(policy), "promises = [\"stdio\"]\n");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), {}), 1);

  // A symlink is followed and stays a symlink.
  std::filesystem::create_symlink("real.toml", dir / "link.toml");
  auto linked = spawn(least_learn({"-o", dir / "link.toml"}, {"true"}));
  EXPECT_EQ(linked.status, 0) << linked.describe();
  EXPECT_TRUE(std::filesystem::is_symlink(dir / "link.toml"));
  EXPECT_NE(slurp(dir / "real.toml").find("promises = ["), std::string::npos);

  // A FIFO (as /dev/null or /dev/stdout would be) is written, not replaced.
  std::string fifo = dir / "fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  Process reader({"/usr/bin/cat", fifo});
  auto piped = spawn(least_learn({"-o", fifo}, {"true"}));
  EXPECT_EQ(piped.status, 0) << piped.describe();
  auto got = reader.wait();
  EXPECT_NE(got.out.find("promises = ["), std::string::npos) << got.describe();
  struct stat st;
  ASSERT_EQ(lstat(fifo.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
}

TEST(LearnRecording, LossIsSaidNeverSilent) {
  // 300 distinct pids in prlimit64's first argument (the catalog tests it):
  // more than the recorder keeps per argument.
  auto l = learn({"python3", "-c",
                  "import resource\n"
                  "for p in range(4000000, 4000300):\n"
                  "    try: resource.prlimit(p, resource.RLIMIT_NOFILE)\n"
                  "    except OSError: pass\n"});
  ASSERT_EQ(l.run.status, 0) << l.run.describe();
  ASSERT_EQ(l.recording["lost"].size(), 1u) << l.recording["lost"].dump();
  EXPECT_NE(l.recording["lost"][0].get<std::string>().find("argument values"), std::string::npos);
  EXPECT_NE(l.run.err.find("least: warning: learn: not recorded: "), std::string::npos)
      << l.run.err;
  EXPECT_EQ(l.recording["syscalls"]["prlimit64"]["values"]["0"].size(), 256u);
}

TEST(LearnRecording, Unprivileged) {
  TempDir dir;
  chmod(dir.path().c_str(), 0755);
  dir.write("readable", "r\n");
  const int tcp = test_port(2);
  auto l = learn({"/usr/bin/python3", "-c",
                  "import socket\n"
                  "open('" +
                      (dir / "readable") +
                      "').read()\n"
                      "s = socket.socket(); s.bind(('127.0.0.1', " +
                      std::to_string(tcp) + "))\n"},
                 {}, true);
  ASSERT_EQ(l.run.status, 0) << l.run.describe();
  ASSERT_FALSE(l.recording.is_null()) << l.run.describe();
  EXPECT_TRUE(has_access(l.recording, dir / "readable", "read")) << l.recording["paths"].dump(1);
  EXPECT_TRUE(has_endpoint(l.recording["binds"], "tcp", "127.0.0.1", tcp));
  EXPECT_TRUE(l.recording["lost"].empty()) << l.recording["lost"].dump();
}

// Starts learn in its own session (so its process group is its pid), waits
// until the program has written `ready`, then sends SIGINT to the group
// `times` times, as a terminal's Ctrl-C does.
Learned interrupt(const std::string& program, int times) {
  TempDir dir;
  std::string file = dir / "recording.json", ready = dir / "ready";
  std::vector<std::string> argv = {"/usr/bin/setsid"};
  auto learn_argv = least_learn({"--recording-json", file}, {"python3", "-c", program, ready});
  argv.insert(argv.end(), learn_argv.begin(), learn_argv.end());
  SpawnOptions options;
  options.timeout = 30000ms;
  Process p(argv, options);
  for (int i = 0; i < 200 && !std::filesystem::exists(ready); ++i)
    std::this_thread::sleep_for(50ms);
  for (int i = 0; i < times; ++i) {
    kill(-p.pid(), SIGINT);
    std::this_thread::sleep_for(300ms);
  }
  Learned l;
  l.run = p.wait();
  if (std::filesystem::exists(file)) l.recording = json::parse(slurp(file));
  return l;
}

TEST(LearnInterrupt, CtrlCEndsTheRunAndStillWrites) {
  auto l = interrupt(
      "import sys, time\n"
      "open(sys.argv[1], 'w').close()\n"
      "open('/etc/hostname').read()\n"
      "time.sleep(60)\n",
      1);
  EXPECT_FALSE(l.run.timed_out) << l.run.describe();
  EXPECT_EQ(l.run.status, 0) << l.run.describe();
  EXPECT_LT(l.run.elapsed, 20000ms);
  ASSERT_FALSE(l.recording.is_null()) << l.run.describe();
  EXPECT_EQ(l.recording["ending"].get<std::string>().rfind("interrupted (Ctrl-C)", 0), 0u)
      << l.recording["ending"];
  EXPECT_FALSE(l.recording["complete"].get<bool>());
  EXPECT_TRUE(has_access(l.recording, "/etc/hostname", "read"));
  EXPECT_NE(l.run.err.find("the policy covers only what it did before"), std::string::npos)
      << l.run.err;
}

TEST(LearnInterrupt, SecondCtrlCKillsAProgramThatTrapsIt) {
  auto l = interrupt(
      "import signal, sys, time\n"
      "signal.signal(signal.SIGINT, lambda *a: None)\n"
      "open(sys.argv[1], 'w').close()\n"
      "while True: time.sleep(1)\n",
      2);
  EXPECT_FALSE(l.run.timed_out) << l.run.describe();
  EXPECT_EQ(l.run.status, 0) << l.run.describe();
  ASSERT_FALSE(l.recording.is_null()) << l.run.describe();
  EXPECT_EQ(l.recording["ending"], "interrupted (Ctrl-C), killed by SIGKILL");
  EXPECT_FALSE(l.recording["complete"].get<bool>());
  EXPECT_GE(calls(l.recording, "rt_sigaction"), 1u);
}

// ---- The workloads of issue 5: learn, run the same workload confined by
// what was learned (zero denials), then a probe outside it is refused.

namespace workloads {

// `least learn -o POLICY -- COMMAND`; the policy must have been written.
SpawnResult learn_policy(const std::string& policy, const std::vector<std::string>& command,
                         const SpawnOptions& options) {
  return spawn(least_learn({"-o", policy}, command), options);
}

SpawnResult run_confined(const std::string& policy, const std::vector<std::string>& command,
                         const SpawnOptions& options) {
  return spawn(least_run({"-p", policy}, command), options);
}

bool blocked(const SpawnResult& r) {
  return has_line_starting_with(r.err, "least: blocked");
}

}  // namespace workloads

using namespace workloads;

TEST(LearnWorkload, PythonReadsFilesAndServesHttp) {
  TempDir dir;
  dir.write("data.txt", "learned data\n");
  const int port = test_port(0), other = test_port(1);
  LoopbackServer other_server(other, dir.path());
  std::string script =
      dir.write("serve.py",
                "import http.server, socket, sys, threading, urllib.request\n"
                "mode, arg = sys.argv[1], sys.argv[2]\n"
                "if mode == 'serve':\n"
                "    port = int(arg)\n"
                "    body = open('data.txt', 'rb').read()\n"
                "    class H(http.server.BaseHTTPRequestHandler):\n"
                "        def do_GET(self):\n"
                "            self.send_response(200); self.end_headers()\n"
                "            self.wfile.write(body)\n"
                "        def log_message(self, *a): pass\n"
                "    s = http.server.HTTPServer(('127.0.0.1', port), H)\n"
                "    threading.Thread(target=s.handle_request).start()\n"
                "    got = urllib.request.urlopen(f'http://127.0.0.1:{port}/').read()\n"
                "    assert got == body, got\n"
                "    print('served', got.decode().strip())\n"
                "elif mode == 'read':\n"
                "    print(open(arg).read())\n"
                "elif mode == 'connect':\n"
                "    socket.create_connection(('127.0.0.1', int(arg)))\n"
                "    print('connected')\n");
  std::string policy = dir / "python.least.toml";
  std::vector<std::string> serve = {"/usr/bin/python3", script, "serve", std::to_string(port)};
  auto learned = learn_policy(policy, serve, in(dir));
  ASSERT_EQ(learned.status, 0) << learned.describe();
  auto again = run_confined(policy, serve, in(dir));
  EXPECT_EQ(again.status, 0) << again.describe() << "\n" << slurp(policy);
  EXPECT_FALSE(blocked(again)) << again.describe() << "\n" << slurp(policy);
  EXPECT_EQ(again.out, "served learned data\n") << again.describe();

  auto shadow = run_confined(policy, {"/usr/bin/python3", script, "read", "/etc/shadow"}, in(dir));
  EXPECT_NE(shadow.status, 0) << shadow.describe();
  EXPECT_EQ(shadow.out.find("root:"), std::string::npos) << shadow.describe();
  ASSERT_TRUE(port_open(other)) << "the other server is not up";
  auto connect =
      run_confined(policy, {"/usr/bin/python3", script, "connect", std::to_string(other)}, in(dir));
  EXPECT_NE(connect.status, 0) << connect.describe();
  EXPECT_EQ(connect.out.find("connected"), std::string::npos) << connect.describe();
}

TEST(LearnWorkload, Sqlite3CreatesAndQueries) {
  TempDir dir;
  std::string policy = dir / "sqlite.least.toml";
  std::vector<std::string> work = {
      "/usr/bin/sqlite3", dir / "app.db",
      "create table t(x text); insert into t values ('one'), ('two'); select count(*) from t;"};
  auto learned = learn_policy(policy, work, in(dir));
  ASSERT_EQ(learned.status, 0) << learned.describe();
  ASSERT_EQ(learned.out, "2\n") << learned.describe();
  std::filesystem::remove(dir / "app.db");
  auto again = run_confined(policy, work, in(dir));
  EXPECT_EQ(again.status, 0) << again.describe() << "\n" << slurp(policy);
  EXPECT_FALSE(blocked(again)) << again.describe() << "\n" << slurp(policy);
  EXPECT_EQ(again.out, "2\n") << again.describe();
  // The sqlite3 shell's .shell runs /bin/sh: never learned.
  auto shell =
      run_confined(policy, {"/usr/bin/sqlite3", dir / "app.db", ".shell echo escaped"}, in(dir));
  EXPECT_EQ(shell.out.find("escaped"), std::string::npos) << shell.describe();
  EXPECT_TRUE(blocked(shell)) << shell.describe();
  auto shadow = run_confined(policy, {"/usr/bin/sqlite3", "/etc/shadow", ".tables"}, in(dir));
  EXPECT_NE(shadow.status, 0) << shadow.describe();
}

TEST(LearnWorkload, GitInitAddCommit) {
  TempDir dir;
  std::string policy = dir / "git.least.toml";
  std::vector<std::string> work = {
      "/bin/sh", "-c",
      "git init -q repo && cd repo && echo content > file && git add file && "
      "git -c user.name=least -c user.email=least@example.org commit -qm first && "
      "git log --oneline | wc -l"};
  auto learned = learn_policy(policy, work, in(dir));
  ASSERT_EQ(learned.status, 0) << learned.describe();
  ASSERT_EQ(learned.out, "1\n") << learned.describe();
  std::filesystem::remove_all(dir / "repo");
  auto again = run_confined(policy, work, in(dir));
  EXPECT_EQ(again.status, 0) << again.describe() << "\n" << slurp(policy);
  EXPECT_FALSE(blocked(again)) << again.describe() << "\n" << slurp(policy);
  EXPECT_EQ(again.out, "1\n") << again.describe();
  auto shadow =
      run_confined(policy, {"/bin/sh", "-c", "read line < /etc/shadow && echo $line"}, in(dir));
  EXPECT_NE(shadow.status, 0) << shadow.describe();
  EXPECT_EQ(shadow.out.find("root"), std::string::npos) << shadow.describe();
}

TEST(LearnWorkload, TarGzipOfADirectory) {
  TempDir dir;
  std::filesystem::create_directories(dir / "src/sub");
  dir.write("src/a.txt", "a\n");
  dir.write("src/sub/b.txt", "b\n");
  std::string policy = dir / "tar.least.toml";
  std::vector<std::string> work = {"/usr/bin/tar", "czf", dir / "out.tgz", "-C", dir.path(), "src"};
  auto learned = learn_policy(policy, work, in(dir));
  ASSERT_EQ(learned.status, 0) << learned.describe();
  std::filesystem::remove(dir / "out.tgz");
  auto again = run_confined(policy, work, in(dir));
  EXPECT_EQ(again.status, 0) << again.describe() << "\n" << slurp(policy);
  EXPECT_FALSE(blocked(again)) << again.describe() << "\n" << slurp(policy);
  auto listing = spawn({"/usr/bin/tar", "tzf", dir / "out.tgz"});
  EXPECT_NE(listing.out.find("src/sub/b.txt"), std::string::npos) << listing.describe();
  auto shadow =
      run_confined(policy, {"/usr/bin/tar", "czf", dir / "out.tgz", "/etc/shadow"}, in(dir));
  EXPECT_NE(shadow.status, 0) << shadow.describe();
}

TEST(LearnWorkload, CurlFromALoopbackServer) {
  TempDir dir, served;
  served.write("page.html", "hello from loopback\n");
  const int port = test_port(0), other = test_port(1);
  LoopbackServer server(port, served.path()), other_server(other, served.path());
  ASSERT_TRUE(port_open(port) && port_open(other)) << "the servers are not up";
  std::string policy = dir / "curl.least.toml";
  auto fetch = [&](int p) {
    return std::vector<std::string>{"/usr/bin/curl", "-sS",
                                    "http://127.0.0.1:" + std::to_string(p) + "/page.html"};
  };
  auto learned = learn_policy(policy, fetch(port), in(dir));
  ASSERT_EQ(learned.status, 0) << learned.describe();
  ASSERT_EQ(learned.out, "hello from loopback\n") << learned.describe();
  auto again = run_confined(policy, fetch(port), in(dir));
  EXPECT_EQ(again.status, 0) << again.describe() << "\n" << slurp(policy);
  EXPECT_FALSE(blocked(again)) << again.describe() << "\n" << slurp(policy);
  EXPECT_EQ(again.out, "hello from loopback\n") << again.describe();
  auto elsewhere = run_confined(policy, fetch(other), in(dir));
  EXPECT_NE(elsewhere.status, 0) << elsewhere.describe();
  EXPECT_EQ(elsewhere.out.find("hello"), std::string::npos) << elsewhere.describe();
  auto file = run_confined(policy, {"/usr/bin/curl", "-sS", "file:///etc/shadow"}, in(dir));
  EXPECT_NE(file.status, 0) << file.describe();
  EXPECT_EQ(file.out.find("root:"), std::string::npos) << file.describe();
}

TEST(LearnWorkload, MergeAddsASecondRun) {
  TempDir dir;
  std::string policy = dir / "cat.least.toml";
  dir.write("one", "1\n");
  dir.write("two", "2\n");
  ASSERT_EQ(learn_policy(policy, {"/usr/bin/cat", dir / "one"}, in(dir)).status, 0);
  auto second =
      spawn(least_learn({"--merge", policy, "-o", policy}, {"/usr/bin/cat", dir / "two"}), in(dir));
  ASSERT_EQ(second.status, 0) << second.describe();
  for (const char* name : {"one", "two"}) {
    auto r = run_confined(policy, {"/usr/bin/cat", dir / name}, in(dir));
    EXPECT_EQ(r.status, 0) << r.describe() << "\n" << slurp(policy);
    EXPECT_FALSE(blocked(r)) << r.describe();
  }
  auto shadow = run_confined(policy, {"/usr/bin/cat", "/etc/shadow"}, in(dir));
  EXPECT_NE(shadow.status, 0) << shadow.describe();
}

}  // namespace
}  // namespace least::testing
