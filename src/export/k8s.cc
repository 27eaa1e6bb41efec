// Kubernetes: the seccomp profile as a security-profiles-operator
// SeccompProfile resource (api/seccompprofile/v1beta1: defaultAction,
// architectures, syscalls[].{names, action, errnoRet, args}), followed by the
// container securityContext that uses it, as a commented block to paste into
// a Pod (a document without a kind would make `kubectl apply -f` fail).
// The kubelet's own localhost/ profile is the Docker JSON, written where the
// comments say. YAML is written by hand: block style, strings quoted
// whenever a plain scalar could be read as anything else.
#include <fmt/format.h>

#include <cctype>
#include <nlohmann/json.hpp>

#include "export/consumer_plan.h"
#include "export/export.h"
#include "export/runtime_start.h"
#include "export/seccomp_json.h"

namespace least::exporter {

namespace {

using ojson = nlohmann::ordered_json;

// A string that YAML 1.1 and 1.2 both read back as that same string.
bool plain_safe(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '/' &&
        c != '-')
      return false;
  if (!std::isalpha(static_cast<unsigned char>(s[0])) && s[0] != '_' && s[0] != '/') return false;
  std::string lower;
  for (char c : s) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* word : {"y", "n", "yes", "no", "on", "off", "true", "false", "null"})
    if (lower == word) return false;
  return true;
}

std::string scalar(const ojson& v) {
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    return plain_safe(s) ? s : v.dump();  // a JSON string is a YAML double-quoted scalar
  }
  if (v.is_array()) return "[]";
  if (v.is_object()) return "{}";
  return v.dump();  // numbers, true, false, null
}

bool inline_value(const ojson& v) {
  return !v.is_structured() || v.empty();
}

void emit(std::string& out, const ojson& v, int indent);

// A container as an item of a sequence: rendered one level deeper, then its
// first line's indentation replaced by "- ".
void emit_item(std::string& out, const ojson& item, int indent) {
  const std::string pad(static_cast<size_t>(indent), ' ');
  if (inline_value(item)) {
    out += pad + "- " + scalar(item) + "\n";
    return;
  }
  std::string nested;
  emit(nested, item, indent + 2);
  out += pad + "- " + nested.substr(static_cast<size_t>(indent) + 2);
}

void emit(std::string& out, const ojson& v, int indent) {
  const std::string pad(static_cast<size_t>(indent), ' ');
  if (v.is_object()) {
    for (const auto& [key, value] : v.items()) {
      out += pad + scalar(ojson(key)) + ":";
      if (inline_value(value)) {
        out += " " + scalar(value) + "\n";
      } else {
        out += "\n";
        emit(out, value, value.is_array() ? indent : indent + 2);
      }
    }
  } else if (v.is_array()) {
    for (const auto& item : v) emit_item(out, item, indent);
  }
}

std::string yaml(const ojson& v, int indent = 0) {
  std::string out;
  emit(out, v, indent);
  return out;
}

std::string commented(const std::string& text) {
  std::string out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    out += "# " + text.substr(start, end - start) + "\n";
    start = end + 1;
  }
  return out;
}

// metadata.name must be a DNS subdomain: lowercase letters, digits, '-' and
// '.', starting and ending with a letter or digit.
std::string resource_name(const std::string& name) {
  std::string out;
  for (char c : name) {
    unsigned char u = static_cast<unsigned char>(c);
    out += std::isalnum(u) ? static_cast<char>(std::tolower(u)) : (c == '.' ? '.' : '-');
  }
  while (!out.empty() && !std::isalnum(static_cast<unsigned char>(out.front()))) out.erase(0, 1);
  while (!out.empty() && !std::isalnum(static_cast<unsigned char>(out.back()))) out.pop_back();
  if (out.size() > 253) out.resize(253);
  return out.empty() ? "least" : out;
}

}  // namespace

Result<Exported> export_k8s(const plan::Plan& plan, const ExportOptions& options) {
  ConsumerSeccomp consumer = consumer_seccomp(plan);
  allow_runtime_start(consumer);  // docker and Kubernetes run containers with runc
  Exported out;
  out.notes = consumer.notes;
  nlohmann::json profile = seccomp_json(consumer, SeccompDialect::kOci, out.notes);
  // The CRD has no defaultErrnoRet: runtimes answer SCMP_ACT_ERRNO with EPERM.
  if (profile.contains("defaultErrnoRet")) {
    if (profile["defaultErrnoRet"] != 1)
      out.notes.push_back(fmt::format(
          "the SeccompProfile resource cannot carry defaultErrnoRet {}: refused calls answer "
          "EPERM; the plain profile (--format docker) keeps it",
          profile["defaultErrnoRet"].dump()));
    profile.erase("defaultErrnoRet");
  }
  const std::string name = resource_name(options.name);
  if (name != options.name)
    out.notes.push_back(fmt::format(
        "\"{}\" is not a valid Kubernetes name; the resource is named \"{}\"", options.name, name));
  const std::string file = name + ".json";

  ojson resource = ojson::object();
  resource["apiVersion"] = "security-profiles-operator.x-k8s.io/v1beta1";
  resource["kind"] = "SeccompProfile";
  resource["metadata"] =
      ojson{{"name", name},
            {"annotations",
             ojson{{"description", "least policy " + options.name + ", written by least export"}}}};
  ojson spec = ojson::object();
  spec["defaultAction"] = profile["defaultAction"];
  spec["architectures"] = ojson::parse(profile["architectures"].dump());
  spec["syscalls"] = ojson::parse(profile["syscalls"].dump());
  resource["spec"] = std::move(spec);

  // The container securityContext that uses the profile.
  ojson context = ojson::object();
  context["seccompProfile"] = ojson{{"type", "Localhost"}, {"localhostProfile", "least/" + file}};
  context["allowPrivilegeEscalation"] = false;  // no_new_privs, as least always sets it
  ojson caps = ojson::object();
  caps["drop"] = ojson::array({"ALL"});
  if (!plan.capabilities.empty()) {
    ojson add = ojson::array();
    for (const std::string& c : plan.capabilities)
      add.push_back(c.rfind("CAP_", 0) == 0 ? c.substr(4) : c);
    caps["add"] = std::move(add);
  }
  context["capabilities"] = std::move(caps);
  const bool read_only = plan.filesystem.restricted && plan.namespaces.read_only;
  if (read_only) context["readOnlyRootFilesystem"] = true;

  std::string text;
  text += fmt::format(
      "# Kubernetes seccomp profile for the least policy \"{0}\" (least export --format k8s).\n"
      "#\n"
      "# 1. The profile as a security-profiles-operator resource:\n"
      "#      kubectl apply -n NAMESPACE -f THIS_FILE\n"
      "#    The operator installs it on every node as\n"
      "#    /var/lib/kubelet/seccomp/operator/NAMESPACE/{1}\n"
      "#    Without the operator, install the same profile on every node yourself:\n"
      "#      least export -p POLICY --format docker -o /var/lib/kubelet/seccomp/least/{1}\n",
      options.name, file);
  text += yaml(resource);
  text += fmt::format(
      "#\n"
      "# 2. The container securityContext that uses it: paste it into each container of\n"
      "#    the Pod. localhostProfile is relative to /var/lib/kubelet/seccomp: least/{0}\n"
      "#    for the file installed by hand, operator/NAMESPACE/{0} with the operator.\n"
      "#\n",
      file);
  text += commented(yaml(ojson{{"securityContext", context}}));
  if (!read_only)
    text +=
        "#   # readOnlyRootFilesystem is not set: the policy lists no [filesystem] paths, so it "
        "may\n"
        "#   # write anywhere the image allows.\n";
  else if (!plan.namespaces.writable.empty()) {
    text +=
        "#   # The policy writes beneath these paths: mount a volume (emptyDir, PVC) on each.\n";
    for (const std::string& p : plan.namespaces.writable) text += "#   #   " + p + "\n";
  }
  text +=
      "#   # runAsNonRoot: true   -- add it when the image runs as a non-root user (least cannot\n"
      "#   # know the image's user).\n";
  out.content = std::move(text);

  out.notes.push_back(fmt::format(
      "write the plain profile for the kubelet with `least export --format docker -o "
      "/var/lib/kubelet/seccomp/least/{}` on every node, or let the security-profiles-operator "
      "install the SeccompProfile resource",
      file));
  out.notes.push_back(
      "the Pod securityContext carries capabilities, no_new_privs and a read-only root; "
      "Landlock paths and ports, namespaces and limits are not carried (use resources.limits "
      "for memory, the kubelet's podPidsLimit for processes, a NetworkPolicy for the network)");
  return out;
}

}  // namespace least::exporter
