// The seccomp part of the Plan as JSON, in the two dialects that runtimes
// read: Docker/Moby's profile (docker run --security-opt seccomp=FILE,
// podman) and the OCI runtime-spec's `linux.seccomp` object (crun, runc).
// Both come from the consumer view of the Plan (export/consumer_plan.h).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "export/consumer_plan.h"

namespace least::exporter {

enum class SeccompDialect { kDocker, kOci };

// Appends to `notes` whatever the dialect cannot carry.
nlohmann::json seccomp_json(const ConsumerSeccomp& seccomp, SeccompDialect dialect,
                            std::vector<std::string>& notes);

}  // namespace least::exporter
