// What container runtimes do after installing the filter, before exec.
#pragma once

#include "export/consumer_plan.h"

namespace least::exporter {

// What runc does between installing the filter and exec'ing the program
// (libcontainer/standard_init_linux.go, with the CVE-2024-21626 fix): it
// opens its exec fifo (openat O_WRONLY|O_CLOEXEC), lists /proc/self/fd
// (openat O_RDONLY|O_CLOEXEC, fstatfs, getdents64) and closes what it does
// not pass on. A profile that refuses these cannot start any container under
// runc, so they are allowed, those exact open flags only; crun installs the
// filter right before execve and needs none of it. Says so in `notes`.
void allow_runtime_start(ConsumerSeccomp& consumer);

}  // namespace least::exporter
