// Where commands that write a file (export, import, bundle) put it: stdout,
// or a path replaced atomically so that a failed write never leaves half a
// profile behind.
#pragma once

#include <string>
#include <string_view>

#include "base/error.h"

namespace least::cli {

// Empty path or "-": stdout (binary content is refused on a terminal).
// Otherwise written beside `path` and renamed over it, mode 0644.
Status write_output(const std::string& path, std::string_view content, bool binary = false);

}  // namespace least::cli
