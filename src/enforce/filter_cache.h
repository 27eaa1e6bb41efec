// Compiled seccomp filters, cached by the content of their SeccompPlan:
// libseccomp takes milliseconds to build a filter, reading one back takes
// microseconds. The cache lives in the user's cache directory
// ($XDG_CACHE_HOME/least or ~/.cache/least) and is trusted only when owned by
// the user and writable by nobody else. LEAST_NO_CACHE=1 turns it off.
#pragma once

#include <optional>
#include <string>

#include "base/error.h"
#include "enforce/seccomp_filter.h"
#include "plan/plan.h"

namespace least::enforce {

// The canonical text of everything that decides the compiled filter.
std::string seccomp_cache_key(const plan::SeccompPlan& plan);

// The cache directory, or nullopt when caching is off or impossible.
std::optional<std::string> filter_cache_dir();

// Reads the filter from the cache, else compiles it and stores it. A cache
// that cannot be read or written is skipped silently: it only costs time.
Result<BpfProgram> load_or_compile_seccomp(const plan::SeccompPlan& plan);

}  // namespace least::enforce
