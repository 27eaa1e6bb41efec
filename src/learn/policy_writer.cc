// Recording -> Draft -> TOML: promises, paths, ports and limits, each entry
// with what was seen that needed it.
#include "learn/policy_writer.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>

#include "base/text.h"
#include "learn/draft.h"
#include "learn/path_rules.h"
#include "learn/promise_cover.h"
#include "plan/plan.h"

namespace least::learn {

namespace {

// Limits are the peaks seen times this, and at least the floor: a learned
// run is one run, the next may open a few more files.
constexpr uint64_t kHeadroom = 4;
constexpr uint64_t kMinProcesses = 64;  // pids.max counts threads too
constexpr uint64_t kMinOpenFiles = 256;

std::string shell_words(const std::vector<std::string>& argv) {
  std::vector<std::string> words;
  for (const auto& a : argv) {
    bool plain = !a.empty() && a.find_first_of(" \t\n'\"\\$`*?[]{}()<>|&;#~") == std::string::npos;
    words.push_back(plain ? a : "'" + a + "'");
  }
  return join(words, " ");
}

// Promises the paths and endpoints call for, whatever the syscalls say: a
// policy that writes files without wpath would read as a mistake.
std::vector<Entry> required_promises(const Recording& r, const PathLists& paths) {
  std::vector<Entry> out;
  auto example = [](const std::vector<Entry>& list) {
    return list.size() == 1 ? list.front().value
                            : fmt::format("{} and {} more", list.front().value, list.size() - 1);
  };
  if (!paths.write.empty()) out.push_back({"wpath", "writes " + example(paths.write)});
  if (!paths.create.empty()) out.push_back({"cpath", "creates in " + example(paths.create)});
  bool ip = std::any_of(r.connects.begin(), r.connects.end(),
                        [](const Endpoint& e) { return e.protocol != "unix"; }) ||
            std::any_of(r.binds.begin(), r.binds.end(),
                        [](const Endpoint& e) { return e.protocol != "unix"; });
  if (ip) out.push_back({"inet", "the [network] endpoints below"});
  return out;
}

void add_endpoints(const std::set<Endpoint>& seen, const char* verb, std::vector<Entry>& list,
                   std::vector<std::string>& notes) {
  std::map<std::string, std::vector<std::string>> by_port;  // "tcp:8080" -> addresses
  for (const auto& e : seen) {
    if (e.protocol == "unix") continue;  // a path, held by the filesystem rules
    if (e.port == 0) {
      notes.push_back(fmt::format("{} {} port 0 (any free port) on {}: Landlock cannot name it",
                                  verb, e.protocol, e.address));
      continue;
    }
    by_port[fmt::format("{}:{}", e.protocol, e.port)].push_back(e.address);
  }
  for (const auto& [endpoint, addresses] : by_port)
    list.push_back({endpoint, fmt::format("{} {}", verb, join(addresses, ", "))});
}

// Peaks are sampled while the program runs; a run shorter than one sample
// has none (a process always holds some descriptors, so 0 means unseen).
// The floor still applies then: whichever backend recorded the run, and
// however short it was, the policy gets the same limits.
std::optional<LimitEntry> limit_from_peak(uint64_t peak, uint64_t floor, const char* what) {
  if (peak == 0)
    return LimitEntry{floor,
                      fmt::format("{}: none sampled (the run was too short); the floor", what)};
  uint64_t value = std::max(floor, peak * kHeadroom);
  return LimitEntry{value, fmt::format("peak {} {} at once; {}x headroom, at least {}", peak, what,
                                       kHeadroom, floor)};
}

Draft draft_of(const Recording& r) {
  Draft d;
  const char* home = std::getenv("HOME");
  PathLists paths = path_lists(r, home ? home : "");
  SyscallCover cover = cover_syscalls(r, required_promises(r, paths));

  d.header.push_back(fmt::format("Learned by `least learn` from: {}", shell_words(r.command)));
  uint64_t calls = 0;
  for (const auto& [name, use] : r.syscalls) calls += use.count;
  d.header.push_back(fmt::format("The run {}; it made {} calls of {} syscalls.",
                                 r.ending.empty() ? "ended" : r.ending, calls, r.syscalls.size()));
  if (!r.complete)
    d.header.push_back(
        "It did not finish on its own: this policy covers only what it did until then.");
  for (const auto& l : r.lost) d.header.push_back("Lost while recording: " + l);
  for (const auto& n : paths.notes) d.header.push_back("Note: " + n);
  std::vector<std::string> endpoint_notes;
  add_endpoints(r.connects, "connected to", d.connect, endpoint_notes);
  add_endpoints(r.binds, "bound on", d.bind, endpoint_notes);
  for (const auto& n : endpoint_notes) d.header.push_back("Note: " + n);
  d.header.push_back(
      "Try it on another workload with `least check -p FILE -- ...`, then enforce it with "
      "`least run -p FILE -- ...`.");

  d.promises = std::move(cover.promises);
  d.read = std::move(paths.read);
  d.write = std::move(paths.write);
  d.create = std::move(paths.create);
  d.exec = std::move(paths.exec);
  drop_covered_paths(d);
  d.processes = limit_from_peak(r.peak_processes, kMinProcesses, "processes");
  d.open_files = limit_from_peak(r.peak_open_files, kMinOpenFiles, "open files in one process");
  d.allow = std::move(cover.allow);
  d.allow_when = std::move(cover.allow_when);
  return d;
}

}  // namespace

std::string write_policy(const Recording& recording) {
  return render_toml(draft_of(recording));
}

}  // namespace least::learn
