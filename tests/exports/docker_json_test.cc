// The seccomp JSON exports (docker, OCI's linux.seccomp, the Kubernetes
// SeccompProfile): their structure, and their meaning: compiled by libseccomp
// as runc and crun compile them, they answer every probe exactly as least's
// own filter does.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "enforce/seccomp_filter.h"
#include "export/consumer_plan.h"
#include "export/export.h"
#include "export/seccomp_json.h"
#include "plan/lower.h"
#include "plan_of.h"
#include "policy/parser.h"
#include "seccomp_reference.h"
#include "spawn.h"

namespace least::testing {
namespace {

using nlohmann::json;

exporter::Exported exported(const plan::Plan& plan, exporter::Format f,
                            const std::string& name = "test") {
  exporter::ExportOptions o;
  o.name = name;
  auto e = exporter::export_plan(plan, f, o);
  EXPECT_TRUE(e) << e.error().str();
  return e ? *e : exporter::Exported{};
}

json docker_of(const plan::Plan& plan) {
  auto e = exported(plan, exporter::Format::kDocker);
  EXPECT_TRUE(e.content.ends_with("}\n"));
  return json::parse(e.content);
}

bool has_note(const std::vector<std::string>& notes, const std::string& part) {
  for (const auto& n : notes)
    if (n.find(part) != std::string::npos) return true;
  return false;
}

const char* kPolicies[] = {
    "promises = [\"stdio\", \"rpath\"]\n",
    "promises = [\"stdio\", \"rpath\", \"inet\", \"dns\", \"unix\", \"proc\", \"thread\"]\n"
    "[syscalls]\ndeny = { ptrace = \"kill\", mount = \"EACCES\" }\n",
    "",  // the built-in default
};

TEST(DockerJson, Structure) {
  json d = docker_of(plan_of(kPolicies[0]));
  EXPECT_EQ(d["defaultAction"], "SCMP_ACT_ERRNO");
  EXPECT_EQ(d["defaultErrnoRet"], 1);
  EXPECT_FALSE(d.contains("architectures"));  // Docker refuses both
  ASSERT_EQ(d["archMap"].size(), 1u);
  EXPECT_EQ(d["archMap"][0]["architecture"], "SCMP_ARCH_X86_64");
  EXPECT_EQ(d["archMap"][0]["subArchitectures"], json::array());
  // The unconditional allows come first, as one entry of sorted names.
  const json& first = d["syscalls"][0];
  EXPECT_EQ(first["action"], "SCMP_ACT_ALLOW");
  EXPECT_FALSE(first.contains("args"));
  std::vector<std::string> names = first["names"];
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  for (const char* n : {"read", "write", "openat", "exit_group", "execve"})
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
  // No syscall is in two unconditional entries; no number is named.
  std::set<std::string> unconditional;
  for (const auto& e : d["syscalls"]) {
    EXPECT_TRUE(e["action"] == "SCMP_ACT_ALLOW" || e["action"] == "SCMP_ACT_ERRNO" ||
                e["action"] == "SCMP_ACT_KILL_PROCESS");
    EXPECT_EQ(e.contains("errnoRet"), e["action"] == "SCMP_ACT_ERRNO") << e.dump();
    for (const auto& n : e["names"]) {
      EXPECT_NE(n.get<std::string>()[0], '#');
      if (!e.contains("args")) {
        EXPECT_TRUE(unconditional.insert(n).second) << n;
      }
    }
  }
}

TEST(DockerJson, OciDialect) {
  exporter::ConsumerSeccomp c = exporter::consumer_seccomp(plan_of(kPolicies[0]));
  std::vector<std::string> notes;
  json o = exporter::seccomp_json(c, exporter::SeccompDialect::kOci, notes);
  EXPECT_EQ(o["architectures"], json::array({"SCMP_ARCH_X86_64"}));
  EXPECT_FALSE(o.contains("archMap"));
  EXPECT_EQ(o["defaultAction"], "SCMP_ACT_ERRNO");
  EXPECT_EQ(o["defaultErrnoRet"], 1);
  json d = exporter::seccomp_json(c, exporter::SeccompDialect::kDocker, notes);
  EXPECT_EQ(o["syscalls"], d["syscalls"]);  // only the architecture field differs
  EXPECT_TRUE(has_note(notes, "bad-architecture"));
}

// ArgCond (arg & mask) == value: EQ when the mask is all 64 bits, else
// MASKED_EQ with the mask in value and the datum in valueTwo (libseccomp's
// datum_a and datum_b, as runc and crun pass them).
TEST(DockerJson, Conditions) {
  json d = docker_of(plan_of(kPolicies[1]));
  bool inet_stream = false, dumpable = false;
  for (const auto& e : d["syscalls"]) {
    if (!e.contains("args")) continue;
    ASSERT_EQ(e["names"].size(), 1u);
    std::set<unsigned> indexes;
    for (const auto& a : e["args"]) {
      EXPECT_TRUE(indexes.insert(a["index"].get<unsigned>()).second) << e.dump();
      if (a["op"] == "SCMP_CMP_MASKED_EQ")
        EXPECT_EQ(a["valueTwo"].get<uint64_t>() & ~a["value"].get<uint64_t>(), 0u) << e.dump();
      else
        EXPECT_EQ(a["op"], "SCMP_CMP_EQ");
    }
    if (e["names"][0] == "socket" && e["args"].size() == 3 && e["args"][0]["valueTwo"] == 2 &&
        e["args"][1]["valueTwo"] == 1 && e["args"][2]["valueTwo"] == 6) {
      inet_stream = true;
      EXPECT_EQ(e["args"][0]["op"], "SCMP_CMP_MASKED_EQ");
      EXPECT_EQ(e["args"][0]["value"], 0xffffffffu);  // int: 32 bits, as the kernel reads it
      EXPECT_EQ(e["args"][1]["value"], 0xfu);         // type & 0xf
    }
    if (e["names"][0] == "prctl" && e["args"].size() == 2 && e["args"][0]["valueTwo"] == 4) {
      dumpable = true;
      EXPECT_EQ(e["args"][1]["op"], "SCMP_CMP_EQ");  // arg2 == 0 on 64 bits
      EXPECT_EQ(e["args"][1]["value"], 0);
    }
  }
  EXPECT_TRUE(inet_stream);
  EXPECT_TRUE(dumpable);
}

TEST(DockerJson, DenyKillAndEnosys) {
  json d = docker_of(plan_of(kPolicies[1]));
  auto entry_with = [&](const std::string& name) -> json {
    for (const auto& e : d["syscalls"])
      for (const auto& n : e["names"])
        if (n == name) return e;
    return nullptr;
  };
  EXPECT_EQ(entry_with("ptrace")["action"], "SCMP_ACT_KILL_PROCESS");
  EXPECT_EQ(entry_with("mount")["action"], "SCMP_ACT_ERRNO");
  EXPECT_EQ(entry_with("mount")["errnoRet"], EACCES);
  EXPECT_EQ(entry_with("clone3")["action"], "SCMP_ACT_ERRNO");
  EXPECT_EQ(entry_with("clone3")["errnoRet"], ENOSYS);
  // Refused with the default answer: not listed at all.
  EXPECT_TRUE(entry_with("bpf").is_null());
}

TEST(DockerJson, NumberedRulesSkippedWithNote) {
  plan::Plan plan = plan_of(kPolicies[0]);
  ASSERT_TRUE(std::any_of(plan.seccomp.rules.begin(), plan.seccomp.rules.end(),
                          [](const auto& r) { return exporter::is_numbered(r); }));
  auto e = exported(plan, exporter::Format::kDocker);
  EXPECT_EQ(e.content.find("\"#"), std::string::npos);
  EXPECT_TRUE(has_note(e.notes, "newer than libseccomp's tables"));
  EXPECT_TRUE(has_note(e.notes, "--format oci"));
}

// The meaning: libseccomp compiles the JSON as runc and crun do, and the
// result answers every probe as least's own filter (the consumer view) does.
TEST(DockerJson, SameAnswersAsLeastsFilter) {
  for (const char* policy : kPolicies) {
    SCOPED_TRACE(policy);
    plan::Plan plan = plan_of(policy);
    json d = docker_of(plan);
    auto ours = enforce::compile_seccomp(exporter::consumer_seccomp(plan).seccomp);
    ASSERT_TRUE(ours) << ours.error().str();
    auto theirs = reference_compile(d);
    size_t probes = 0, differ = 0;
    for (const Probe& p : probe_matrix({d})) {
      ++probes;
      uint32_t a = decide(ours->code, p.nr, p.args), b = decide(theirs, p.nr, p.args);
      if (a != b && ++differ <= 10)
        ADD_FAILURE() << p.describe() << ": least " << std::hex << a << ", docker JSON " << b;
    }
    EXPECT_GT(probes, 500u);
    EXPECT_EQ(differ, 0u);
  }
}

// ---- Kubernetes -------------------------------------------------------------

bool have_python_yaml() {
  return spawn({"/usr/bin/python3", "-c", "import yaml"}).status == 0;
}

// The YAML stream as JSON, parsed by PyYAML, and the commented securityContext
// block parsed the same way once uncommented.
json parse_yaml(const std::string& yaml_text) {
  SpawnOptions options;
  options.stdin_data = yaml_text;
  auto r = spawn({"/usr/bin/python3", "-c",
                  "import json, sys, yaml\n"
                  "print(json.dumps([d for d in yaml.safe_load_all(sys.stdin)]))"},
                 options);
  EXPECT_EQ(r.status, 0) << r.describe();
  return r.status == 0 ? json::parse(r.out) : json();
}

std::string uncommented_snippet(const std::string& text) {
  std::string out;
  bool in = false;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    std::string line = text.substr(start, end - start);
    start = end == std::string::npos ? text.size() : end + 1;
    if (line == "# securityContext:") in = true;
    if (!in) continue;
    if (line.rfind("#   #", 0) == 0) continue;  // comments within the snippet
    out += line.substr(2) + "\n";
  }
  return out;
}

TEST(K8sYaml, ParsesAndCarriesTheDockerProfile) {
  if (!have_python_yaml()) GTEST_SKIP() << "python3-yaml is not installed";
  plan::Plan plan = plan_of(
      "promises = [\"stdio\", \"rpath\", \"inet\"]\n"
      "[filesystem]\nread = [\"/etc\"]\ncreate = [\"/tmp\"]\n"
      "[isolation]\ncapabilities = [\"CAP_NET_BIND_SERVICE\"]\n");
  auto k = exported(plan, exporter::Format::kK8s, "Web_App");
  json docs = parse_yaml(k.content);
  ASSERT_EQ(docs.size(), 1u) << k.content;
  const json& sp = docs[0];
  EXPECT_EQ(sp["apiVersion"], "security-profiles-operator.x-k8s.io/v1beta1");
  EXPECT_EQ(sp["kind"], "SeccompProfile");
  EXPECT_EQ(sp["metadata"]["name"], "web-app");  // a valid Kubernetes name
  EXPECT_TRUE(has_note(k.notes, "not a valid Kubernetes name"));
  EXPECT_FALSE(sp["spec"].contains("defaultErrnoRet"));  // not in the CRD
  json d = docker_of(plan);
  EXPECT_EQ(sp["spec"]["defaultAction"], d["defaultAction"]);
  EXPECT_EQ(sp["spec"]["architectures"], json::array({d["archMap"][0]["architecture"]}));
  EXPECT_EQ(sp["spec"]["syscalls"], d["syscalls"]);  // the same profile, entry for entry

  json snippet = parse_yaml(uncommented_snippet(k.content));
  ASSERT_EQ(snippet.size(), 1u) << uncommented_snippet(k.content);
  const json& sc = snippet[0]["securityContext"];
  EXPECT_EQ(sc["seccompProfile"]["type"], "Localhost");
  EXPECT_EQ(sc["seccompProfile"]["localhostProfile"], "least/web-app.json");
  EXPECT_EQ(sc["allowPrivilegeEscalation"], false);
  EXPECT_EQ(sc["capabilities"]["drop"], json::array({"ALL"}));
  EXPECT_EQ(sc["capabilities"]["add"], json::array({"NET_BIND_SERVICE"}));
  EXPECT_EQ(sc["readOnlyRootFilesystem"], true);
  EXPECT_NE(k.content.find("#   #   /tmp"), std::string::npos);  // needs a volume
}

TEST(K8sYaml, NoReadOnlyRootWithoutFilesystemRules) {
  if (!have_python_yaml()) GTEST_SKIP() << "python3-yaml is not installed";
  auto k = exported(plan_of(kPolicies[2]), exporter::Format::kK8s, "default");
  json snippet = parse_yaml(uncommented_snippet(k.content));
  ASSERT_EQ(snippet.size(), 1u);
  EXPECT_FALSE(snippet[0]["securityContext"].contains("readOnlyRootFilesystem"));
  EXPECT_FALSE(snippet[0]["securityContext"]["capabilities"].contains("add"));
}

}  // namespace
}  // namespace least::testing
