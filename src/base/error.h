// Errors as values: a code for the exit status, an errno, the subject it is
// about, and a chain of context added by each layer on the way up.
#pragma once

#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace least {

enum class ErrorKind {
  kUsage,       // bad command line or bad policy: exit 2 (or 125 for run)
  kPolicy,      // the policy cannot be loaded or lowered
  kSystem,      // a system call failed
  kNotFound,    // the program to run was not found (127)
  kCannotExec,  // the program was found but could not be executed (126)
  kUnsupported  // the kernel cannot enforce what was asked
};

struct Error {
  ErrorKind kind = ErrorKind::kSystem;
  std::string message;               // what went wrong, lowercase
  int sys_errno = 0;                 // errno when a system call failed
  std::vector<std::string> context;  // outermost first: "run", "install seccomp filter"

  // Full one-line form: "ctx: ctx: message: strerror".
  std::string str() const;
};

Error make_error(ErrorKind kind, std::string message, int sys_errno = 0);
// An error from a failed system call: "what: strerror(errno)".
Error sys_error(std::string what, int sys_errno);

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Error error) : v_(std::move(error)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const T& value() const& { return std::get<0>(v_); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

  // Adds one layer of context to an error; values pass through.
  Result&& context(std::string what) && {
    if (!ok()) std::get<1>(v_).context.insert(std::get<1>(v_).context.begin(), std::move(what));
    return std::move(*this);
  }

 private:
  std::variant<T, Error> v_;
};

struct Ok {};
using Status = Result<Ok>;
inline Status ok_status() {
  return Ok{};
}

}  // namespace least

// Returns the error of an expression from the enclosing function.
#define LEAST_TRY(expr)                                             \
  do {                                                              \
    auto least_try_r_ = (expr);                                     \
    if (!least_try_r_.ok()) return std::move(least_try_r_).error(); \
  } while (0)
