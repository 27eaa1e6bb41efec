#include "learn/recording.h"

#include <algorithm>

namespace least::learn {

void merge_recording(Recording& into, const Recording& other) {
  if (into.command.empty()) into.command = other.command;
  for (const auto& [name, use] : other.syscalls) {
    SyscallUse& mine = into.syscalls[name];
    mine.count += use.count;
    for (const auto& [arg, values] : use.values)
      mine.values[arg].insert(values.begin(), values.end());
  }
  for (const auto& [path, access] : other.paths) into.paths[path] |= access;
  into.connects.insert(other.connects.begin(), other.connects.end());
  into.binds.insert(other.binds.begin(), other.binds.end());
  into.peak_processes = std::max(into.peak_processes, other.peak_processes);
  into.peak_open_files = std::max(into.peak_open_files, other.peak_open_files);
  into.lost.insert(into.lost.end(), other.lost.begin(), other.lost.end());
  // One incomplete run makes the union incomplete; its ending is the one said.
  if (into.complete && !other.complete) {
    into.ending = other.ending;
    into.exit_code = other.exit_code;
  } else if (into.ending.empty()) {
    into.ending = other.ending;
    into.exit_code = other.exit_code;
  }
  into.complete = into.complete && other.complete;
}

}  // namespace least::learn
