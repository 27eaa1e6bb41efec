// The per-object half of `least analyze`: one ELF object in, its
// ObjectSummary (object_summary.h) out.
#pragma once

#include <string>

#include "analyze/object_summary.h"
#include "base/error.h"

namespace least::analyze {

// Reads one ELF object (ELFCLASS64, EM_X86_64; executable, PIE, shared
// library or ld.so) and summarises it: functions from symbols, FDEs, roots
// and direct calls; per function the calls, syscall sites (register values
// from data flow) and addresses formed; imports, exports, roots and the
// function addresses stored in data.
Result<ObjectSummary> summarize_object(const std::string& path);

}  // namespace least::analyze
