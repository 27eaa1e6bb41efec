// The command line: parses arguments into a command and runs it. Returns the
// exit status; never calls exit(), so tests can drive it directly.
#pragma once

#include <string>
#include <vector>

#include "base/error.h"

namespace least::cli {

// Exit statuses (docs/exit-codes.md).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitLeastFailed = 125;  // run: least itself failed (bad policy included)
inline constexpr int kExitCannotExec = 126;
inline constexpr int kExitNotFound = 127;

int run_app(std::vector<std::string> args);

// What run, check and learn exit with when least cannot start the program
// (127 not found, 126 cannot execute) or fails itself (125).
int exit_code_for(const Error& e);

}  // namespace least::cli
