// The [filesystem] lists a person would write for the paths a run touched:
// files collapsed into the directories that hold them where that is what
// people mean (a library or zoneinfo tree, a build tree), never into "/",
// /etc or the home directory without saying so.
#pragma once

#include <string>
#include <vector>

#include "learn/draft.h"
#include "learn/recording.h"

namespace least::learn {

struct PathLists {
  std::vector<Entry> read, write, create, exec;
  // For the header: what was left out and why ("3 paths no longer exist").
  std::vector<std::string> notes;
};

// `home` is the directory never widened to (the caller's $HOME).
PathLists path_lists(const Recording& recording, const std::string& home);

}  // namespace least::learn
