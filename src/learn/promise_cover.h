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

// `required` are promises chosen beforehand (wpath because files were
// written, inet because of endpoints), with the comment that says why.
SyscallCover cover_syscalls(const Recording& recording, const std::vector<Entry>& required);

}  // namespace least::learn
