#include "export/export.h"

namespace least::exporter {

const std::vector<FormatInfo>& formats() {
  static const std::vector<FormatInfo> all = {
      {Format::kDocker, "docker",
       "Docker/Moby seccomp profile (docker run --security-opt seccomp=FILE, podman)"},
      {Format::kOci, "oci", "OCI runtime-spec fragments for config.json (crun, runc)"},
      {Format::kK8s, "k8s",
       "Kubernetes: SeccompProfile resource, kubelet localhost/ profile, Pod securityContext"},
      {Format::kAppArmor, "apparmor", "AppArmor profile (apparmor_parser)"},
      {Format::kSystemd, "systemd", "systemd [Service] drop-in (systemd.exec sandboxing)"},
      {Format::kBpf, "bpf", "the compiled seccomp filter, raw (bwrap --seccomp FD)"},
  };
  return all;
}

const FormatInfo* find_format(std::string_view name) {
  for (const auto& f : formats())
    if (name == f.name) return &f;
  return nullptr;
}

Result<Exported> export_plan(const plan::Plan& plan, Format format, const ExportOptions& options) {
  switch (format) {
    case Format::kDocker:
      return export_docker(plan, options);
    case Format::kOci:
      return export_oci(plan, options);
    case Format::kK8s:
      return export_k8s(plan, options);
    case Format::kAppArmor:
      return export_apparmor(plan, options);
    case Format::kSystemd:
      return export_systemd(plan, options);
    case Format::kBpf:
      return export_bpf(plan, options);
  }
  return make_error(ErrorKind::kUsage, "unknown export format");
}

}  // namespace least::exporter
