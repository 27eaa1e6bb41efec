// Whoever answers the seccomp listener's notifications: the Supervisor for
// `least run` and `least check`, a recorder for `least learn`.
#pragma once

#include <string>

#include "base/error.h"

namespace least::enforce {

class NotificationHandler {
 public:
  virtual ~NotificationHandler() = default;
  virtual int fd() const = 0;
  // Receives and answers one pending notification. An error ends the run
  // (fail closed: no program runs unsupervised).
  virtual Status handle_one() = 0;
  // One line printed once the run is over; "" for none.
  virtual std::string summary() const = 0;
};

}  // namespace least::enforce
