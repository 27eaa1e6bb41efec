// `least export --format oci`: the pieces of config.json the Plan decides,
// shaped like config.json (export/oci_bundle.h); `least bundle` writes them
// into a whole bundle.
#include "export/export.h"
#include "export/oci_bundle.h"

namespace least::exporter {

Result<Exported> export_oci(const plan::Plan& plan, const ExportOptions&) {
  Exported out;
  out.content = oci_fragments(plan, out.notes).dump(2) + "\n";
  out.notes.push_back(
      "fragments only: merge them into a config.json (mounts add to the runtime's own), or "
      "write a whole bundle with `least bundle --rootfs DIR OUT`");
  return out;
}

}  // namespace least::exporter
