// What both backends share: the program run as it would run without least
// (no namespaces, capabilities kept, nothing refused), its tree's peaks
// sampled, Ctrl-C handled, and how it ended written into the Recording.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <vector>

#include "base/error.h"
#include "base/unique_fd.h"
#include "enforce/launcher.h"
#include "enforce/notification_handler.h"
#include "enforce/seccomp_filter.h"
#include "learn/backend.h"
#include "learn/recording.h"

namespace least::learn {

struct WatchHooks {
  const enforce::BpfProgram* filter = nullptr;  // null: no seccomp filter at all
  std::function<std::unique_ptr<enforce::NotificationHandler>(UniqueFd listener)> make_handler;
  std::function<Status(pid_t)> on_started;  // before the program's first instruction
  std::vector<enforce::LaunchRequest::WatchedFd> watched;
  // Every tick while the program runs (20 ms), after the peaks are sampled.
  std::function<void()> on_tick;
};

// Runs request.command with the hooks. The first Ctrl-C reaches the program
// (as without least) and the run ends when it does; a second one kills the
// tree. Sets recording.ending, complete, exit_code, peak_processes and
// peak_open_files. Errors only when the program cannot be started or least
// itself fails.
Status run_watched(const RecordRequest& request, const WatchHooks& hooks, Recording& recording);

}  // namespace least::learn
