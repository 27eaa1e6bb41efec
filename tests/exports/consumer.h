// The real consumers of least's exports, driven from tests: a busybox rootfs
// with the probe in it, `least bundle` into a directory, the bundle run under
// runc and crun (always deleted afterwards), and the raw filter under bwrap.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "spawn.h"

namespace least::testing {

// `least ARGS...`.
SpawnResult least(const std::vector<std::string>& args, const SpawnOptions& options = {});

// A root filesystem made once per test process: the static busybox as
// /bin/busybox with links for its applets (sh, cat, grep, ...), the static
// probe as /bin/least-probe, and empty /proc /dev /sys /tmp /etc.
const std::string& busybox_rootfs();

// The probe's path inside that rootfs.
inline constexpr const char* kProbeInRootfs = "/bin/least-probe";

enum class Runtime { kRunc, kCrun };
const char* runtime_name(Runtime runtime);
inline constexpr Runtime kRuntimes[] = {Runtime::kRunc, Runtime::kCrun};

// `least bundle LEAST_ARGS... --rootfs busybox_rootfs() DIR -- COMMAND...`;
// ASSERTs that it succeeds. Tests never share the host's network: when the
// plan keeps it (inet, dns) the config gets a network namespace of its own,
// which holds loopback only.
nlohmann::ordered_json make_bundle(const std::string& dir,
                                   const std::vector<std::string>& least_args,
                                   const std::vector<std::string>& command);

nlohmann::ordered_json read_config(const std::string& dir);
void write_config(const std::string& dir, const nlohmann::ordered_json& config);

// Runs the bundle in DIR under the runtime, with a fresh container id and its
// state beneath `state_dir`; the container is deleted whatever happens.
// crun 1.8 refuses this host's hybrid cgroup layout (cgroup v1 controllers
// plus /sys/fs/cgroup/unified), so it runs in a mount namespace of its own
// where the unified hierarchy is unmounted.
SpawnResult run_container(Runtime runtime, const std::string& dir, const std::string& state_dir);
// The argv run_container spawns.
std::vector<std::string> container_argv(Runtime runtime, const std::string& dir,
                                        const std::string& state_dir);

// Starts `count` containers from one bundle, each with its own args, `jobs`
// at a time, and returns their results in order. Each container gets a copy
// of config.json (args replaced) in a directory of its own beneath `dir`.
std::vector<SpawnResult> run_containers(Runtime runtime, const std::string& dir,
                                        const std::string& state_dir,
                                        const std::vector<std::vector<std::string>>& args,
                                        int jobs = 2);

// The argvs run_containers spawns (the per-container directories written).
std::vector<std::vector<std::string>> container_argvs(
    Runtime runtime, const std::string& dir, const std::string& state_dir,
    const std::vector<std::vector<std::string>>& args);

// Spawns every argv, `jobs` at a time; the results in order.
std::vector<SpawnResult> spawn_all(const std::vector<std::vector<std::string>>& argvs,
                                   int jobs = 2);

// bwrap with the raw filter (least export --format bpf) on descriptor 3:
// `bwrap --unshare-all --cap-drop ALL --ro-bind / / --dev /dev --proc /proc
// --seccomp 3 ARGV... 3<BPF`, through sh so that the descriptor reaches it
// (spawn closes descriptors above 2 in children).
std::vector<std::string> bwrap_argv(const std::string& bpf_file,
                                    const std::vector<std::string>& argv);

// The probe's answer from a run: its first line ("OK", "ERRNO EPERM"), or
// "KILLED <N>" when it died of signal N without answering, or
// "EXIT <status>" when it printed nothing.
std::string probe_answer(const SpawnResult& r);

// Docker's seccomp profile as OCI's linux.seccomp: the two dialects share
// defaultAction, defaultErrnoRet and the syscalls' names, action, errnoRet
// and args; Docker's archMap becomes the flat architectures list, and its
// comment, includes and excludes (engine-side filters) are dropped.
nlohmann::ordered_json docker_to_oci_seccomp(const nlohmann::json& docker);

// The cgroups named `prefix*` beneath /sys/fs/cgroup (two levels down):
// what the runtimes left behind.
std::vector<std::string> leftover_cgroups(const std::string& prefix);

// The prefix of every container id this process makes.
const std::string& container_prefix();

}  // namespace least::testing
