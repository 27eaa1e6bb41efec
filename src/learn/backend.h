// The two recording backends behind one interface: each runs a command with
// nothing refused and returns what the whole process tree did.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "base/error.h"
#include "learn/recording.h"

namespace least::learn {

struct RecordRequest {
  std::vector<std::string> command;  // argv[0] looked up in PATH
  // Lines for people on stderr ("least: learn: interrupted: ...").
  std::function<void(const std::string&)> say = [](const std::string&) {};
};

// seccomp user notification answering CONTINUE: works unprivileged and
// follows forks, threads and execs. Errors: kNotFound / kCannotExec when the
// program cannot be started, anything else is least's own failure. A program
// that crashes or is interrupted is no error: see Recording::ending.
Result<Recording> record_with_notify(const RecordRequest& request);

// Raw syscall tracepoints filtered to the traced tree in the kernel, numbers
// counted there, paths and addresses sent through a ring buffer. Needs root
// or CAP_BPF + CAP_PERFMON.
Result<Recording> record_with_ebpf(const RecordRequest& request);

// Whether record_with_ebpf can work here; the error says why not.
Status ebpf_available();

}  // namespace least::learn
