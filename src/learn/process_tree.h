// The program's process tree as /proc shows it, for peaks and for ending a
// run: no namespaces in learn, so our /proc is the program's.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <vector>

namespace least::learn {

// Every process below `root` (not root itself), parents before children,
// from /proc/PID/task/TID/children.
void descendants(pid_t root, std::vector<pid_t>& out);

// Open descriptors of a process (0 when it is gone).
uint64_t open_files(pid_t pid);

// Raises peak_processes and peak_open_files to what the tree below the
// sandbox's init holds now. `scratch` keeps its buffer between calls.
void sample_peaks(pid_t sandbox, uint64_t& peak_processes, uint64_t& peak_open_files,
                  std::vector<pid_t>& scratch);

}  // namespace least::learn
