// `least analyze` against what real Debian programs do: for each program, a
// workload is learned (`least learn`, notify backend) and every syscall seen
// must be in the static set (`least analyze --json`): zero false negatives.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "learn_fixture.h"
#include "spawn.h"

namespace least::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

const std::string kServers = "/var/cache/least/servers";

bool require_all() {
  const char* v = getenv("LEAST_REQUIRE_ALL");
  return v && std::string(v) == "1";
}

class AnalyzeVersusLearn : public ::testing::Test {
 protected:
  // One summary cache for the suite: libc is disassembled once.
  static void SetUpTestSuite() { cache_ = std::make_unique<TempDir>(); }
  static void TearDownTestSuite() { cache_.reset(); }

  json analyse(const std::string& program) {
    auto r = spawn({LEAST_BINARY, "analyze", "--json", "--cache-dir", cache_->path(), program},
                   long_deadline());
    EXPECT_EQ(r.status, 0) << r.describe();
    return r.status == 0 ? json::parse(r.out) : json();
  }

  static SpawnOptions long_deadline() {
    SpawnOptions o;
    o.timeout = 300000ms;  // the sanitizer build disassembles slowly
    return o;
  }

  // The syscalls one learned run made, but the launcher's execve.
  std::set<std::string> learned(const json& recording) {
    std::set<std::string> out;
    for (const auto& [name, use] : recording["syscalls"].items()) out.insert(name);
    EXPECT_LE(calls(recording, "execve"), 1u) << "the workload must be one program";
    out.erase("execve");
    return out;
  }

  // Learns `command` in `dir` (started and driven by `drive` when given,
  // which must end it), returns what it made.
  std::set<std::string> learn_run(const TempDir& dir, const std::vector<std::string>& command,
                                  const std::function<void(Process&)>& drive = {}) {
    std::string file = dir / "recording.json";
    std::filesystem::remove(file);
    Process p(least_learn({"--recording-json", file, "-o", dir / "learned.least.toml"}, command),
              in(dir));
    if (drive) drive(p);
    auto r = p.wait();
    EXPECT_TRUE(std::filesystem::exists(file)) << r.describe();
    if (!std::filesystem::exists(file)) return {};
    return learned(json::parse(slurp(file)));
  }

  // Every learned syscall is in the static set.
  void expect_covered(const std::string& program, const std::set<std::string>& dynamic) {
    json a = analyse(program);
    ASSERT_FALSE(a.is_null());
    std::set<std::string> statically;
    for (const auto& s : a["syscalls"]) statically.insert(s["name"].get<std::string>());
    std::vector<std::string> missed;
    for (const auto& n : dynamic)
      if (!statically.count(n)) missed.push_back(n);
    EXPECT_TRUE(missed.empty()) << program << ": learned but not found statically: "
                                << ::testing::PrintToString(missed);
    EXPECT_FALSE(dynamic.empty());
    // For docs/analyze.md: the two counts side by side.
    std::cout << "analyze-vs-learn " << program << " static=" << statically.size()
              << " dynamic=" << dynamic.size() << " unknown_sites=" << a["unknown_numbers"].size()
              << " seconds=" << a["seconds"] << "\n";
  }

  static std::unique_ptr<TempDir> cache_;
};
std::unique_ptr<TempDir> AnalyzeVersusLearn::cache_;

TEST_F(AnalyzeVersusLearn, Ls) {
  TempDir dir;
  expect_covered("/usr/bin/ls", learn_run(dir, {"/usr/bin/ls", "-la", "/usr/include"}));
}

TEST_F(AnalyzeVersusLearn, Cat) {
  TempDir dir;
  expect_covered("/usr/bin/cat",
                 learn_run(dir, {"/usr/bin/cat", "/etc/hostname", "/etc/os-release"}));
}

TEST_F(AnalyzeVersusLearn, Tar) {
  TempDir dir;
  auto made =
      learn_run(dir, {"/usr/bin/tar", "cf", dir / "out.tar", "-C", "/usr/include", "linux"});
  auto more = learn_run(dir, {"/usr/bin/tar", "xf", dir / "out.tar", "-C", dir.path()});
  made.insert(more.begin(), more.end());
  expect_covered("/usr/bin/tar", made);
}

TEST_F(AnalyzeVersusLearn, Gzip) {
  TempDir dir;
  std::filesystem::copy_file("/etc/services", dir / "services");
  auto made = learn_run(dir, {"/usr/bin/gzip", "-9", dir / "services"});
  auto more = learn_run(dir, {"/usr/bin/gzip", "-d", dir / "services.gz"});
  made.insert(more.begin(), more.end());
  expect_covered("/usr/bin/gzip", made);
}

TEST_F(AnalyzeVersusLearn, Python3) {
  TempDir dir;
  const int port = test_port(3);
  std::string script =
      "import json, os, threading, http.server, urllib.request\n"
      "open('data.json', 'w').write(json.dumps({'k': list(range(10))}))\n"
      "class H(http.server.BaseHTTPRequestHandler):\n"
      "    def do_GET(self):\n"
      "        body = open('data.json', 'rb').read()\n"
      "        self.send_response(200); self.end_headers(); self.wfile.write(body)\n"
      "    def log_message(self, *a): pass\n"
      "s = http.server.HTTPServer(('127.0.0.1', " +
      std::to_string(port) +
      "), H)\n"
      "threading.Thread(target=s.handle_request).start()\n"
      "print(urllib.request.urlopen('http://127.0.0.1:" +
      std::to_string(port) +
      "/').read()[:10])\n"
      "print(sorted(os.listdir('.')))\n";
  expect_covered("/usr/bin/python3", learn_run(dir, {"/usr/bin/python3", "-c", script}));
}

TEST_F(AnalyzeVersusLearn, Sqlite3) {
  TempDir dir;
  expect_covered("/usr/bin/sqlite3",
                 learn_run(dir, {"/usr/bin/sqlite3", dir / "app.db",
                                 "create table t(x, y); insert into t values (1, 'a'), (2, 'b'); "
                                 "create index i on t(y); select count(*) from t;"}));
}

TEST_F(AnalyzeVersusLearn, Git) {
  TempDir dir;
  std::vector<std::string> git = {"/usr/bin/git",           "-c", "user.name=t", "-c",
                                  "user.email=t@e",         "-c", "gc.auto=0",   "-c",
                                  "maintenance.auto=false", "-C", dir.path()};
  auto with = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = git;
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  };
  auto made = learn_run(dir, with({"init", "-q", "."}));
  dir.write("a.txt", "hello\n");
  for (auto args : {std::vector<std::string>{"add", "a.txt"},
                    std::vector<std::string>{"commit", "-q", "-m", "one"},
                    std::vector<std::string>{"log", "--oneline"}}) {
    auto more = learn_run(dir, with(args));
    made.insert(more.begin(), more.end());
  }
  expect_covered("/usr/bin/git", made);
}

TEST_F(AnalyzeVersusLearn, Curl) {
  TempDir dir, served;
  served.write("index.txt", "served\n");
  const int port = test_port(4);
  LoopbackServer server(port, served.path());
  ASSERT_TRUE(port_open(port));
  expect_covered("/usr/bin/curl",
                 learn_run(dir, {"/usr/bin/curl", "-sS", "-o", dir / "got.txt",
                                 "http://127.0.0.1:" + std::to_string(port) + "/index.txt"}));
}

// One HTTP GET on 127.0.0.1:port; true when a reply came.
bool http_get(int port) {
  int fd = connect_loopback(port);
  bool ok = fd >= 0;
  std::string req = "GET / HTTP/1.0\r\nHost: localhost\r\n\r\n";
  ok = ok && write(fd, req.data(), req.size()) == static_cast<ssize_t>(req.size());
  char buf[256];
  ok = ok && read(fd, buf, sizeof buf) > 0;
  if (fd >= 0) close(fd);
  return ok;
}

TEST_F(AnalyzeVersusLearn, Nginx) {
  const std::string nginx = kServers + "/usr/sbin/nginx";
  if (!std::filesystem::exists(nginx)) {
    if (require_all()) FAIL() << nginx << " missing: run scripts/install-deps.sh";
    GTEST_SKIP() << nginx << " missing (LEAST_REQUIRE_ALL=1 fails instead)";
  }
  TempDir dir;
  const int port = test_port(5);
  dir.write("html/index.html", "");  // the directory
  std::filesystem::create_directories(dir / "html");
  dir.write("html/index.html", "hello\n");
  dir.write("nginx.conf",
            "pid " + (dir / "nginx.pid") + ";\nerror_log " + (dir / "error.log") +
                ";\nevents { worker_connections 16; }\nhttp {\n  access_log " +
                (dir / "access.log") + ";\n  client_body_temp_path " + (dir / "body") +
                ";\n  proxy_temp_path " + (dir / "proxy") + ";\n  fastcgi_temp_path " +
                (dir / "fastcgi") + ";\n  uwsgi_temp_path " + (dir / "uwsgi") +
                ";\n  scgi_temp_path " + (dir / "scgi") + ";\n  server {\n    listen 127.0.0.1:" +
                std::to_string(port) + ";\n    root " + (dir / "html") + ";\n  }\n}\n");
  auto made =
      learn_run(dir,
                {nginx, "-e", dir / "error.log", "-p", dir.path(), "-c", dir / "nginx.conf", "-g",
                 "daemon off; master_process off;"},
                [&](Process&) {
                  for (int i = 0; i < 200 && !port_open(port); ++i)
                    std::this_thread::sleep_for(50ms);
                  EXPECT_TRUE(http_get(port));
                  auto pid = slurp(dir / "nginx.pid");
                  ASSERT_FALSE(pid.empty());
                  kill(std::stoi(pid), SIGQUIT);  // the nginx this test started, by its pid file
                });
  expect_covered(nginx, made);
}

TEST_F(AnalyzeVersusLearn, RedisServer) {
  const std::string redis = kServers + "/usr/bin/redis-server";
  if (!std::filesystem::exists(redis)) {
    if (require_all()) FAIL() << redis << " missing: run scripts/install-deps.sh";
    GTEST_SKIP() << redis << " missing (LEAST_REQUIRE_ALL=1 fails instead)";
  }
  TempDir dir;
  std::string sock = dir / "redis.sock";
  auto made =
      learn_run(dir,
                {redis, "--port", "0", "--unixsocket", sock, "--dir", dir.path(), "--save", "",
                 "--appendonly", "no", "--daemonize", "no"},
                [&](Process&) {
                  int fd = -1;
                  for (int i = 0; i < 200; ++i) {
                    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                    sockaddr_un a{};
                    a.sun_family = AF_UNIX;
                    snprintf(a.sun_path, sizeof a.sun_path, "%s", sock.c_str());
                    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) break;
                    close(fd);
                    fd = -1;
                    std::this_thread::sleep_for(50ms);
                  }
                  ASSERT_GE(fd, 0) << "redis-server did not listen on " << sock;
                  std::string cmds = "SET k v\r\nGET k\r\nSHUTDOWN NOSAVE\r\n";
                  ASSERT_EQ(write(fd, cmds.data(), cmds.size()), static_cast<ssize_t>(cmds.size()));
                  char buf[256];
                  while (read(fd, buf, sizeof buf) > 0) {
                  }
                  close(fd);
                });
  expect_covered(redis, made);
}

// The command line: what a script relies on.
TEST(AnalyzeCli, ExitStatusesAndOutputs) {
  TempDir dir;
  auto missing = spawn({LEAST_BINARY, "analyze", "--no-cache", "/nonexistent/program"});
  EXPECT_EQ(missing.status, 2) << missing.describe();
  EXPECT_NE(missing.err.find("/nonexistent/program"), std::string::npos) << missing.err;
  auto not_elf = spawn({LEAST_BINARY, "analyze", "--no-cache", "/etc/hostname"});
  EXPECT_EQ(not_elf.status, 2) << not_elf.describe();
  auto unwritable =
      spawn({LEAST_BINARY, "analyze", "--no-cache", "-o", dir / "no/such/dir/x.toml", "cat"});
  EXPECT_EQ(unwritable.status, 1) << unwritable.describe();
  // A bare name is found in $PATH; the policy is written to -o and parses.
  auto ok = spawn({LEAST_BINARY, "analyze", "--no-cache", "-o", dir / "cat.least.toml", "cat"});
  ASSERT_EQ(ok.status, 0) << ok.describe();
  EXPECT_NE(ok.err.find("least: analyze: "), std::string::npos) << ok.err;
  auto explain = spawn({LEAST_BINARY, "explain", "-p", dir / "cat.least.toml"});
  EXPECT_EQ(explain.status, 0) << explain.describe();
}

// The analysed policy of cat runs cat, and refuses a syscall cat's code
// never makes.
TEST(AnalyzeCli, TheAnalysedPolicyRunsTheProgramAndRefusesTheRest) {
  TempDir dir;
  std::string policy = dir / "cat.least.toml";
  auto a = spawn({LEAST_BINARY, "analyze", "--no-cache", "-o", policy, "/usr/bin/cat"});
  ASSERT_EQ(a.status, 0) << a.describe();
  std::string text = slurp(policy);
  // Static analysis gives no paths: the run needs the file it reads.
  dir.write("cat.least.toml", text + "\n[filesystem]\nread = [\"/etc/hostname\"]\n");
  auto run = spawn(least_run({"-p", policy}, {"/usr/bin/cat", "/etc/hostname"}));
  EXPECT_EQ(run.status, 0) << run.describe();
  EXPECT_FALSE(has_line_starting_with(run.err, "least: blocked")) << run.err;
  // cat's code never makes ptrace: the probe under the same policy is refused.
  EXPECT_EQ(text.find("ptrace"), std::string::npos) << text;
  auto probed = spawn(least_run({"-p", policy}, probe({"ptrace-traceme"})));
  EXPECT_TRUE(has_line_starting_with(probed.err, "least: blocked")) << probed.describe();
}

// As an ordinary user: the cache goes to that user's own directory.
TEST(AnalyzeCli, WorksUnprivilegedWithItsOwnCache) {
  TempDir dir;
  chmod(dir.path().c_str(), 0777);
  auto root = spawn({LEAST_BINARY, "analyze", "--no-cache", "--json", "/usr/bin/cat"});
  ASSERT_EQ(root.status, 0) << root.describe();
  SpawnOptions o;
  o.env = {"XDG_CACHE_HOME=" + dir.path(), "HOME=" + dir.path()};
  auto user = spawn(as_nobody({LEAST_BINARY, "analyze", "--json", "/usr/bin/cat"}), o);
  ASSERT_EQ(user.status, 0) << user.describe();
  EXPECT_EQ(json::parse(user.out)["syscalls"], json::parse(root.out)["syscalls"]);
  EXPECT_TRUE(std::filesystem::exists(dir / "least/analyze")) << user.err;
  // A second run reads every summary from that cache.
  auto again = spawn(as_nobody({LEAST_BINARY, "analyze", "--json", "/usr/bin/cat"}), o);
  ASSERT_EQ(again.status, 0) << again.describe();
  json again_json = json::parse(again.out);  // named: a temporary would die before the loop
  for (const auto& obj : again_json["objects"]) EXPECT_TRUE(obj["cached"]) << obj;
  // Another program on the same libc reads libc's summary from the cache.
  auto other = spawn(as_nobody({LEAST_BINARY, "analyze", "--json", "/usr/bin/ls"}), o);
  ASSERT_EQ(other.status, 0) << other.describe();
  bool libc_cached = false;
  json other_json = json::parse(other.out);
  for (const auto& obj : other_json["objects"])
    if (obj["path"].get<std::string>().find("libc.so.6") != std::string::npos)
      libc_cached = obj["cached"].get<bool>();
  EXPECT_TRUE(libc_cached) << other_json["objects"].dump();
}

}  // namespace
}  // namespace least::testing
