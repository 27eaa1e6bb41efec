// Process and memory limits through cgroups, created beneath the caller's
// own cgroup (v2 when the controller is delegated there, else v1) and
// removed when the run ends. Without a writable cgroup, the limits fall back
// to rlimits and say so.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "base/error.h"
#include "plan/plan.h"

namespace least::enforce {

class CgroupScope {
 public:
  // Creates the cgroups `limits` needs. What cannot be held by a cgroup is
  // added to `fallback` as an rlimit and described in `warnings`.
  static Result<CgroupScope> create(const plan::LimitsPlan& limits,
                                    std::vector<plan::Rlimit>& fallback,
                                    std::vector<std::string>& warnings);
  CgroupScope() = default;
  CgroupScope(CgroupScope&& o) noexcept : dirs_(std::move(o.dirs_)) { o.dirs_.clear(); }
  CgroupScope& operator=(CgroupScope&&) = delete;
  ~CgroupScope();

  // Moves a process (and so its future children) into every cgroup.
  Status attach(pid_t pid) const;
  const std::vector<std::string>& dirs() const { return dirs_; }

 private:
  std::vector<std::string> dirs_;  // created by us, removed by us
};

// The caller's cgroup directory for a v1 controller ("pids") or for the
// unified hierarchy (controller ""), from /proc/self/cgroup and mountinfo.
std::string own_cgroup_dir(const std::string& controller);

}  // namespace least::enforce
