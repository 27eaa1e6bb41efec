// The fewest promises that cover a recording's syscalls with their
// argument values; what no promise covers becomes `[syscalls] allow`.
#pragma once

#include <string>
#include <vector>

#include "learn/draft.h"
#include "learn/recording.h"

namespace least::learn {

struct SyscallCover {
  std::vector<Entry> promises;  // catalog order, each with the calls it covers
  std::vector<Entry> allow;     // residual, by name
  std::vector<ConditionalEntry> allow_when;
};

struct CoverOptions {
  // A single execve is the launcher's (`least run` lets it through without
  // the exec promise). Off for static analysis, where execve means the code
  // can start other programs.
  bool launcher_exec = true;
  // What SyscallUse::count counts, for comments: "call"/"calls" for a run,
  // "site"/"sites" for static analysis.
  const char* one = "call";
  const char* many = "calls";
};

// `required` are promises chosen beforehand (wpath because files were
// written, inet because of endpoints), with the comment that says why.
SyscallCover cover_syscalls(const Recording& recording, const std::vector<Entry>& required,
                            const CoverOptions& options = {});

}  // namespace least::learn
