// The compiled filter, raw: an array of struct sock_filter as bwrap's
// --seccomp FD and prctl(PR_SET_SECCOMP) take it.
#include "enforce/seccomp_filter.h"
#include "export/consumer_plan.h"
#include "export/export.h"

namespace least::exporter {

Result<Exported> export_bpf(const plan::Plan& plan, const ExportOptions&) {
  ConsumerSeccomp consumer = consumer_seccomp(plan);
  auto program = enforce::compile_seccomp(consumer.seccomp);
  if (!program) return std::move(program).context("compile the seccomp filter").error();
  Exported out;
  out.binary = true;
  out.content.assign(reinterpret_cast<const char*>(program->code.data()),
                     program->code.size() * sizeof(sock_filter));
  out.notes = std::move(consumer.notes);
  out.notes.push_back(
      "seccomp only: Landlock paths and ports, namespaces, capabilities and limits are the "
      "consumer's to set (bwrap: --unshare-*, --ro-bind, --cap-drop)");
  return out;
}

}  // namespace least::exporter
