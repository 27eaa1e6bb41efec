// Reading policies: TOML files (toml++) into the Policy model, then the
// semantic checks every source of a policy goes through.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "policy/diagnostics.h"
#include "policy/policy.h"

namespace least::policy {

// Parses policy text. Syntax errors, unknown keys and wrong types go to
// `diags` (all of them, not just the first); nullopt when any was an error.
std::optional<Policy> parse_policy_text(std::string_view text, const std::string& file,
                                        Diagnostics& diags);

// Reads and parses a file; an unreadable file is one diagnostic.
std::optional<Policy> load_policy_file(const std::string& path, Diagnostics& diags);

struct ValidateOptions {
  bool check_paths_exist = true;  // off for the fuzzer and for exports of foreign policies
};

// Semantic checks: known promises, syscalls, errno names and capabilities
// (with "did you mean"), absolute and existing paths, network endpoints,
// conflicts between allow and deny.
void validate_policy(const Policy& policy, Diagnostics& diags, const ValidateOptions& options = {});

// "256M", "1G", "4096" -> bytes; nullopt when malformed.
std::optional<uint64_t> parse_size(std::string_view text);

// "tcp:443" -> protocol and port, nullopt when malformed.
struct Endpoint {
  std::string protocol;  // "tcp" or "udp"
  uint16_t port = 0;
};
std::optional<Endpoint> parse_endpoint(std::string_view text);

// "kill", "EPERM", "EACCES" -> action.
std::optional<DenyAction> parse_deny_action(std::string_view text);

}  // namespace least::policy
