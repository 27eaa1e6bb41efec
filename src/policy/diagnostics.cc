#include "policy/diagnostics.h"

#include <fmt/format.h>

#include <algorithm>
#include <sstream>
#include <tuple>

namespace least::policy {

namespace {

// Source order reads best; the command line comes after the file.
bool before(const Origin& a, const Origin& b) {
  return std::tie(a.file, a.line, a.column) < std::tie(b.file, b.line, b.column);
}

}  // namespace

void Diagnostics::add(Diagnostic d) {
  auto at = std::upper_bound(
      list_.begin(), list_.end(), d,
      [](const Diagnostic& x, const Diagnostic& y) { return before(x.origin, y.origin); });
  list_.insert(at, std::move(d));
}

void Diagnostics::error(const Origin& where, std::string message, std::string hint) {
  add({Diagnostic::Severity::kError, where, std::move(message), std::move(hint)});
}

void Diagnostics::warning(const Origin& where, std::string message, std::string hint) {
  add({Diagnostic::Severity::kWarning, where, std::move(message), std::move(hint)});
}

bool Diagnostics::has_errors() const {
  return std::any_of(list_.begin(), list_.end(), [](const Diagnostic& d) {
    return d.severity == Diagnostic::Severity::kError;
  });
}

void Diagnostics::append(const Diagnostics& other) {
  for (const auto& d : other.list_) add(d);
  for (const auto& [file, text] : other.sources_) sources_.emplace(file, text);
}

void Diagnostics::add_source(const std::string& file, std::string text) {
  sources_[file] = std::move(text);
}

std::string describe_origin(const Origin& o) {
  if (!o.flag.empty()) return o.flag;
  if (o.line == 0) return o.file;
  return fmt::format("{}:{}:{}", o.file, o.line, o.column);
}

namespace {

std::string source_line(const std::string& text, uint32_t line) {
  std::istringstream in(text);
  std::string cur;
  for (uint32_t i = 1; std::getline(in, cur); ++i)
    if (i == line) return cur;
  return {};
}

}  // namespace

std::string Diagnostics::render_one(const Diagnostic& d, bool color) const {
  const bool is_error = d.severity == Diagnostic::Severity::kError;
  const char* bold = color ? "\033[1m" : "";
  const char* reset = color ? "\033[0m" : "";
  const char* tone = !color ? "" : is_error ? "\033[1;31m" : "\033[1;35m";
  std::string where = describe_origin(d.origin);
  std::string out = fmt::format("least: {}{}{}: {}{}{}{}{}\n", tone, is_error ? "error" : "warning",
                                reset, bold, where, reset, where.empty() ? "" : ": ", d.message);
  auto src = sources_.find(d.origin.file);
  if (d.origin.flag.empty() && d.origin.line > 0 && src != sources_.end()) {
    std::string text = source_line(src->second, d.origin.line);
    if (!text.empty()) {
      std::string number = std::to_string(d.origin.line);
      out += fmt::format("  {} | {}\n", number, text);
      size_t col = d.origin.column > 0 ? d.origin.column - 1 : 0;
      std::string pad;
      for (size_t i = 0; i < col && i < text.size(); ++i) pad += text[i] == '\t' ? '\t' : ' ';
      out += fmt::format("  {} | {}{}^{}\n", std::string(number.size(), ' '), pad, tone, reset);
    }
  }
  if (!d.hint.empty()) out += fmt::format("  {}\n", d.hint);
  return out;
}

std::string Diagnostics::render(bool color) const {
  std::string out;
  for (const auto& d : list_) out += render_one(d, color);
  return out;
}

}  // namespace least::policy
