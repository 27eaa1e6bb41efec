// The Docker/Moby seccomp profile (docker run --security-opt seccomp=FILE,
// podman --security-opt seccomp=FILE): the consumer view of the seccomp Plan,
// pretty-printed. Everything else the Plan decides has no place in it.
#include "export/consumer_plan.h"
#include "export/export.h"
#include "export/runtime_start.h"
#include "export/seccomp_json.h"

namespace least::exporter {

Result<Exported> export_docker(const plan::Plan& plan, const ExportOptions&) {
  ConsumerSeccomp consumer = consumer_seccomp(plan);
  allow_runtime_start(consumer);  // docker and Kubernetes run containers with runc
  Exported out;
  out.notes = consumer.notes;
  nlohmann::json profile = seccomp_json(consumer, SeccompDialect::kDocker, out.notes);
  out.content = profile.dump(2) + "\n";
  out.notes.push_back(
      "seccomp only: Landlock paths and ports, namespaces, capabilities and limits are not part "
      "of a seccomp profile (`least export --format oci` writes them for config.json; with "
      "docker run use --cap-drop ALL, --read-only, --network none, --pids-limit, --memory)");
  return out;
}

}  // namespace least::exporter
