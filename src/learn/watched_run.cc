#include "learn/watched_run.h"

#include <fmt/format.h>
#include <signal.h>
#include <string.h>

#include <algorithm>

#include "learn/process_tree.h"
#include "plan/plan.h"

namespace least::learn {

namespace {

using namespace std::chrono_literals;

// Often enough to see a shell's short-lived children, rarely enough to cost
// nothing measurable (a handful of /proc reads per tick).
constexpr auto kSampleEvery = 20ms;

// The program as it would run without least: no namespaces, no Landlock, no
// scoping, every capability kept, no limits.
plan::Plan unconfined_plan() {
  plan::Plan plan;
  plan.namespaces.mount = plan.namespaces.pid = plan.namespaces.ipc = false;
  plan.namespaces.uts = plan.namespaces.cgroup = plan.namespaces.net = false;
  plan.namespaces.read_only = plan.namespaces.private_tmp = false;
  plan.scope.abstract_unix_sockets = plan.scope.signals = false;
  return plan;
}

std::string signal_name(int signo) {
  const char* abbrev = sigabbrev_np(signo);
  return abbrev ? fmt::format("SIG{}", abbrev) : fmt::format("signal {}", signo);
}

class PeakSampler {
 public:
  explicit PeakSampler(Recording& recording) : recording_(recording) {}
  void set_root(pid_t sandbox) { sandbox_ = sandbox; }
  void sample() {
    sample_peaks(sandbox_, recording_.peak_processes, recording_.peak_open_files, tree_);
  }
  // Parents first, so none is left to start more; the sandbox's init last.
  void kill_all() {
    if (sandbox_ <= 0) return;
    descendants(sandbox_, tree_);
    for (pid_t p : tree_) kill(p, SIGKILL);
    kill(sandbox_, SIGKILL);
  }

 private:
  Recording& recording_;
  pid_t sandbox_ = -1;
  std::vector<pid_t> tree_;
};

}  // namespace

Status run_watched(const RecordRequest& request, const WatchHooks& hooks, Recording& recording) {
  const plan::Plan plan = unconfined_plan();
  PeakSampler sampler(recording);
  int interrupts = 0;

  enforce::LaunchRequest launch;
  launch.argv = request.command;
  launch.plan = &plan;
  launch.filter = hooks.filter;
  launch.landlock = nullptr;
  launch.capabilities.keep_all = true;
  launch.warn = [&](const std::string& w) { request.say("least: learn: warning: " + w); };
  launch.make_handler = hooks.make_handler;
  launch.watched = hooks.watched;
  launch.on_started = [&](pid_t sandbox) -> Status {
    sampler.set_root(sandbox);
    return hooks.on_started ? hooks.on_started(sandbox) : ok_status();
  };
  launch.tick = std::chrono::duration_cast<std::chrono::milliseconds>(kSampleEvery);
  launch.on_tick = [&] {
    sampler.sample();
    if (hooks.on_tick) hooks.on_tick();
  };
  // The first Ctrl-C is the program's (the terminal sent it to the whole
  // group; one sent with kill is passed on by the launcher); a second one
  // ends the tree, for programs that trap SIGINT or hang.
  launch.on_signal = [&](int signo, bool, pid_t) {
    if (signo != SIGINT) return;
    if (++interrupts == 1) {
      request.say(
          "least: learn: interrupted: waiting for the program to end (Ctrl-C again to kill "
          "it); the policy will cover what it did");
    } else if (interrupts == 2) {
      request.say("least: learn: interrupted again: killing the program");
      sampler.kill_all();
    }
  };

  auto status = enforce::run_confined(launch);
  if (!status) return std::move(status).error();
  const int code = *status;
  recording.exit_code = code;
  // init reports 128+N for death by signal N, as shells do: a status above
  // 128 reads as a signal.
  const bool by_signal = code > 128 && code < 128 + NSIG;
  std::string how = by_signal ? "killed by " + signal_name(code - 128)
                              : fmt::format("exited with status {}", code);
  if (interrupts > 0) {
    recording.ending = "interrupted (Ctrl-C), " + how;
    recording.complete = false;
  } else {
    recording.ending = how;
    recording.complete = !by_signal;
  }
  // The program ran, even if it ended before the first sample.
  recording.peak_processes = std::max<uint64_t>(recording.peak_processes, 1);
  return ok_status();
}

}  // namespace least::learn
