// least learn: run a program with nothing refused, record what its whole
// tree did, and write the smallest policy that covers it.
#include <errno.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/unique_fd.h"
#include "cli/app.h"
#include "cli/atomic_file.h"
#include "cli/commands.h"
#include "cli/policy_options.h"
#include "learn/backend.h"
#include "learn/policy_writer.h"
#include "plan/plan.h"

namespace least::cli {

namespace {

struct LearnOptions {
  std::string output;  // -o; empty: stdout
  std::string merge;   // --merge
  std::string backend = "auto";
  std::string recording_json;  // --recording-json (debugging aid)
  std::vector<std::string> command;
};

void say(const std::string& line) {
  std::fprintf(stderr, "%s\n", line.c_str());
}

void error(const std::string& message) {
  print_error("learn: " + message);
}

std::string access_words(uint32_t access) {
  std::string out;
  auto add = [&](uint32_t bit, const char* word) {
    if (!(access & bit)) return;
    if (!out.empty()) out += ',';
    out += word;
  };
  add(plan::kPathRead, "read");
  add(plan::kPathWrite, "write");
  add(plan::kPathCreate, "create");
  add(plan::kPathExec, "exec");
  return out;
}

// The Recording as JSON, for tests and for debugging the recorder.
std::string recording_json(const learn::Recording& r) {
  nlohmann::json j;
  j["command"] = r.command;
  j["syscalls"] = nlohmann::json::object();
  for (const auto& [name, use] : r.syscalls) {
    nlohmann::json values = nlohmann::json::object();
    for (const auto& [arg, seen] : use.values) values[std::to_string(arg)] = seen;
    j["syscalls"][name] = {{"count", use.count}, {"values", values}};
  }
  j["paths"] = nlohmann::json::object();
  for (const auto& [path, access] : r.paths) j["paths"][path] = access_words(access);
  auto endpoints = [](const std::set<learn::Endpoint>& set) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& e : set)
      out.push_back({{"protocol", e.protocol}, {"address", e.address}, {"port", e.port}});
    return out;
  };
  j["connects"] = endpoints(r.connects);
  j["binds"] = endpoints(r.binds);
  j["peak_processes"] = r.peak_processes;
  j["peak_open_files"] = r.peak_open_files;
  j["lost"] = r.lost;
  j["ending"] = r.ending;
  j["complete"] = r.complete;
  j["exit_code"] = r.exit_code;
  return j.dump(2) + "\n";
}

Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return sys_error(fmt::format("read \"{}\"", path), errno);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return sys_error(fmt::format("read \"{}\"", path), errno);
  return text.str();
}

int learn(const LearnOptions& o) {
  if (o.command.empty()) {
    error("no program given: write it after --, as in `least learn -o app.least.toml -- ./app`");
    return kExitLeastFailed;
  }
  if (o.backend != "auto" && o.backend != "notify" && o.backend != "ebpf") {
    error(fmt::format("unknown backend \"{}\": expected auto, notify or ebpf", o.backend));
    return kExitLeastFailed;
  }
  // Everything that can fail before the run fails before it.
  std::optional<std::string> existing;
  if (!o.merge.empty()) {
    auto text = read_file(o.merge);
    if (!text) {
      error(fmt::format("--merge: {}", text.error().str()));
      return kExitLeastFailed;
    }
    existing = std::move(*text);
  }
  std::optional<AtomicFile> out;
  if (!o.output.empty()) {
    auto f = AtomicFile::create(o.output);
    if (!f) {
      error(fmt::format("-o: {}", f.error().str()));
      return kExitLeastFailed;
    }
    out.emplace(std::move(*f));
  }
  std::optional<AtomicFile> dump;
  if (!o.recording_json.empty()) {
    auto f = AtomicFile::create(o.recording_json);
    if (!f) {
      error(fmt::format("--recording-json: {}", f.error().str()));
      return kExitLeastFailed;
    }
    dump.emplace(std::move(*f));
  }

  std::string backend = o.backend;
  if (backend == "auto") {
    backend = learn::ebpf_available() ? "ebpf" : "notify";
  } else if (backend == "ebpf") {
    if (auto available = learn::ebpf_available(); !available) {
      error(
          fmt::format("the eBPF backend cannot be used here: {}; --backend notify works "
                      "everywhere",
                      available.error().str()));
      return kExitLeastFailed;
    }
  }
  learn::RecordRequest request;
  request.command = o.command;
  request.say = say;
  auto recording =
      backend == "ebpf" ? learn::record_with_ebpf(request) : learn::record_with_notify(request);
  // The kernel refused the eBPF programs: known only when they load, which
  // happens before the program runs, so notify can still record it.
  if (!recording && o.backend == "auto" && backend == "ebpf" &&
      recording.error().kind == ErrorKind::kUnsupported) {
    say(fmt::format("least: learn: the eBPF backend cannot be used ({}); recording with notify",
                    recording.error().str()));
    recording = learn::record_with_notify(request);
  }
  if (!recording) {
    error(recording.error().str());
    return exit_code_for(recording.error());
  }
  const learn::Recording& r = *recording;
  for (const auto& l : r.lost) print_warning(fmt::format("learn: not recorded: {}", l));

  if (dump) {
    if (auto w = dump->commit(recording_json(r)); !w) {
      error(w.error().str());
      return kExitLeastFailed;
    }
  }
  std::string where =
      o.recording_json.empty() ? "" : fmt::format("; recording written to {}", o.recording_json);
  std::string policy = learn::write_policy(r);
  if (existing) {
    auto merged = learn::merge_policies({{o.merge, *existing}, {"learned", policy}});
    if (!merged) {
      // The parser's diagnostics, rendered with file:line and caret.
      error(fmt::format("--merge: \"{}\" cannot be merged (nothing was written):", o.merge));
      fmt::print(stderr, "{}", merged.error().message);
      return kExitLeastFailed;
    }
    policy = std::move(*merged);
  }
  if (out) {
    if (auto w = out->commit(policy); !w) {
      error(w.error().str());
      return kExitLeastFailed;
    }
    where = fmt::format("; policy written to {}{}", o.output, where);
  } else {
    std::fwrite(policy.data(), 1, policy.size(), stdout);
    if (std::fflush(stdout) != 0) {
      error(fmt::format("write the policy to stdout: {}", std::strerror(errno)));
      return kExitLeastFailed;
    }
    where = "; policy written to stdout" + where;
  }
  uint64_t calls = 0;
  for (const auto& [name, use] : r.syscalls) calls += use.count;
  const size_t endpoints = r.connects.size() + r.binds.size();
  say(fmt::format("least: learn: {} calls of {} syscalls, {} paths, {} {}{}", calls,
                  r.syscalls.size(), r.paths.size(), endpoints,
                  endpoints == 1 ? "endpoint" : "endpoints", where));
  if (!r.complete) {
    say(fmt::format("least: learn: the program was {}: the policy covers only what it did before",
                    r.ending));
  } else if (r.exit_code != 0) {
    say(fmt::format("least: learn: the program {} (a failure): the policy covers what it did",
                    r.ending));
  }
  return kExitOk;
}

}  // namespace

Command add_learn_command(CLI::App& app) {
  auto o = std::make_shared<LearnOptions>();
  CLI::App* sub = app.add_subcommand(
      "learn",
      "Write a policy by watching a program run.\n"
      "The program runs with nothing refused; every syscall of its whole tree (forks,\n"
      "threads, execs) is recorded with the arguments that matter, every path with how\n"
      "it was used, every bind and connect endpoint, the peak processes and open files.\n\n"
      "The loop:\n"
      "  least learn -o app.least.toml -- ./app --selftest      record a typical run\n"
      "  least check -p app.least.toml -- ./app other-workload  what else would be blocked?\n"
      "  least learn --merge app.least.toml -o app.least.toml -- ./app other-workload\n"
      "  least run -p app.least.toml -- ./app                   run it confined");
  sub->add_option("-o,--output", o->output,
                  "Write the policy to FILE (atomically; default: stdout)")
      ->type_name("FILE");
  sub->add_option("--merge", o->merge, "Add what was learned to the policy in EXISTING")
      ->type_name("EXISTING");
  sub->add_option("--backend", o->backend,
                  "auto (eBPF when it can be used, else notify), notify (seccomp user\n"
                  "notification: works unprivileged) or ebpf (root or CAP_BPF+CAP_PERFMON)")
      ->type_name("auto|notify|ebpf");
  sub->add_option("--recording-json", o->recording_json,
                  "Debugging aid: also write what was recorded, as JSON, to FILE")
      ->type_name("FILE")
      ->group("");  // hidden from --help
  sub->add_option("command", o->command, "The program and its arguments, after --")
      ->type_name("PROGRAM ARGS...");
  sub->footer(
      "Exit status: 0 when a policy was written, even when the program failed or\n"
      "crashed (it is said); 125 when least fails; 126 the program cannot be executed;\n"
      "127 it is not found.");
  return [o] { return learn(*o); };
}

}  // namespace least::cli
