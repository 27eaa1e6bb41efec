// least import: Docker's own default profile read into a policy that loads,
// clear errors for bad profiles, and the round trip: export(import(x))
// compiled by libseccomp answers the probe matrix as x does, except for
// least's own fixed refusals (TIOCSTI and TIOCLINUX).
#include <gtest/gtest.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>

#include "enforce/seccomp_filter.h"
#include "export/export.h"
#include "import/docker_import.h"
#include "plan/conditions.h"
#include "plan/lower.h"
#include "plan_of.h"
#include "policy/parser.h"
#include "seccomp_reference.h"

namespace least::testing {
namespace {

using nlohmann::json;

std::string docker_default_text() {
  std::ifstream in(std::string(LEAST_SOURCE_DIR) + "/bench/data/docker-default-seccomp.json");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

importer::ImportOptions options(std::vector<std::string> caps = {}) {
  importer::ImportOptions o;
  o.capabilities = std::move(caps);
  o.kernel = "6.1";
  o.source = "docker-default-seccomp.json";
  return o;
}

json docker_export(const plan::Plan& plan) {
  auto e = exporter::export_plan(plan, exporter::Format::kDocker, {});
  EXPECT_TRUE(e) << e.error().str();
  return json::parse(e->content);
}

bool contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

TEST(Import, DockerDefault) {
  auto r = importer::import_profile(docker_default_text(), options());
  ASSERT_TRUE(r) << r.error().str();
  for (const char* p : {"stdio", "rpath", "wpath", "cpath", "inet", "unix", "dns", "proc", "thread",
                        "exec", "prot_exec", "tty"})
    EXPECT_TRUE(contains(r->promises, p)) << p;
  EXPECT_FALSE(contains(r->promises, "settime"));  // clock_settime needs CAP_SYS_TIME
  // socket(domain < 38 || == 39 || > 40) is more than inet, unix and dns:
  // the profile's own conditions, written as `when`.
  EXPECT_EQ(r->conditional, std::vector<std::string>{"socket"});
  EXPECT_NE(r->toml.find("{ name = \"socket\", when = [\"domain < AF_ALG\", \"domain == 39\", "
                         "\"domain > AF_VSOCK\"] }"),
            std::string::npos)
      << r->toml;
  EXPECT_TRUE(contains(r->allow, "ptrace"));  // minKernel 4.8
  EXPECT_FALSE(contains(r->allow, "mount"));  // CAP_SYS_ADMIN only
  EXPECT_FALSE(contains(r->allow, "clone3"));
  EXPECT_NE(r->toml.find("clone3 = \"ENOSYS\""), std::string::npos) << r->toml;
  plan::Plan plan = plan_of(r->toml);
  EXPECT_EQ(plan.seccomp.find("clone3")->action.errno_value, ENOSYS);
  EXPECT_TRUE(plan.capabilities.empty());
}

TEST(Import, OldKernelLeavesPtraceOut) {
  auto o = options();
  o.kernel = "4.4";
  auto r = importer::import_profile(docker_default_text(), o);
  ASSERT_TRUE(r) << r.error().str();
  EXPECT_FALSE(contains(r->allow, "ptrace"));
}

TEST(Import, GrantedCapabilitiesIncludeTheirEntries) {
  auto r = importer::import_profile(docker_default_text(), options({"CAP_SYS_ADMIN", "sys_time"}));
  ASSERT_TRUE(r) << r.error().str();
  EXPECT_TRUE(contains(r->allow, "mount"));
  EXPECT_TRUE(contains(r->allow, "clone3"));  // the ENOSYS entry excludes CAP_SYS_ADMIN
  EXPECT_TRUE(contains(r->promises, "settime"));
  plan::Plan plan = plan_of(r->toml);
  EXPECT_EQ(plan.capabilities, (std::vector<std::string>{"CAP_SYS_ADMIN", "CAP_SYS_TIME"}));
}

TEST(Import, OciConfigAndLinuxSeccompObject) {
  json profile = {{"defaultAction", "SCMP_ACT_ERRNO"},
                  {"architectures", {"SCMP_ARCH_X86_64"}},
                  {"syscalls",
                   {{{"names", {"read", "write", "exit_group"}}, {"action", "SCMP_ACT_ALLOW"}},
                    {{"names", {"ptrace"}}, {"action", "SCMP_ACT_KILL_PROCESS"}}}}};
  for (const json& doc :
       {profile, json{{"ociVersion", "1.0.2"}, {"linux", {{"seccomp", profile}}}}}) {
    auto r = importer::import_profile(doc.dump(), options());
    ASSERT_TRUE(r) << r.error().str();
    EXPECT_TRUE(r->promises.empty());
    EXPECT_EQ(r->allow, (std::vector<std::string>{"exit_group", "read", "write"}));
    EXPECT_NE(r->toml.find("ptrace = \"kill\""), std::string::npos) << r->toml;
    plan_of(r->toml);
  }
}

std::string import_error(const json& profile) {
  auto r = importer::import_profile(profile.dump(), options());
  EXPECT_FALSE(r) << "imported: " << profile.dump();
  return r ? std::string() : r.error().str();
}

json minimal(json syscalls) {
  return {{"defaultAction", "SCMP_ACT_ERRNO"}, {"syscalls", std::move(syscalls)}};
}

TEST(Import, Errors) {
  {
    auto r = importer::import_profile("{\"defaultAction\": ", options());
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().str().find("not valid JSON"), std::string::npos) << r.error().str();
  }
  EXPECT_EQ(import_error(minimal({{{"names", {"read", "reed"}}, {"action", "SCMP_ACT_ALLOW"}}})),
            "syscalls[0].names[1]: unknown syscall \"reed\" (did you mean \"read\"?)");
  EXPECT_EQ(import_error({{"defaultAction", "SCMP_ACT_ERRNO"},
                          {"architectures", {"SCMP_ARCH_X86_64", "SCMP_ARCH_X68"}}}),
            "architectures[1]: unknown architecture \"SCMP_ARCH_X68\" (did you mean "
            "SCMP_ARCH_X86?)");
  EXPECT_EQ(import_error({{"defaultAction", "SCMP_ACT_ERRNO"},
                          {"archMap", {{{"architecture", "SCMP_ARCH_VAX"}}}}}),
            "archMap[0].architecture: unknown architecture \"SCMP_ARCH_VAX\" (did you mean "
            "SCMP_ARCH_X86?)");
  EXPECT_EQ(import_error(
                minimal({{{"names", {"socket"}},
                          {"action", "SCMP_ACT_ALLOW"},
                          {"args", {{{"index", 0}, {"value", 2}, {"op", "SCMP_CMP_BETWEEN"}}}}}})),
            "syscalls[0].args[0].op: unknown operator \"SCMP_CMP_BETWEEN\" (expected "
            "SCMP_CMP_EQ, SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE, SCMP_CMP_GT, SCMP_CMP_GE or "
            "SCMP_CMP_MASKED_EQ)");
  EXPECT_EQ(
      import_error(minimal({{{"names", {"socket"}},
                             {"action", "SCMP_ACT_ALLOW"},
                             {"args", {{{"index", 7}, {"value", 2}, {"op", "SCMP_CMP_EQ"}}}}}})),
      "syscalls[0].args[0].index: expected an argument index from 0 to 5");
  // A misspelt key would silently drop the conditions: refused.
  EXPECT_EQ(import_error(minimal(
                {{{"names", {"socket"}}, {"action", "SCMP_ACT_ALLOW"}, {"arg", json::array()}}})),
            "syscalls[0].arg: unknown key (expected names, action, errnoRet, args, includes, "
            "excludes, comment)");
  EXPECT_NE(import_error(minimal({{{"names", {"read"}}, {"action", "SCMP_ACT_LOG"}}}))
                .find("syscalls[0].action: unsupported action SCMP_ACT_LOG"),
            std::string::npos);
  EXPECT_NE(import_error({{"defaultAction", "SCMP_ACT_ALLOW"}}).find("deny-list profile"),
            std::string::npos);
  EXPECT_NE(import_error(minimal({{{"names", {"socket"}},
                                   {"action", "SCMP_ACT_ALLOW"},
                                   {"args",
                                    {{{"index", 0}, {"value", 2}, {"op", "SCMP_CMP_EQ"}},
                                     {{"index", 0}, {"value", 10}, {"op", "SCMP_CMP_EQ"}}}}}}))
                .find("syscalls[0].args[1]: a second condition on argument 0"),
            std::string::npos);
  EXPECT_NE(import_error(minimal({{{"names", {"read"}}, {"action", "SCMP_ACT_ALLOW"}},
                                  {{"names", {"read"}}, {"action", "SCMP_ACT_KILL_PROCESS"}}}))
                .find("syscalls[1]: read is killed here but allowed by syscalls[0]"),
            std::string::npos);
  EXPECT_EQ(import_error(
                minimal({{{"names", {"read"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", -1}}})),
            "syscalls[0].errnoRet: expected an errno number from 1 to 4095");
  EXPECT_EQ(import_error({{"syscalls", json::array()}}), "defaultAction: missing");
}

// The importer's reading of every operator (as written, and rewritten as
// masked equalities) answers as libseccomp's own comparison does, at and around the bounds and
// at the top of the 64-bit range.
TEST(Import, OperatorsMeanWhatLibseccompMeans) {
  for (const char* op : {"SCMP_CMP_EQ", "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_GT",
                         "SCMP_CMP_GE", "SCMP_CMP_MASKED_EQ"}) {
    for (uint64_t bound : {uint64_t{0}, uint64_t{1}, uint64_t{40}, uint64_t{0x7E020000},
                           uint64_t{0xffffffff}, ~uint64_t{0} - 1, ~uint64_t{0}}) {
      SCOPED_TRACE(std::string(op) + " " + std::to_string(bound));
      json profile = minimal(
          {{{"names", {"getpid"}}, {"action", "SCMP_ACT_ALLOW"}},
           {{"names", {"socket"}},
            {"action", "SCMP_ACT_ALLOW"},
            {"args",
             {{{"index", 1}, {"value", bound}, {"valueTwo", bound & 0x20000}, {"op", op}}}}}});
      auto read = importer::read_profile(profile.dump(), options());
      ASSERT_TRUE(read) << read.error().str();
      // Both readings: the masked equalities, and the operators as written
      // (what a policy's `when` carries), compiled by least's own filter.
      auto compile = [&](bool written) {
        plan::SeccompPlan sc;
        sc.default_action = plan::Action::error(1);
        for (const auto& r : read->rules) {
          plan::SyscallRule rule;
          rule.name = r.name;
          rule.number = *sys::syscall_number(r.name, sc.arch);
          rule.action = r.action;
          if (written) {
            rule.alternatives = r.alternatives;
          } else {
            for (const auto& alt : r.alternatives)
              for (auto& m : plan::as_masked_equalities(alt)) rule.alternatives.push_back(m);
          }
          sc.rules.push_back(rule);
        }
        std::sort(sc.rules.begin(), sc.rules.end(),
                  [](const auto& a, const auto& b) { return a.number < b.number; });
        return enforce::compile_seccomp(sc);
      };
      auto ours = compile(false), as_written = compile(true);
      ASSERT_TRUE(ours) << ours.error().str();
      ASSERT_TRUE(as_written) << as_written.error().str();
      auto theirs = reference_compile(profile);
      int nr = *sys::syscall_number("socket", sys::native_arch());
      for (uint64_t v :
           {uint64_t{0}, uint64_t{1}, uint64_t{2}, uint64_t{39}, uint64_t{40}, uint64_t{41},
            uint64_t{0x20000}, uint64_t{0x7E020000}, uint64_t{0x7E01ffff}, uint64_t{0xfffffffe},
            uint64_t{0xffffffff}, uint64_t{0x100000000}, uint64_t{1} << 63, ~uint64_t{0} - 1,
            ~uint64_t{0}}) {
        std::array<uint64_t, 6> args{0, v, 0, 0, 0, 0};
        EXPECT_EQ(decide(ours->code, nr, args), decide(theirs, nr, args)) << "value " << v;
        EXPECT_EQ(decide(as_written->code, nr, args), decide(theirs, nr, args)) << "value " << v;
      }
    }
  }
}

// export(import(x)) against x, both compiled by libseccomp as runtimes do.
// The only difference allowed is least's own refusal of TIOCSTI and
// TIOCLINUX; `expect_conditional` are the syscalls written with `when`.
void round_trip(const std::string& text, const std::vector<std::string>& caps,
                const std::set<std::string>& expect_conditional) {
  auto r = importer::import_profile(text, options(caps));
  ASSERT_TRUE(r) << r.error().str();
  EXPECT_EQ(std::set<std::string>(r->conditional.begin(), r->conditional.end()),
            expect_conditional);
  json x = json::parse(text);
  json y = docker_export(plan_of(r->toml));
  std::set<std::string> granted;
  for (const auto& c : caps) granted.insert(c);
  auto fx = reference_compile(x, granted);
  auto fy = reference_compile(y);
  size_t probes = 0, same = 0, terminal = 0;
  for (const Probe& p : probe_matrix({x, y})) {
    ++probes;
    uint32_t a = decide(fx, p.nr, p.args), b = decide(fy, p.nr, p.args);
    if (a == b) {
      ++same;
      continue;
    }
    const bool x_allows = a == SCMP_ACT_ALLOW,
               y_refuses = (b & SECCOMP_RET_ACTION_FULL) != SCMP_ACT_ALLOW;
    if (p.name == "ioctl" && (p.args[1] == TIOCSTI || p.args[1] == TIOCLINUX) && x_allows &&
        y_refuses) {
      ++terminal;
      continue;
    }
    ADD_FAILURE() << p.describe() << ": profile " << std::hex << a << ", export(import) " << b;
  }
  EXPECT_GT(probes, 500u);
  std::cout << "round trip: " << probes << " probes, " << same << " equal, " << terminal
            << " differ (TIOCSTI/TIOCLINUX)\n";
}

TEST(Import, RoundTripDockerDefault) {
  round_trip(docker_default_text(), {}, {"socket"});
}

TEST(Import, RoundTripDockerDefaultWithCapabilities) {
  round_trip(docker_default_text(), {"CAP_SYS_ADMIN", "CAP_SYS_PTRACE"}, {"socket"});
}

// A profile least wrote itself comes back whole: export(import(export(p)))
// equals export(p), probe for probe.
TEST(Import, RoundTripOfOwnExport) {
  // Without rpath the export lets runc open its exec fifo (openat with two
  // exact flag values): the import writes that condition as `when`.
  struct Case {
    const char* policy;
    std::set<std::string> conditional;
  };
  for (const Case& c : std::vector<Case>{
           {"promises = [\"stdio\", \"rpath\", \"inet\", \"dns\"]\n", {}},
           {"promises = [\"stdio\", \"proc\", \"thread\", \"tty\"]\n[syscalls]\nallow = "
            "[\"mincore\"]\ndeny = { ptrace = \"kill\", mount = \"EACCES\" }\n",
            {"openat"}},
           {"", {}}}) {
    SCOPED_TRACE(c.policy);
    json x = docker_export(plan_of(c.policy));
    round_trip(x.dump(), {}, c.conditional);
  }
}

}  // namespace
}  // namespace least::testing
