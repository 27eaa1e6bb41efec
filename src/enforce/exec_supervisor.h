// The supervisor side of seccomp user notification. For now it answers the
// one question BPF cannot: "is this the launcher's own execve?" Without the
// exec promise, execve and execveat notify; the first one, made by the
// launcher before the program exists, is let through, every later one is
// refused with EPERM and reported.
#pragma once

#include <sys/types.h>

#include <string>

#include "base/error.h"
#include "base/unique_fd.h"

namespace least::enforce {

class ExecSupervisor {
 public:
  ExecSupervisor(UniqueFd listener, std::string program);

  int fd() const { return listener_.get(); }
  // Answers one pending notification. Returns false once the listener has
  // no more processes behind it.
  Result<bool> handle_one();
  unsigned refused() const { return refused_; }

 private:
  UniqueFd listener_;
  std::string program_;
  bool initial_exec_done_ = false;
  unsigned refused_ = 0;
};

}  // namespace least::enforce
