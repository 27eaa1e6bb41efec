// A policy as least learn writes it: the policy's entries, each with the
// comment that says why it is there. Recordings become drafts
// (policy_writer.cc), policy files become drafts (from_policy), drafts merge
// and render as TOML.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "policy/policy.h"

namespace least::learn {

struct Entry {
  std::string value;    // "stdio", "/usr/share/zoneinfo", "tcp:8080"
  std::string comment;  // "read 3 files, e.g. /usr/share/zoneinfo/UTC"; may be empty
};

struct LimitEntry {
  uint64_t value = 0;
  std::string comment;
};

struct ConditionalEntry {
  std::string name;               // "socket"
  std::vector<std::string> when;  // alternatives, as policy/syscall_condition.h writes them
  std::string comment;
};

struct DenyEntry {
  std::string name;
  std::string action;  // "EPERM", "kill"
  std::string comment;
};

struct Draft {
  std::vector<std::string> header;  // comment lines at the top, without "# "
  std::vector<Entry> promises;
  std::vector<Entry> read, write, create, exec;
  std::vector<Entry> connect, bind;
  std::optional<LimitEntry> processes, memory, open_files, core, stack, cpu_seconds;
  std::vector<Entry> capabilities;
  std::optional<bool> private_tmp;
  std::vector<Entry> allow;
  std::vector<ConditionalEntry> allow_when;
  std::vector<DenyEntry> deny;
};

// TOML that policy/parser.h reads back into the same policy.
std::string render_toml(const Draft& draft);

// A parsed policy as a draft. `text` is the file it came from: a comment at
// the end of an entry's line is kept as that entry's comment.
Draft from_policy(const policy::Policy& policy, const std::string& text);

// Drops path entries that a directory entry of the same or a stronger list
// covers (create > write > read; exec > read).
void drop_covered_paths(Draft& draft);

// Adds `other` to `into`: lists united (an entry already present keeps its
// comment), limits the larger of the two, header lines appended.
void merge_draft(Draft& into, const Draft& other);

}  // namespace least::learn
