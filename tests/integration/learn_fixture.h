// What the tests of `least learn` (and of `least analyze` against it) share:
// running `least learn` on a command, reading its --recording-json, loopback
// ports and a loopback HTTP server.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "spawn.h"

namespace least::testing {

// `least learn LEAST_ARGS... -- COMMAND...`, with `--backend notify` unless
// LEAST_ARGS name a backend (as root `auto` would pick eBPF).
std::vector<std::string> least_learn(const std::vector<std::string>& least_args,
                                     const std::vector<std::string>& command);

std::string slurp(const std::string& path);

// In a recording (--recording-json): the path was accessed with `kind`
// ("read", "write", "create", "exec").
bool has_access(const nlohmann::json& recording, const std::string& path, const std::string& kind);
bool has_endpoint(const nlohmann::json& list, const std::string& protocol,
                  const std::string& address, int port);
// How often the recording saw `syscall` (0 when never).
uint64_t calls(const nlohmann::json& recording, const std::string& syscall);

// A loopback port for this test process: 20000 + a per-pid slot + offset.
int test_port(int offset);
// A TCP connection to 127.0.0.1:port, or -1; the caller closes it.
int connect_loopback(int port);
bool port_open(int port);

// Runs in `dir`, with HOME there, the C locale and a 60 s deadline.
SpawnOptions in(const TempDir& dir);

// python3's http.server on 127.0.0.1:port, outside least, serving `dir`.
class LoopbackServer {
 public:
  LoopbackServer(int port, const std::string& dir);
  ~LoopbackServer();
  LoopbackServer(const LoopbackServer&) = delete;
  LoopbackServer& operator=(const LoopbackServer&) = delete;

 private:
  Process process_;
};

}  // namespace least::testing
