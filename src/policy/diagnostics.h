// Diagnostics for policies: every problem found, each pointing at its source
// (file:line:column with the line and a caret, or the command-line flag).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "policy/policy.h"

namespace least::policy {

struct Diagnostic {
  enum class Severity { kError, kWarning } severity = Severity::kError;
  Origin origin;
  std::string message;  // "unknown promise \"stdoi\""
  std::string hint;     // "did you mean \"stdio\"?" (may be empty)
};

class Diagnostics {
 public:
  void error(const Origin& where, std::string message, std::string hint = {});
  void warning(const Origin& where, std::string message, std::string hint = {});
  bool has_errors() const;
  const std::vector<Diagnostic>& all() const { return list_; }
  void append(const Diagnostics& other);

  // Source text of each file, so rendering can quote the offending line.
  void add_source(const std::string& file, std::string text);
  // "least: error: app.least.toml:3:14: unknown promise ..." plus the quoted
  // line, a caret and the hint. Colour when `color` is set.
  std::string render(bool color = false) const;
  std::string render_one(const Diagnostic& d, bool color) const;

 private:
  void add(Diagnostic d);
  std::vector<Diagnostic> list_;
  std::map<std::string, std::string> sources_;
};

std::string describe_origin(const Origin& o);  // "app.least.toml:3:14" or "--promise"

}  // namespace least::policy
