// Where commands that write a file (export, import, bundle) put it: stdout,
// or a path replaced atomically so that a failed write never leaves half a
// profile behind.
#pragma once

#include <string>
#include <string_view>

#include "base/error.h"

namespace least::cli {

// Empty path or "-": stdout (binary content is refused on a terminal).
// Otherwise an AtomicFile (atomic_file.h): written beside `path` and renamed
// over it, a device or fifo written in place, a directory refused.
Status write_output(const std::string& path, std::string_view content, bool binary = false);

}  // namespace least::cli
