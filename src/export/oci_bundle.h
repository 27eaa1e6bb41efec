// The OCI runtime-spec view of the Plan (config.md, config-linux.md): the
// pieces of config.json the Plan decides (`least export --format oci`), and a
// whole config.json for a bundle that crun and runc run as is (`least bundle`).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "export/consumer_plan.h"
#include "plan/plan.h"

namespace least::exporter {

// The pieces of config.json the Plan decides, shaped like config.json so that
// they merge into one: process.{capabilities, rlimits, noNewPrivileges},
// root.readonly, mounts (the policy's only), linux.{namespaces, resources,
// maskedPaths, readonlyPaths, seccomp}. Appends to `notes` what OCI cannot
// hold.
nlohmann::ordered_json oci_fragments(const plan::Plan& plan, std::vector<std::string>& notes);

struct BundleSpec {
  std::string rootfs;  // absolute; the bundle references it, never copies it
  std::vector<std::string> args = {"/bin/sh"};
  std::string hostname = "least";
};

// A complete config.json (ociVersion 1.0.2): the fragments plus what every
// container needs (process, root.path, /proc /dev /dev/pts /dev/shm /sys and
// /sys/fs/cgroup read-only, so that programs can read their own limits).
nlohmann::ordered_json oci_config(const plan::Plan& plan, const BundleSpec& spec,
                                  std::vector<std::string>& notes);

// The host paths the policy's mounts bind into the container: a runtime
// refuses to start when one is missing.
std::vector<std::string> oci_bind_sources(const nlohmann::ordered_json& config);

}  // namespace least::exporter
