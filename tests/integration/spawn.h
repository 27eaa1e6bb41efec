// Spawning real processes for the integration tests: argv in, exit status,
// stdout and stderr out, with a deadline so that a hung child fails the test
// instead of hanging the suite.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace least::testing {

struct SpawnOptions {
  // Written to the child's stdin, which is then closed. Without it, stdin is
  // /dev/null (not a tty: ioctl requests that reach the kernel answer ENOTTY).
  std::optional<std::string> stdin_data;
  std::string cwd;               // empty: the test's own
  std::vector<std::string> env;  // "NAME=value", added to (or replacing in) ours
  std::chrono::milliseconds timeout{20000};
};

struct SpawnResult {
  // As a shell reports it: the exit code, or 128+N when killed by signal N;
  // -1 when the child could not be started or missed its deadline.
  int status = -1;
  bool signaled = false;  // killed by a signal (status is then 128+N)
  bool timed_out = false;
  std::string out, err;
  std::chrono::milliseconds elapsed{0};

  // For failure messages: status, stdout and stderr.
  std::string describe() const;
};

// A running child; wait() collects its output and status.
class Process {
 public:
  Process(const std::vector<std::string>& argv, const SpawnOptions& options = {});
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  SpawnResult wait();

 private:
  pid_t pid_ = -1;
  int out_ = -1, err_ = -1, in_ = -1;
  std::string stdin_data_;
  std::chrono::milliseconds timeout_;
  std::chrono::steady_clock::time_point start_;
  bool waited_ = false;
  std::string spawn_error_;
};

SpawnResult spawn(const std::vector<std::string>& argv, const SpawnOptions& options = {});

// `least run ARGS... -- COMMAND...`.
std::vector<std::string> least_run(const std::vector<std::string>& least_args,
                                   const std::vector<std::string>& command);

// The probe's argv: LEAST_PROBE followed by `args`.
std::vector<std::string> probe(const std::vector<std::string>& args);

// `least run --promise PROMISES -- least-probe ARGS...`.
SpawnResult run_probe(const std::string& promises, const std::vector<std::string>& args);

// The number of an errno name such as "EPERM" (strerrorname_np's names), or -1.
int errno_from_name(const std::string& name);

// setpriv's argv prefix that runs the rest as nobody (uid and gid 65534).
std::vector<std::string> as_nobody(const std::vector<std::string>& argv);

// A directory under /tmp, removed with its contents when this goes away.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }
  // Writes a file (mode applied with chmod, so the umask does not matter).
  std::string write(const std::string& name, const std::string& content, int mode = 0644) const;

 private:
  std::string path_;
};

// True when `s` has a line starting with `prefix`.
bool has_line_starting_with(const std::string& s, const std::string& prefix);

}  // namespace least::testing
