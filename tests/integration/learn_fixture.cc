#include "learn_fixture.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

namespace least::testing {

using namespace std::chrono_literals;

std::vector<std::string> least_learn(const std::vector<std::string>& least_args,
                                     const std::vector<std::string>& command) {
  std::vector<std::string> argv = {LEAST_BINARY, "learn"};
  if (std::find(least_args.begin(), least_args.end(), "--backend") == least_args.end())
    argv.insert(argv.end(), {"--backend", "notify"});
  argv.insert(argv.end(), least_args.begin(), least_args.end());
  argv.push_back("--");
  argv.insert(argv.end(), command.begin(), command.end());
  return argv;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

bool has_access(const nlohmann::json& r, const std::string& path, const std::string& kind) {
  if (!r["paths"].contains(path)) return false;
  std::string kinds = r["paths"][path];
  return ("," + kinds + ",").find("," + kind + ",") != std::string::npos;
}

bool has_endpoint(const nlohmann::json& list, const std::string& protocol,
                  const std::string& address, int port) {
  for (const auto& e : list)
    if (e["protocol"] == protocol && e["address"] == address && e["port"] == port) return true;
  return false;
}

uint64_t calls(const nlohmann::json& r, const std::string& syscall) {
  auto it = r["syscalls"].find(syscall);
  return it == r["syscalls"].end() ? 0 : (*it)["count"].get<uint64_t>();
}

int test_port(int offset) {
  return 20000 + static_cast<int>(getpid() % 10000) * 4 + offset;
}

int connect_loopback(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd >= 0 && connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

bool port_open(int port) {
  int fd = connect_loopback(port);
  if (fd >= 0) close(fd);
  return fd >= 0;
}

SpawnOptions in(const TempDir& dir) {
  SpawnOptions o;
  o.cwd = dir.path();
  o.timeout = 60000ms;
  o.env = {"HOME=" + dir.path(), "LC_ALL=C"};
  return o;
}

namespace {
SpawnOptions server_options() {
  SpawnOptions o;
  o.timeout = 120000ms;
  return o;
}
}  // namespace

LoopbackServer::LoopbackServer(int port, const std::string& dir)
    : process_({"/usr/bin/python3", "-m", "http.server", std::to_string(port), "--bind",
                "127.0.0.1", "--directory", dir},
               server_options()) {
  for (int i = 0; i < 200 && !port_open(port); ++i) std::this_thread::sleep_for(50ms);
}

LoopbackServer::~LoopbackServer() {
  kill(process_.pid(), SIGTERM);
}

}  // namespace least::testing
