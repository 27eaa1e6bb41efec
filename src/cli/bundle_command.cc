// least bundle: an OCI bundle (config.json beside a rootfs) that crun and
// runc run as is, from the same Plan that `least run` enforces.
#include <fmt/format.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>

#include "cli/app.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "cli/policy_options.h"
#include "export/oci_bundle.h"

namespace least::cli {

namespace {

namespace fs = std::filesystem;

struct BundleOptions {
  PolicyOptions policy;
  std::string rootfs;
  std::string out;
  std::string hostname = "least";
  bool force = false;
  std::vector<std::string> command;
};

bool is_directory(const std::string& path, int& err) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    err = errno;
    return false;
  }
  err = S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
  return err == 0;
}

int bundle(const BundleOptions& o) {
  int err = 0;
  if (!is_directory(o.rootfs, err)) {
    print_error(err == ENOTDIR
                    ? fmt::format("bundle: the rootfs \"{}\" is not a directory", o.rootfs)
                    : fmt::format("bundle: the rootfs \"{}\": {}", o.rootfs, std::strerror(err)));
    return kExitUsage;
  }
  std::error_code ec;
  if (fs::exists(o.out, ec) && !is_directory(o.out, err)) {
    print_error(fmt::format("bundle: \"{}\" exists and is not a directory", o.out));
    return kExitUsage;
  }
  const std::string config_path = (fs::path(o.out) / "config.json").string();
  if (!o.force && fs::exists(fs::symlink_status(config_path, ec))) {
    print_error(fmt::format("bundle: \"{}\" exists; pass --force to replace it", config_path));
    return kExitUsage;
  }
  auto loaded = load_policy(o.policy);
  if (!loaded) return kExitUsage;

  exporter::BundleSpec spec;
  // Referenced, never copied: the bundle names the rootfs by absolute path.
  spec.rootfs = fs::absolute(o.rootfs, ec).lexically_normal().string();
  if (ec) {
    print_error(fmt::format("bundle: the rootfs \"{}\": {}", o.rootfs, ec.message()));
    return kExitFailure;
  }
  if (spec.rootfs.size() > 1 && spec.rootfs.back() == '/') spec.rootfs.pop_back();
  if (!o.command.empty()) spec.args = o.command;
  spec.hostname = o.hostname;
  std::vector<std::string> notes;
  nlohmann::ordered_json config = exporter::oci_config(loaded->plan, spec, notes);

  for (const auto& note : notes) fmt::print(stderr, "least: note: {}\n", note);
  if (!spec.args[0].empty() && spec.args[0][0] == '/' &&
      !fs::exists(fs::symlink_status(spec.rootfs + spec.args[0], ec)))
    print_warning(fmt::format("bundle: {} is not in the rootfs \"{}\": the container cannot start",
                              spec.args[0], spec.rootfs));
  for (const auto& source : exporter::oci_bind_sources(config))
    if (!fs::exists(source, ec))
      print_warning(fmt::format(
          "bundle: {} (from [filesystem]) does not exist on this host: the runtime will refuse "
          "to bind it",
          source));

  fs::create_directories(o.out, ec);
  if (ec) {
    print_error(fmt::format("bundle: create \"{}\": {}", o.out, ec.message()));
    return kExitFailure;
  }
  if (auto written = write_output(config_path, config.dump(2) + "\n"); !written) {
    print_error("bundle: " + written.error().str());
    return kExitFailure;
  }
  fmt::print("wrote {} (rootfs {}, referenced, not copied)\nrun it: runc run --bundle {} NAME\n",
             config_path, spec.rootfs, o.out);
  return kExitOk;
}

}  // namespace

Command add_bundle_command(CLI::App& app) {
  auto o = std::make_shared<BundleOptions>();
  CLI::App* sub = app.add_subcommand(
      "bundle",
      "Write an OCI bundle: OUT/config.json for crun or runc, from the same plan least\n"
      "enforces (seccomp, capabilities, limits, namespaces, mounts, read-only root).\n"
      "The rootfs is referenced by its absolute path, never copied. What OCI cannot\n"
      "hold is printed as notes on stderr.\n\n"
      "Examples:\n"
      "  least bundle -p app.least.toml --rootfs ./rootfs app-bundle -- /bin/app --serve\n"
      "  runc run --bundle app-bundle app1");
  o->policy.add_to(*sub, true);
  sub->add_option("--rootfs", o->rootfs, "The container's root directory (not copied)")
      ->type_name("DIR")
      ->required();
  sub->add_option("--hostname", o->hostname, "The container's hostname (default least)")
      ->type_name("NAME");
  sub->add_flag("--force", o->force, "Replace an existing OUT/config.json");
  sub->add_option("out", o->out, "The bundle directory (created if missing)")
      ->type_name("OUT")
      ->required();
  sub->add_option("command", o->command,
                  "The program and its arguments inside the container, after -- "
                  "(default /bin/sh)")
      ->type_name("PROGRAM ARGS...");
  return [o] { return bundle(*o); };
}

}  // namespace least::cli
