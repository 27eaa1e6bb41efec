// Turns a refused call's raw arguments into words: paths read from the
// process's memory (bounded, never trusted beyond the read), open flags,
// socket families and types, addresses, ioctl requests, clone flags.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace least::enforce {

struct DecodedCall {
  std::string syscall;  // "connect"
  std::string text;     // "connect(3, 127.0.0.1:8080)"
  // The same, as fields for the JSON log: {"fd", "3"}, {"address", "127.0.0.1:8080"}.
  std::vector<std::pair<std::string, std::string>> fields;
};

// `syscall` is the name from the syscall table ("" when unknown). Reads the
// process's memory for pointers; the caller must check that the seccomp
// notification is still valid before trusting the result.
DecodedCall decode_call(pid_t pid, const std::string& syscall, int number,
                        const std::array<uint64_t, 6>& args);

// Reads a NUL-terminated string of at most `max` bytes from another process.
std::string read_remote_string(pid_t pid, uint64_t addr, size_t max = 4096);

}  // namespace least::enforce
