// The supervisor: outside the sandbox, it receives a seccomp user
// notification for every refused call (allowed calls never reach it),
// decodes it, answers the policy's errno, and tells the person what was
// blocked and the smallest policy change that would allow it. It also lets
// the launcher's own first execve through when `exec` was not promised.
// In complain mode (`least check`) it refuses nothing and reports the same.
#pragma once

#include <sys/types.h>

#include <cstdio>
#include <functional>
#include <map>
#include <string>

#include "base/error.h"
#include "base/unique_fd.h"
#include "enforce/notification_handler.h"
#include "plan/plan.h"

namespace least::enforce {

struct SupervisorOptions {
  bool complain = false;                          // check mode: continue every call, report it
  std::FILE* json = nullptr;                      // --log-json: one object per event
  std::function<void(const std::string&)> print;  // one line for people
};

class Supervisor : public NotificationHandler {
 public:
  Supervisor(UniqueFd listener, const plan::Plan& plan, SupervisorOptions options);

  int fd() const override { return listener_.get(); }
  // Answers one pending notification.
  Status handle_one() override;
  // "least: 12 calls blocked (3 distinct)" once the run is over; "" if none.
  std::string summary() const override;
  unsigned total() const { return total_; }

 private:
  UniqueFd listener_;
  const plan::Plan& plan_;
  SupervisorOptions options_;
  bool initial_exec_done_ = false;
  unsigned total_ = 0;
  bool json_failed_ = false;
  std::map<std::string, unsigned> seen_;  // distinct report -> count
};

}  // namespace least::enforce
