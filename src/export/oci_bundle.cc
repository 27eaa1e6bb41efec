#include "export/oci_bundle.h"

#include <fcntl.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>

#include "export/consumer_plan.h"
#include "export/runtime_start.h"
#include "export/seccomp_json.h"

namespace least::exporter {

namespace {

// Ordered: config.json reads top-down (ociVersion, process, root, mounts, linux).
using json = nlohmann::ordered_json;

// What runc and Docker mask and make read-only by default: kernel memory,
// keys, timers, firmware and the writable parts of /proc.
const char* const kMaskedPaths[] = {
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
};
const char* const kReadonlyPaths[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

std::string capability_name(std::string name) {
  for (auto& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (!name.starts_with("CAP_")) name = "CAP_" + name;
  return name;
}

json capabilities(const plan::Plan& plan) {
  json names = json::array();
  for (const auto& c : plan.capabilities) names.push_back(capability_name(c));
  // Kept capabilities are kept in every set, as `least run` keeps them.
  return {{"bounding", names},
          {"effective", names},
          {"permitted", names},
          {"inheritable", names},
          {"ambient", names}};
}

json rlimits(const plan::Plan& plan) {
  json out = json::array();
  for (const auto& r : plan.limits.rlimits)
    out.push_back({{"type", r.name}, {"hard", r.value}, {"soft", r.value}});
  return out;
}

// Writing is held: [filesystem] lists paths (the host is read-only but the
// write/create paths), or neither wpath nor cpath was promised (Landlock
// refuses opening any file for writing).
bool root_read_only(const plan::Plan& plan) {
  return plan.namespaces.read_only ||
         (!plan.filesystem.restricted && (plan.filesystem.handled & plan::kPathWrite));
}

bool from_policy(const plan::PathRule& r) {
  return r.source.starts_with("[filesystem]");
}
bool from_tmppath(const plan::PathRule& r) {
  return r.source.starts_with("promise tmppath");
}

// The container's own /tmp: asked for (private_tmp), or tmppath on a
// read-only root, where the host's /tmp has no business.
bool private_tmp(const plan::Plan& plan) {
  if (plan.namespaces.private_tmp) return true;
  if (!root_read_only(plan)) return false;
  return std::any_of(plan.filesystem.rules.begin(), plan.filesystem.rules.end(), from_tmppath);
}

json policy_mounts(const plan::Plan& plan, std::vector<std::string>& notes) {
  json mounts = json::array();
  const bool tmp = private_tmp(plan);
  if (tmp)
    mounts.push_back({{"destination", "/tmp"},
                      {"type", "tmpfs"},
                      {"source", "tmpfs"},
                      {"options", {"nosuid", "nodev", "mode=1777"}}});
  // [filesystem] paths, merged per path, parents before children.
  std::map<std::string, uint32_t> binds;
  for (const auto& r : plan.filesystem.rules) {
    if (!from_policy(r)) continue;
    if (r.path.empty() || r.path[0] != '/') {
      notes.push_back(fmt::format("\"{}\" is not an absolute path: no mount for it", r.path));
      continue;
    }
    if (tmp && r.path == "/tmp") continue;  // the private /tmp wins
    binds[r.path] |= r.access;
  }
  std::vector<std::pair<std::string, uint32_t>> sorted(binds.begin(), binds.end());
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a.first.size() < b.first.size(); });
  for (const auto& [path, access] : sorted) {
    const bool writable = access & (plan::kPathWrite | plan::kPathCreate);
    json options = {"rbind", writable ? "rw" : "ro", "nosuid", "nodev"};
    if (!(access & plan::kPathExec)) options.push_back("noexec");
    mounts.push_back(
        {{"destination", path}, {"type", "bind"}, {"source", path}, {"options", options}});
  }
  return mounts;
}

json namespaces(const plan::Plan& plan, std::vector<std::string>& notes) {
  const plan::NamespacePlan& ns = plan.namespaces;
  json out = json::array();
  // A runtime needs its own mount namespace to pivot into the rootfs.
  out.push_back({{"type", "mount"}});
  if (ns.pid) out.push_back({{"type", "pid"}});
  if (ns.ipc) out.push_back({{"type", "ipc"}});
  if (ns.uts) out.push_back({{"type", "uts"}});
  if (ns.cgroup) out.push_back({{"type", "cgroup"}});
  if (ns.net)
    out.push_back({{"type", "network"}});
  else
    notes.push_back(
        "no network namespace: the policy promises inet or dns, and like `least run` the "
        "container keeps the host's network; an engine (docker, podman) or a \"network\" entry "
        "in linux.namespaces gives it its own");
  notes.push_back(
      "no user namespace: the runtime runs the container as root, whose capabilities are the "
      "ones listed in process.capabilities (rootless runtimes add a user namespace themselves)");
  return out;
}

json resources(const plan::Plan& plan) {
  json r = json::object();
  if (plan.limits.processes) r["pids"] = {{"limit", *plan.limits.processes}};
  if (plan.limits.memory) r["memory"] = {{"limit", *plan.limits.memory}};
  return r;
}

void filesystem_notes(const plan::Plan& plan, std::vector<std::string>& notes) {
  const auto& fs = plan.filesystem;
  if (fs.restricted) {
    notes.push_back(
        "OCI cannot say which paths may be read or executed: the whole rootfs stays readable "
        "(Landlock holds it under `least run`); root.readonly holds writing, and each "
        "[filesystem] path is bound from the host at the same place, read-only unless write or "
        "create");
    return;
  }
  if (!fs.handled) return;
  if (fs.handled & plan::kPathWrite) {
    notes.push_back(
        "without wpath and cpath nothing may be written: root.readonly holds it, but the "
        "runtime's own tmpfs mounts (/dev, /dev/shm) stay writable");
  } else if (fs.handled & plan::kPathCreate) {
    notes.push_back(
        "wpath without cpath: existing files may be written but nothing created; OCI cannot "
        "tell the two apart, so the root stays writable (Landlock holds it under `least run`)");
  }
}

void network_notes(const plan::Plan& plan, std::vector<std::string>& notes) {
  const auto& net = plan.network;
  if (net.tcp_restricted && (!net.connect.empty() || !net.bind.empty())) {
    std::vector<std::string> ports;
    for (const auto& p : net.connect)
      ports.push_back(fmt::format("connect {}:{}", p.protocol, p.port));
    for (const auto& p : net.bind) ports.push_back(fmt::format("bind {}:{}", p.protocol, p.port));
    notes.push_back(fmt::format(
        "OCI has no field for TCP ports ({}): Landlock holds them under `least run`; here the "
        "engine's network and firewall must",
        fmt::join(ports, ", ")));
  }
  if (plan.scope.abstract_unix_sockets && !plan.namespaces.net)
    notes.push_back(
        "abstract unix sockets of the host stay reachable (Landlock scopes them under `least "
        "run`; a network namespace of its own would hide them)");
}

}  // namespace

json oci_fragments(const plan::Plan& plan, std::vector<std::string>& notes) {
  ConsumerSeccomp consumer = consumer_seccomp(plan);
  allow_runtime_start(consumer);
  notes.insert(notes.end(), consumer.notes.begin(), consumer.notes.end());
  json out;
  out["process"] = {{"capabilities", capabilities(plan)},
                    {"rlimits", rlimits(plan)},
                    {"noNewPrivileges", plan.no_new_privs}};
  out["root"] = {{"readonly", root_read_only(plan)}};
  out["mounts"] = policy_mounts(plan, notes);
  json linux;
  linux["namespaces"] = namespaces(plan, notes);
  linux["resources"] = resources(plan);
  linux["maskedPaths"] = kMaskedPaths;
  linux["readonlyPaths"] = kReadonlyPaths;
  linux["seccomp"] = json(seccomp_json(consumer, SeccompDialect::kOci, notes));
  out["linux"] = std::move(linux);
  filesystem_notes(plan, notes);
  network_notes(plan, notes);
  return out;
}

json oci_config(const plan::Plan& plan, const BundleSpec& spec, std::vector<std::string>& notes) {
  json f = oci_fragments(plan, notes);
  json config;
  config["ociVersion"] = "1.0.2";
  json process = {
      {"terminal", false},
      {"user", {{"uid", 0}, {"gid", 0}}},
      {"args", spec.args},
      {"env", {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}},
      {"cwd", "/"},
  };
  process.update(f["process"]);
  config["process"] = std::move(process);
  config["root"] = {{"path", spec.rootfs}, {"readonly", f["root"]["readonly"]}};
  config["hostname"] = spec.hostname;
  json mounts = {
      {{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}},
      {{"destination", "/dev"},
       {"type", "tmpfs"},
       {"source", "tmpfs"},
       {"options", {"nosuid", "strictatime", "mode=755", "size=65536k"}}},
      {{"destination", "/dev/pts"},
       {"type", "devpts"},
       {"source", "devpts"},
       {"options", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}}},
      {{"destination", "/dev/shm"},
       {"type", "tmpfs"},
       {"source", "shm"},
       {"options", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}}},
      {{"destination", "/sys"},
       {"type", "sysfs"},
       {"source", "sysfs"},
       {"options", {"nosuid", "noexec", "nodev", "ro"}}},
      {{"destination", "/sys/fs/cgroup"},
       {"type", "cgroup"},
       {"source", "cgroup"},
       {"options", {"nosuid", "noexec", "nodev", "relatime", "ro"}}},
  };
  for (auto& m : f["mounts"]) mounts.push_back(std::move(m));
  config["mounts"] = std::move(mounts);
  json linux = f["linux"];
  // Devices: none but the runtime's defaults (null, zero, full, random,
  // urandom, tty, ptmx), as `runc spec` writes it.
  linux["resources"]["devices"] = {{{"allow", false}, {"access", "rwm"}}};
  config["linux"] = std::move(linux);
  return config;
}

std::vector<std::string> oci_bind_sources(const json& config) {
  std::vector<std::string> out;
  if (!config.contains("mounts")) return out;
  for (const auto& m : config["mounts"])
    if (m.value("type", "") == "bind") out.push_back(m.value("source", ""));
  return out;
}

}  // namespace least::exporter
