// A reference reading of Docker/OCI seccomp JSON, independent of least's
// importer: the profile compiled with libseccomp exactly as runc and crun do
// (each entry a rule, each args[] item one scmp_arg_cmp with datum_a = value
// and datum_b = valueTwo, the profile's own operators), then run in the BPF
// simulator. Two profiles are compared by their answers on a probe matrix.
#pragma once

#include <gtest/gtest.h>
#include <linux/audit.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "../unit/bpf_simulator.h"

namespace least::testing {

inline uint32_t reference_action(const nlohmann::json& action, const nlohmann::json& errno_ret) {
  std::string a = action.get<std::string>();
  if (a == "SCMP_ACT_ALLOW") return SCMP_ACT_ALLOW;
  if (a == "SCMP_ACT_ERRNO")
    return SCMP_ACT_ERRNO(errno_ret.is_number() ? errno_ret.get<uint16_t>() : 1);
  if (a == "SCMP_ACT_KILL_PROCESS") return SCMP_ACT_KILL_PROCESS;
  if (a == "SCMP_ACT_KILL" || a == "SCMP_ACT_KILL_THREAD") return SCMP_ACT_KILL_THREAD;
  ADD_FAILURE() << "reference: unexpected action " << a;
  return SCMP_ACT_KILL_PROCESS;
}

inline scmp_compare reference_op(const std::string& op) {
  static const std::map<std::string, scmp_compare> ops = {
      {"SCMP_CMP_NE", SCMP_CMP_NE},
      {"SCMP_CMP_LT", SCMP_CMP_LT},
      {"SCMP_CMP_LE", SCMP_CMP_LE},
      {"SCMP_CMP_EQ", SCMP_CMP_EQ},
      {"SCMP_CMP_GE", SCMP_CMP_GE},
      {"SCMP_CMP_GT", SCMP_CMP_GT},
      {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ}};
  auto it = ops.find(op);
  if (it == ops.end()) ADD_FAILURE() << "reference: unexpected operator " << op;
  return it == ops.end() ? SCMP_CMP_EQ : it->second;
}

// Docker's includes/excludes for an x86_64 host (GOARCH amd64) whose kernel
// is newer than any minKernel in the profiles tested, holding `caps`.
inline bool reference_applies(const nlohmann::json& e, const std::set<std::string>& caps) {
  auto list = [](const nlohmann::json& f, const char* key) {
    std::vector<std::string> out;
    if (f.is_object() && f.contains(key) && f[key].is_array())
      for (const auto& s : f[key]) out.push_back(s.get<std::string>());
    return out;
  };
  if (e.contains("includes")) {
    for (const auto& c : list(e["includes"], "caps"))
      if (!caps.count(c)) return false;
    auto arches = list(e["includes"], "arches");
    if (!arches.empty() && std::find(arches.begin(), arches.end(), "amd64") == arches.end())
      return false;
  }
  if (e.contains("excludes")) {
    for (const auto& c : list(e["excludes"], "caps"))
      if (caps.count(c)) return false;
    auto arches = list(e["excludes"], "arches");
    if (std::find(arches.begin(), arches.end(), "amd64") != arches.end()) return false;
  }
  return true;
}

// The profile compiled by libseccomp for the native arch, as a runtime would.
inline std::vector<sock_filter> reference_compile(const nlohmann::json& profile,
                                                  const std::set<std::string>& caps = {}) {
  uint32_t def = reference_action(profile["defaultAction"],
                                  profile.value("defaultErrnoRet", nlohmann::json()));
  scmp_filter_ctx ctx = seccomp_init(def);
  EXPECT_NE(ctx, nullptr);
  for (const auto& e : profile["syscalls"]) {
    if (!reference_applies(e, caps)) continue;
    uint32_t act = reference_action(e["action"], e.value("errnoRet", nlohmann::json()));
    if (act == def) continue;  // runc skips these; libseccomp refuses them
    std::vector<scmp_arg_cmp> cmps;
    if (e.contains("args"))
      for (const auto& a : e["args"])
        cmps.push_back({a["index"].get<unsigned>(), reference_op(a["op"].get<std::string>()),
                        a.value("value", uint64_t{0}), a.value("valueTwo", uint64_t{0})});
    for (const auto& n : e["names"]) {
      int nr = seccomp_syscall_resolve_name(n.get<std::string>().c_str());
      if (nr < 0) continue;  // another arch's, or newer than libseccomp: runtimes skip it
      int rc = seccomp_rule_add_array(ctx, act, nr, static_cast<unsigned>(cmps.size()),
                                      cmps.empty() ? nullptr : cmps.data());
      EXPECT_EQ(rc, 0) << "reference: rule for " << n << ": " << e.dump();
    }
  }
  int fd = memfd_create("reference", MFD_CLOEXEC);
  EXPECT_EQ(seccomp_export_bpf(ctx, fd), 0);
  seccomp_release(ctx);
  off_t size = lseek(fd, 0, SEEK_END);
  std::vector<sock_filter> code(static_cast<size_t>(size) / sizeof(sock_filter));
  EXPECT_EQ(pread(fd, code.data(), static_cast<size_t>(size), 0), size);
  close(fd);
  return code;
}

inline uint32_t decide(const std::vector<sock_filter>& filter, int nr,
                       const std::array<uint64_t, 6>& args) {
  seccomp_data d{};
  d.nr = nr;
  d.arch = AUDIT_ARCH_X86_64;
  for (size_t i = 0; i < 6; ++i) d.args[i] = args[i];
  return least::test::run_bpf(filter, d);
}

struct Probe {
  std::string name;
  int nr = -1;
  std::array<uint64_t, 6> args{};
  std::string describe() const {
    std::string s = name + "(";
    for (size_t i = 0; i < 6; ++i) s += (i ? ", " : "") + std::to_string(args[i]);
    return s + ")";
  }
};

// Argument values worth probing per (syscall, argument): every constant the
// profiles compare with, its neighbours, and for masked comparisons the
// datum with one masked bit flipped and with the low 32 unmasked bits set.
// Values are what callers pass: int arguments zero-extended, so no value
// above 32 bits appears unless a profile names it.
inline void add_constants(const nlohmann::json& profile,
                          std::map<std::string, std::map<unsigned, std::set<uint64_t>>>& out) {
  for (const auto& e : profile["syscalls"]) {
    if (!e.contains("args")) continue;
    for (const auto& n : e["names"])
      for (const auto& a : e["args"]) {
        auto& vals = out[n.get<std::string>()][a["index"].get<unsigned>()];
        uint64_t v = a.value("value", uint64_t{0}), two = a.value("valueTwo", uint64_t{0});
        if (a["op"] == "SCMP_CMP_MASKED_EQ") {
          vals.insert(two);
          if (v) vals.insert(two ^ (v & -v));
          vals.insert(two | (~v & 0xffffffffu));
        } else {
          vals.insert(v);
          if (v + 1 != uint64_t{1} << 32) vals.insert(v + 1);  // stays zero-extended
          if (v) vals.insert(v - 1);
        }
      }
  }
}

inline std::vector<Probe> probe_matrix(const std::vector<nlohmann::json>& profiles) {
  std::map<std::string, std::map<unsigned, std::set<uint64_t>>> constants;
  for (const auto& p : profiles) add_constants(p, constants);
  std::vector<Probe> out;
  for (int nr = 0; nr < 512; ++nr) {
    char* name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
    if (!name) continue;
    Probe base{name, nr, {}};
    free(name);
    out.push_back(base);
    auto it = constants.find(base.name);
    if (it == constants.end()) continue;
    // Every combination of the constants, when there are few; else one
    // argument at a time.
    size_t product = 1;
    for (auto& [i, vals] : it->second) product *= vals.size() + 1;
    if (product <= 50000) {
      std::vector<Probe> combos = {base};
      for (auto& [i, vals] : it->second) {
        std::vector<Probe> next;
        for (const Probe& p : combos) {
          next.push_back(p);
          for (uint64_t v : vals) {
            Probe q = p;
            q.args[i] = v;
            next.push_back(q);
          }
        }
        combos = std::move(next);
      }
      out.insert(out.end(), combos.begin() + 1, combos.end());
    } else {
      for (auto& [i, vals] : it->second)
        for (uint64_t v : vals) {
          Probe q = base;
          q.args[i] = v;
          out.push_back(q);
        }
    }
  }
  return out;
}

}  // namespace least::testing
