// Exports: the same Plan that least enforces, written in the formats of the
// tools operators already run (Docker/OCI, Kubernetes, AppArmor, systemd,
// bwrap). Each format reads only the Plan, so the layers never drift apart;
// what a consumer cannot hold is said in `notes`, never dropped silently.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "plan/plan.h"

namespace least::exporter {

enum class Format { kDocker, kOci, kK8s, kAppArmor, kSystemd, kBpf };

struct FormatInfo {
  Format format;
  const char* name;  // as given to --format
  const char* what;  // one line for --help
};
const std::vector<FormatInfo>& formats();
const FormatInfo* find_format(std::string_view name);

struct ExportOptions {
  // A name for the profile where the format has one (AppArmor profile,
  // Kubernetes resource): the policy file's stem, else "least".
  std::string name = "least";
};

struct Exported {
  std::string content;
  bool binary = false;             // bpf: never printed to a terminal
  std::vector<std::string> notes;  // what this consumer cannot hold, for people
};

Result<Exported> export_plan(const plan::Plan& plan, Format format, const ExportOptions& options);

// One function per format (src/export/FORMAT.cc).
Result<Exported> export_docker(const plan::Plan& plan, const ExportOptions& options);
Result<Exported> export_oci(const plan::Plan& plan, const ExportOptions& options);
Result<Exported> export_k8s(const plan::Plan& plan, const ExportOptions& options);
Result<Exported> export_apparmor(const plan::Plan& plan, const ExportOptions& options);
Result<Exported> export_systemd(const plan::Plan& plan, const ExportOptions& options);
Result<Exported> export_bpf(const plan::Plan& plan, const ExportOptions& options);

}  // namespace least::exporter
