#include "consumer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

namespace least::testing {

namespace fs = std::filesystem;

namespace {

// busybox applets the tests use, linked to /bin/busybox.
const char* const kApplets[] = {"sh",    "cat",   "grep",  "echo",  "ls",  "id",   "true",
                                "false", "sleep", "mkdir", "touch", "env", "head", "wc"};

std::string next_container_id() {
  static std::atomic<int> counter{0};
  return container_prefix() + std::to_string(counter++);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

SpawnResult least(const std::vector<std::string>& args, const SpawnOptions& options) {
  std::vector<std::string> argv = {LEAST_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return spawn(argv, options);
}

const std::string& container_prefix() {
  static const std::string prefix = "least-test-" + std::to_string(::getpid()) + "-";
  return prefix;
}

const std::string& busybox_rootfs() {
  static TempDir dir;
  static const std::string root = [] {
    std::string r = dir / "rootfs";
    for (const char* d : {"bin", "proc", "dev", "sys", "tmp", "etc"})
      fs::create_directories(r + "/" + d);
    fs::permissions(r + "/tmp", fs::perms::all | fs::perms::sticky_bit);
    fs::copy_file(LEAST_STATIC_BUSYBOX, r + "/bin/busybox");
    for (const char* applet : kApplets) fs::create_symlink("busybox", r + "/bin/" + applet);
    fs::copy_file(LEAST_PROBE, r + kProbeInRootfs);
    return r;
  }();
  return root;
}

const char* runtime_name(Runtime runtime) {
  return runtime == Runtime::kRunc ? "runc" : "crun";
}

nlohmann::ordered_json read_config(const std::string& dir) {
  return nlohmann::ordered_json::parse(read_file(dir + "/config.json"));
}

void write_config(const std::string& dir, const nlohmann::ordered_json& config) {
  fs::create_directories(dir);
  std::ofstream(dir + "/config.json") << config.dump(1) << "\n";
}

nlohmann::ordered_json make_bundle(const std::string& dir,
                                   const std::vector<std::string>& least_args,
                                   const std::vector<std::string>& command) {
  std::vector<std::string> args = {"bundle"};
  args.insert(args.end(), least_args.begin(), least_args.end());
  args.insert(args.end(), {"--force", "--rootfs", busybox_rootfs(), dir});
  if (!command.empty()) {
    args.push_back("--");
    args.insert(args.end(), command.begin(), command.end());
  }
  SpawnResult r = least(args);
  EXPECT_EQ(r.status, 0) << r.describe();
  if (r.status != 0) return {};
  nlohmann::ordered_json config = read_config(dir);
  auto& ns = config["linux"]["namespaces"];
  bool has_net = false;
  for (const auto& n : ns) has_net |= n["type"] == "network";
  if (!has_net) {
    ns.push_back({{"type", "network"}});
    write_config(dir, config);
  }
  return config;
}

std::vector<std::string> container_argv(Runtime runtime, const std::string& dir,
                                        const std::string& state_dir) {
  const std::string id = next_container_id();
  const std::string state = state_dir + "/" + runtime_name(runtime);
  fs::create_directories(state);
  if (runtime == Runtime::kRunc)
    return {"/bin/sh",
            "-c",
            "runc --root \"$1\" run --bundle \"$2\" \"$3\"; rc=$?; "
            "runc --root \"$1\" delete -f \"$3\" >/dev/null 2>&1; exit $rc",
            "sh",
            state,
            dir,
            id};
  return {"/usr/bin/unshare",
          "-m",
          "/bin/sh",
          "-c",
          "umount /sys/fs/cgroup/unified || exit 99; "
          "crun --root \"$1\" run --bundle \"$2\" \"$3\"; rc=$?; "
          "crun --root \"$1\" delete -f \"$3\" >/dev/null 2>&1; exit $rc",
          "sh",
          state,
          dir,
          id};
}

SpawnResult run_container(Runtime runtime, const std::string& dir, const std::string& state_dir) {
  return spawn(container_argv(runtime, dir, state_dir));
}

std::vector<std::vector<std::string>> container_argvs(
    Runtime runtime, const std::string& dir, const std::string& state_dir,
    const std::vector<std::vector<std::string>>& args) {
  nlohmann::ordered_json config = read_config(dir);
  std::vector<std::vector<std::string>> argvs;
  for (size_t i = 0; i < args.size(); ++i) {
    // The rootfs path is absolute, so the copy runs from anywhere.
    std::string d = dir + "/" + runtime_name(runtime) + "-" + std::to_string(i);
    config["process"]["args"] = args[i];
    write_config(d, config);
    argvs.push_back(container_argv(runtime, d, state_dir));
  }
  return argvs;
}

std::vector<SpawnResult> run_containers(Runtime runtime, const std::string& dir,
                                        const std::string& state_dir,
                                        const std::vector<std::vector<std::string>>& args,
                                        int jobs) {
  return spawn_all(container_argvs(runtime, dir, state_dir, args), jobs);
}

std::vector<SpawnResult> spawn_all(const std::vector<std::vector<std::string>>& argvs, int jobs) {
  std::vector<SpawnResult> results(argvs.size());
  const size_t step = static_cast<size_t>(std::max(jobs, 1));
  for (size_t start = 0; start < argvs.size(); start += step) {
    const size_t end = std::min(argvs.size(), start + step);
    std::vector<std::unique_ptr<Process>> running;
    for (size_t i = start; i < end; ++i) running.push_back(std::make_unique<Process>(argvs[i]));
    for (size_t i = start; i < end; ++i) results[i] = running[i - start]->wait();
  }
  return results;
}

std::vector<std::string> bwrap_argv(const std::string& bpf_file,
                                    const std::vector<std::string>& argv) {
  std::vector<std::string> out = {
      "/bin/sh", "-c",
      "f=$1; shift; exec bwrap --unshare-all --die-with-parent --cap-drop ALL --ro-bind / / "
      "--dev /dev --proc /proc --seccomp 3 \"$@\" 3<\"$f\"",
      "sh", bpf_file};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

std::string probe_answer(const SpawnResult& r) {
  std::string line = r.out.substr(0, r.out.find('\n'));
  if (!line.empty()) return line;
  if (r.status > 128) return "KILLED " + std::to_string(r.status - 128);
  return "EXIT " + std::to_string(r.status);
}

nlohmann::ordered_json docker_to_oci_seccomp(const nlohmann::json& docker) {
  nlohmann::ordered_json oci;
  oci["defaultAction"] = docker.at("defaultAction");
  if (docker.contains("defaultErrnoRet")) oci["defaultErrnoRet"] = docker["defaultErrnoRet"];
  nlohmann::ordered_json arches = nlohmann::ordered_json::array();
  if (docker.contains("architectures"))
    for (const auto& a : docker["architectures"]) arches.push_back(nlohmann::ordered_json(a));
  if (docker.contains("archMap"))
    for (const auto& m : docker["archMap"]) {
      arches.push_back(nlohmann::ordered_json(m.at("architecture")));
      if (m.contains("subArchitectures"))
        for (const auto& sub : m["subArchitectures"]) arches.push_back(nlohmann::ordered_json(sub));
    }
  oci["architectures"] = arches;
  nlohmann::ordered_json syscalls = nlohmann::ordered_json::array();
  for (const auto& s : docker.value("syscalls", nlohmann::json::array())) {
    nlohmann::ordered_json o;
    o["names"] = s.contains("names") ? s["names"] : nlohmann::json::array({s.at("name")});
    o["action"] = s.at("action");
    if (s.contains("errnoRet")) o["errnoRet"] = s["errnoRet"];
    if (s.contains("args") && !s["args"].is_null()) o["args"] = s["args"];
    syscalls.push_back(std::move(o));
  }
  oci["syscalls"] = std::move(syscalls);
  return oci;
}

std::vector<std::string> leftover_cgroups(const std::string& prefix) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator("/sys/fs/cgroup", ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it.depth() >= 2) it.disable_recursion_pending();
    if (!it->is_directory(ec)) continue;
    if (it->path().filename().string().starts_with(prefix)) out.push_back(it->path().string());
  }
  return out;
}

}  // namespace least::testing
