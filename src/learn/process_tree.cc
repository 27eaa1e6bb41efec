#include "learn/process_tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "base/unique_fd.h"

namespace least::learn {

namespace {

struct DirCloser {
  void operator()(DIR* d) const { closedir(d); }
};
using Dir = std::unique_ptr<DIR, DirCloser>;

// Threads have children of their own: a child forked by a thread is listed
// under that thread only.
void children_of(pid_t pid, std::vector<pid_t>& out) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/task", pid);
  Dir tasks(opendir(path));
  if (!tasks) return;
  char buf[4096];
  std::string text;
  while (struct dirent* e = readdir(tasks.get())) {
    if (e->d_name[0] == '.') continue;
    snprintf(path, sizeof path, "/proc/%d/task/%.20s/children", pid, e->d_name);
    UniqueFd fd(open(path, O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) continue;
    // Space-separated pids; a long list may take several reads.
    text.clear();
    ssize_t n;
    while ((n = read(fd.get(), buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
    const char* p = text.c_str();
    char* end;
    for (long child = strtol(p, &end, 10); end != p; child = strtol(p, &end, 10)) {
      out.push_back(static_cast<pid_t>(child));
      p = end;
    }
  }
}

}  // namespace

void descendants(pid_t root, std::vector<pid_t>& out) {
  out.clear();
  children_of(root, out);
  for (size_t i = 0; i < out.size(); ++i) children_of(out[i], out);
}

uint64_t open_files(pid_t pid) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/fd", pid);
  Dir fds(opendir(path));
  if (!fds) return 0;
  uint64_t n = 0;
  while (struct dirent* e = readdir(fds.get()))
    if (e->d_name[0] != '.') ++n;
  return n;
}

void sample_peaks(pid_t sandbox, uint64_t& peak_processes, uint64_t& peak_open_files,
                  std::vector<pid_t>& scratch) {
  if (sandbox <= 0) return;
  descendants(sandbox, scratch);
  if (scratch.size() > peak_processes) peak_processes = scratch.size();
  for (pid_t p : scratch) {
    uint64_t n = open_files(p);
    if (n > peak_open_files) peak_open_files = n;
  }
}

}  // namespace least::learn
