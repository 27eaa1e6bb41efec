// Placeholder until the eBPF backend lands (learn-ebpf branch): delete this
// file when src/learn/ebpf_backend.cc arrives. It says plainly that the
// backend is missing, so `--backend auto` picks the notify backend.
#include "learn/backend.h"

namespace least::learn {

Result<Recording> record_with_ebpf(const RecordRequest&) {
  return make_error(ErrorKind::kUnsupported, "the eBPF backend is not built");
}

Status ebpf_available() {
  return make_error(ErrorKind::kUnsupported, "the eBPF backend is not built");
}

}  // namespace least::learn
