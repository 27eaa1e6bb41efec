#include "base/error.h"

#include <cstring>

namespace least {

std::string Error::str() const {
  std::string out;
  for (const auto& c : context) {
    out += c;
    out += ": ";
  }
  out += message;
  if (sys_errno != 0) {
    out += ": ";
    out += std::strerror(sys_errno);
  }
  return out;
}

Error make_error(ErrorKind kind, std::string message, int sys_errno) {
  Error e;
  e.kind = kind;
  e.message = std::move(message);
  e.sys_errno = sys_errno;
  return e;
}

Error sys_error(std::string what, int sys_errno) {
  return make_error(ErrorKind::kSystem, std::move(what), sys_errno);
}

}  // namespace least
