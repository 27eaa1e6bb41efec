#include "policy/syscall_condition.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include <array>
#include <cctype>
#include <optional>

#include "base/text.h"

namespace least::policy {

namespace {

// Argument names from the man pages, with the prefix of the constants that
// argument takes (for parsing any constant is accepted anywhere; the prefix
// only chooses how a value is rendered).
struct ArgName {
  const char* name;
  const char* kind;  // "AF_", or "" when numbers read best
};

struct SyscallArgs {
  const char* syscall;
  std::array<ArgName, 6> args;
};

constexpr SyscallArgs kArgs[] = {
    {"socket", {{{"domain", "AF_"}, {"type", "SOCK_"}, {"protocol", ""}}}},
    {"socketpair", {{{"domain", "AF_"}, {"type", "SOCK_"}, {"protocol", ""}, {"sv", ""}}}},
    {"personality", {{{"persona", "PER_"}}}},
    {"clone", {{{"flags", "CLONE_"}, {"stack", ""}, {"parent_tid", ""}, {"child_tid", ""}}}},
    {"unshare", {{{"flags", "CLONE_"}}}},
    {"setns", {{{"fd", ""}, {"nstype", "CLONE_"}}}},
    {"ioctl", {{{"fd", ""}, {"request", ""}, {"argp", ""}}}},
    {"fcntl", {{{"fd", ""}, {"cmd", "F_"}, {"arg", ""}}}},
    {"prctl", {{{"option", "PR_"}, {"arg2", ""}, {"arg3", ""}, {"arg4", ""}, {"arg5", ""}}}},
    {"mmap",
     {{{"addr", ""},
       {"length", ""},
       {"prot", "PROT_"},
       {"flags", "MAP_"},
       {"fd", ""},
       {"offset", ""}}}},
    {"mprotect", {{{"addr", ""}, {"length", ""}, {"prot", "PROT_"}}}},
    {"pkey_mprotect", {{{"addr", ""}, {"length", ""}, {"prot", "PROT_"}, {"pkey", ""}}}},
    {"open", {{{"pathname", ""}, {"flags", "O_"}, {"mode", ""}}}},
    {"openat", {{{"dirfd", ""}, {"pathname", ""}, {"flags", "O_"}, {"mode", ""}}}},
    {"kill", {{{"pid", ""}, {"sig", ""}}}},
    {"tgkill", {{{"tgid", ""}, {"tid", ""}, {"sig", ""}}}},
    {"setsockopt", {{{"sockfd", ""}, {"level", ""}, {"optname", ""}}}},
    {"getsockopt", {{{"sockfd", ""}, {"level", ""}, {"optname", ""}}}},
    {"madvise", {{{"addr", ""}, {"length", ""}, {"advice", "MADV_"}}}},
    {"ptrace", {{{"request", "PTRACE_"}, {"pid", ""}}}},
    {"bpf", {{{"cmd", ""}, {"attr", ""}, {"size", ""}}}},
    {"clone3", {{{"cl_args", ""}, {"size", ""}}}},
};

const SyscallArgs* args_of(std::string_view syscall) {
  for (const auto& s : kArgs)
    if (syscall == s.syscall) return &s;
  return nullptr;
}

struct Constant {
  const char* name;
  uint64_t value;
  const char* kind;  // "AF_": the argument kind it renders for
  bool flag;         // one bit among others, combined with |
};
#define LEAST_CONST(kind, x)                    \
  Constant {                                    \
#x, static_cast < uint64_t>(x), kind, false \
  }
#define LEAST_FLAG(kind, x)                    \
  Constant {                                   \
#x, static_cast < uint64_t>(x), kind, true \
  }

constexpr Constant kConstants[] = {
    LEAST_CONST("AF_", AF_UNSPEC),
    LEAST_CONST("AF_", AF_UNIX),
    LEAST_CONST("AF_", AF_INET),
    LEAST_CONST("AF_", AF_AX25),
    LEAST_CONST("AF_", AF_IPX),
    LEAST_CONST("AF_", AF_APPLETALK),
    LEAST_CONST("AF_", AF_NETROM),
    LEAST_CONST("AF_", AF_BRIDGE),
    LEAST_CONST("AF_", AF_X25),
    LEAST_CONST("AF_", AF_INET6),
    LEAST_CONST("AF_", AF_ROSE),
    LEAST_CONST("AF_", AF_KEY),
    LEAST_CONST("AF_", AF_NETLINK),
    LEAST_CONST("AF_", AF_PACKET),
    LEAST_CONST("AF_", AF_RDS),
    LEAST_CONST("AF_", AF_PPPOX),
    LEAST_CONST("AF_", AF_LLC),
    LEAST_CONST("AF_", AF_IB),
    LEAST_CONST("AF_", AF_MPLS),
    LEAST_CONST("AF_", AF_CAN),
    LEAST_CONST("AF_", AF_TIPC),
    LEAST_CONST("AF_", AF_BLUETOOTH),
    LEAST_CONST("AF_", AF_ALG),
    LEAST_CONST("AF_", AF_VSOCK),
    LEAST_CONST("AF_", AF_KCM),
    LEAST_CONST("AF_", AF_QIPCRTR),
    LEAST_CONST("AF_", AF_SMC),
    LEAST_CONST("AF_", AF_XDP),
    LEAST_CONST("SOCK_", SOCK_STREAM),
    LEAST_CONST("SOCK_", SOCK_DGRAM),
    LEAST_CONST("SOCK_", SOCK_RAW),
    LEAST_CONST("SOCK_", SOCK_RDM),
    LEAST_CONST("SOCK_", SOCK_SEQPACKET),
    LEAST_CONST("SOCK_", SOCK_PACKET),
    LEAST_FLAG("SOCK_", SOCK_NONBLOCK),
    LEAST_FLAG("SOCK_", SOCK_CLOEXEC),
    LEAST_FLAG("CLONE_", CLONE_VM),
    LEAST_FLAG("CLONE_", CLONE_FS),
    LEAST_FLAG("CLONE_", CLONE_FILES),
    LEAST_FLAG("CLONE_", CLONE_SIGHAND),
    LEAST_FLAG("CLONE_", CLONE_PIDFD),
    LEAST_FLAG("CLONE_", CLONE_PTRACE),
    LEAST_FLAG("CLONE_", CLONE_VFORK),
    LEAST_FLAG("CLONE_", CLONE_PARENT),
    LEAST_FLAG("CLONE_", CLONE_THREAD),
    LEAST_FLAG("CLONE_", CLONE_NEWNS),
    LEAST_FLAG("CLONE_", CLONE_SYSVSEM),
    LEAST_FLAG("CLONE_", CLONE_SETTLS),
    LEAST_FLAG("CLONE_", CLONE_PARENT_SETTID),
    LEAST_FLAG("CLONE_", CLONE_CHILD_CLEARTID),
    LEAST_FLAG("CLONE_", CLONE_UNTRACED),
    LEAST_FLAG("CLONE_", CLONE_CHILD_SETTID),
    LEAST_FLAG("CLONE_", CLONE_NEWCGROUP),
    LEAST_FLAG("CLONE_", CLONE_NEWUTS),
    LEAST_FLAG("CLONE_", CLONE_NEWIPC),
    LEAST_FLAG("CLONE_", CLONE_NEWUSER),
    LEAST_FLAG("CLONE_", CLONE_NEWPID),
    LEAST_FLAG("CLONE_", CLONE_NEWNET),
    LEAST_FLAG("CLONE_", CLONE_IO),
    LEAST_CONST("PER_", PER_LINUX),
    LEAST_CONST("PER_", PER_LINUX32),
    LEAST_FLAG("PER_", UNAME26),
    LEAST_FLAG("PER_", ADDR_NO_RANDOMIZE),
    LEAST_FLAG("PER_", READ_IMPLIES_EXEC),
    LEAST_FLAG("PER_", ADDR_LIMIT_32BIT),
    LEAST_FLAG("PER_", ADDR_COMPAT_LAYOUT),
    LEAST_FLAG("PER_", MMAP_PAGE_ZERO),
    LEAST_CONST("PROT_", PROT_NONE),
    LEAST_FLAG("PROT_", PROT_READ),
    LEAST_FLAG("PROT_", PROT_WRITE),
    LEAST_FLAG("PROT_", PROT_EXEC),
    LEAST_FLAG("MAP_", MAP_SHARED),
    LEAST_FLAG("MAP_", MAP_PRIVATE),
    LEAST_FLAG("MAP_", MAP_FIXED),
    LEAST_FLAG("MAP_", MAP_ANONYMOUS),
    LEAST_FLAG("MAP_", MAP_NORESERVE),
    LEAST_FLAG("MAP_", MAP_POPULATE),
    LEAST_FLAG("MAP_", MAP_STACK),
    LEAST_CONST("O_", O_RDONLY),
    LEAST_CONST("O_", O_WRONLY),
    LEAST_CONST("O_", O_RDWR),
    LEAST_FLAG("O_", O_CREAT),
    LEAST_FLAG("O_", O_EXCL),
    LEAST_FLAG("O_", O_TRUNC),
    LEAST_FLAG("O_", O_APPEND),
    LEAST_FLAG("O_", O_NONBLOCK),
    LEAST_FLAG("O_", O_DIRECTORY),
    LEAST_FLAG("O_", O_NOFOLLOW),
    LEAST_FLAG("O_", O_CLOEXEC),
    LEAST_CONST("F_", F_DUPFD),
    LEAST_CONST("F_", F_GETFD),
    LEAST_CONST("F_", F_SETFD),
    LEAST_CONST("F_", F_GETFL),
    LEAST_CONST("F_", F_SETFL),
    LEAST_CONST("F_", F_GETLK),
    LEAST_CONST("F_", F_SETLK),
    LEAST_CONST("F_", F_SETLKW),
    LEAST_CONST("F_", F_DUPFD_CLOEXEC),
    LEAST_CONST("PR_", PR_SET_NAME),
    LEAST_CONST("PR_", PR_GET_NAME),
    LEAST_CONST("PR_", PR_SET_NO_NEW_PRIVS),
    LEAST_CONST("PR_", PR_SET_SECCOMP),
    LEAST_CONST("PR_", PR_SET_DUMPABLE),
    LEAST_CONST("PR_", PR_CAPBSET_DROP),
    LEAST_CONST("PR_", PR_SET_PDEATHSIG),
    LEAST_CONST("MADV_", MADV_DONTNEED),
    LEAST_CONST("MADV_", MADV_FREE),
    LEAST_CONST("MADV_", MADV_DONTFORK),
};

#undef LEAST_CONST
#undef LEAST_FLAG

std::optional<uint64_t> constant(std::string_view name) {
  for (const auto& c : kConstants)
    if (name == c.name) return c.value;
  return std::nullopt;
}

const char* op_text(Compare op) {
  switch (op) {
    case Compare::kMaskedEq:
      return "==";
    case Compare::kNe:
      return "!=";
    case Compare::kLt:
      return "<";
    case Compare::kLe:
      return "<=";
    case Compare::kGt:
      return ">";
    case Compare::kGe:
      return ">=";
  }
  return "?";
}

Error bad(std::string_view syscall, std::string_view text, std::string message) {
  return make_error(ErrorKind::kUsage,
                    fmt::format("condition \"{}\" on {}: {}", text, syscall, message));
}

class ConditionParser {
 public:
  ConditionParser(std::string_view syscall, std::string_view text)
      : syscall_(syscall), text_(text) {}

  Result<std::vector<ArgCheck>> parse() {
    std::vector<ArgCheck> out;
    skip_space();
    if (at_end()) return error("it is empty; write for example \"arg0 == 1\"");
    while (true) {
      auto check = one_check();
      if (!check) return std::move(check).error();
      out.push_back(*std::move(check));
      skip_space();
      if (at_end()) break;
      if (!take("&&")) {
        if (peek() == '|' && text_.substr(pos_, 2) == "||")
          return error(
              "\"||\" is not supported: give alternatives as a list, when = [\"...\", \"...\"]");
        return error(fmt::format("expected \"&&\" or the end at \"{}\"", text_.substr(pos_)));
      }
    }
    if (out.size() > 6 * 4) return error("too many checks in one condition");
    return out;
  }

 private:
  Result<ArgCheck> one_check() {
    skip_space();
    std::string word = identifier();
    if (word.empty())
      return error(fmt::format("expected an argument (arg0..arg5{}) at \"{}\"", named_hint(),
                               text_.substr(pos_)));
    auto index = argument(word);
    if (!index) return std::move(index).error();
    ArgCheck c;
    c.arg = static_cast<uint8_t>(*index);
    skip_space();
    bool masked = false;
    if (peek() == '&' && text_.substr(pos_, 2) != "&&") {
      ++pos_;
      auto mask = value_expr();
      if (!mask) return std::move(mask).error();
      c.mask = *mask;
      masked = true;
      skip_space();
    }
    auto op = comparison();
    if (!op) return std::move(op).error();
    if (masked && *op != Compare::kMaskedEq)
      return error("a masked check (ARG & MASK) can only be compared with ==");
    auto value = value_expr();
    if (!value) return std::move(value).error();
    c.op = *op;
    c.value = *value;
    if (c.op == Compare::kMaskedEq) {
      if (!masked) c.mask = ~uint64_t{0};
      if (c.value & ~c.mask)
        return error(fmt::format("{:#x} has bits outside the mask {:#x}: it never matches", c.value,
                                 c.mask));
    }
    c.text = render_check(syscall_, c);
    return c;
  }

  Result<int> argument(const std::string& word) {
    if (word.size() == 4 && word.rfind("arg", 0) == 0 && word[3] >= '0' && word[3] <= '5')
      return word[3] - '0';
    if (const SyscallArgs* s = args_of(syscall_))
      for (int i = 0; i < 6; ++i)
        if (s->args[i].name && word == s->args[i].name) return i;
    std::vector<std::string> names = argument_names(syscall_);
    std::vector<std::string_view> candidates;
    for (const auto& n : names)
      if (!n.empty()) candidates.push_back(n);
    auto hint = closest_match(word, candidates);
    return error(fmt::format("unknown argument \"{}\"{}", word,
                             hint ? fmt::format(" (did you mean \"{}\"?)", *hint)
                                  : fmt::format("; write arg0..arg5{}", named_hint())));
  }

  std::string named_hint() const {
    std::vector<std::string> named;
    for (const auto& n : argument_names(syscall_))
      if (!n.empty()) named.push_back(n);
    if (named.empty()) return "";
    return fmt::format(" or {}", join(named, ", "));
  }

  Result<Compare> comparison() {
    static constexpr std::pair<std::string_view, Compare> ops[] = {
        {"==", Compare::kMaskedEq}, {"!=", Compare::kNe}, {"<=", Compare::kLe},
        {">=", Compare::kGe},       {"<", Compare::kLt},  {">", Compare::kGt}};
    for (const auto& [t, op] : ops)
      if (take(t)) return op;
    if (take("=")) return error("\"=\" is not a comparison; write \"==\"");
    return error(
        fmt::format("expected a comparison (== != < <= > >=) at \"{}\"", text_.substr(pos_)));
  }

  // A number or constant, or several joined with "|".
  Result<uint64_t> value_expr() {
    uint64_t out = 0;
    while (true) {
      auto v = atom();
      if (!v) return std::move(v).error();
      out |= *v;
      skip_space();
      if (peek() == '|' && text_.substr(pos_, 2) != "||") {
        ++pos_;
        continue;
      }
      return out;
    }
  }

  Result<uint64_t> atom() {
    skip_space();
    bool negative = take("-");
    if (!at_end() && std::isdigit(static_cast<unsigned char>(peek()))) {
      size_t start = pos_;
      int base = 10;
      if (text_.substr(pos_, 2) == "0x" || text_.substr(pos_, 2) == "0X") {
        base = 16;
        pos_ += 2;
      }
      uint64_t v = 0;
      size_t digits = 0;
      while (!at_end()) {
        int d = digit(peek(), base);
        if (d < 0) break;
        if (v > (~uint64_t{0} - static_cast<uint64_t>(d)) / static_cast<uint64_t>(base))
          return error(
              fmt::format("\"{}\" does not fit in 64 bits", text_.substr(start, pos_ - start + 1)));
        v = v * static_cast<uint64_t>(base) + static_cast<uint64_t>(d);
        ++pos_;
        ++digits;
      }
      if (digits == 0) return error("\"0x\" needs hex digits");
      if (!at_end() && (std::isalnum(static_cast<unsigned char>(peek())) || peek() == '_'))
        return error(fmt::format("\"{}\" is not a number", text_.substr(start)));
      return negative ? ~v + 1 : v;
    }
    if (negative) return error("\"-\" must be followed by a number");
    std::string word = identifier();
    if (word.empty())
      return error(fmt::format("expected a number or a constant at \"{}\"", text_.substr(pos_)));
    if (auto v = constant(word)) return *v;
    std::vector<std::string_view> names;
    for (const auto& c : kConstants) names.push_back(c.name);
    auto hint = closest_match(word, names);
    return error(fmt::format("unknown constant \"{}\"{}", word,
                             hint ? fmt::format(" (did you mean {}?)", *hint)
                                  : std::string(" (write the number instead)")));
  }

  static int digit(char c, int base) {
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    return d < base ? d : -1;
  }

  std::string identifier() {
    skip_space();
    size_t start = pos_;
    if (at_end() || !(std::isalpha(static_cast<unsigned char>(peek())) || peek() == '_')) return {};
    while (!at_end() && (std::isalnum(static_cast<unsigned char>(peek())) || peek() == '_')) ++pos_;
    return std::string(text_.substr(start, pos_ - start));
  }

  bool take(std::string_view token) {
    skip_space();
    if (text_.substr(pos_, token.size()) != token) return false;
    pos_ += token.size();
    return true;
  }
  void skip_space() {
    while (!at_end() && std::isspace(static_cast<unsigned char>(peek()))) ++pos_;
  }
  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return at_end() ? '\0' : text_[pos_]; }
  Error error(std::string message) const { return bad(syscall_, text_, std::move(message)); }

  std::string_view syscall_;
  std::string_view text_;
  size_t pos_ = 0;
};

// `value` in the constants of `kind`: one name, or flags joined with "|";
// nullopt when it cannot be said exactly.
std::optional<std::string> symbolic(uint64_t value, std::string_view kind) {
  if (kind.empty()) return std::nullopt;
  for (const auto& c : kConstants)
    if (!c.flag && c.value == value && kind == c.kind) return c.name;
  if (value == 0) return std::nullopt;
  std::vector<std::string> parts;
  uint64_t rest = value;
  for (const auto& c : kConstants) {
    if (!c.flag || kind != c.kind || (c.value & rest) != c.value || c.value == 0) continue;
    parts.emplace_back(c.name);
    rest &= ~c.value;
  }
  if (rest != 0) {
    // A base value (PER_LINUX32, SOCK_DGRAM) plus flags.
    for (const auto& c : kConstants)
      if (!c.flag && c.value == rest && kind == c.kind) {
        parts.insert(parts.begin(), c.name);
        rest = 0;
        break;
      }
  }
  if (rest != 0) return std::nullopt;
  return join(parts, "|");
}

std::string number(uint64_t v) {
  return v < 4096 ? std::to_string(v) : fmt::format("{:#x}", v);
}

}  // namespace

Result<std::vector<ArgCheck>> parse_condition(std::string_view syscall, std::string_view text) {
  return ConditionParser(syscall, text).parse();
}

std::string render_check(std::string_view syscall, const ArgCheck& check) {
  std::string arg = fmt::format("arg{}", check.arg);
  std::string_view kind;
  if (const SyscallArgs* s = args_of(syscall); s && check.arg < 6 && s->args[check.arg].name) {
    arg = s->args[check.arg].name;
    kind = s->args[check.arg].kind;
  }
  if (check.op == Compare::kMaskedEq && check.mask != ~uint64_t{0}) {
    std::string mask = symbolic(check.mask, kind).value_or(fmt::format("{:#x}", check.mask));
    std::string value =
        check.value == 0 ? "0" : symbolic(check.value, kind).value_or(number(check.value));
    return fmt::format("{} & {} == {}", arg, mask, value);
  }
  return fmt::format("{} {} {}", arg, op_text(check.op),
                     symbolic(check.value, kind).value_or(number(check.value)));
}

bool check_holds(const ArgCheck& check, uint64_t arg) {
  switch (check.op) {
    case Compare::kMaskedEq:
      return (arg & check.mask) == check.value;
    case Compare::kNe:
      return arg != check.value;
    case Compare::kLt:
      return arg < check.value;
    case Compare::kLe:
      return arg <= check.value;
    case Compare::kGt:
      return arg > check.value;
    case Compare::kGe:
      return arg >= check.value;
  }
  return false;
}

std::vector<std::string> argument_names(std::string_view syscall) {
  std::vector<std::string> out;
  if (const SyscallArgs* s = args_of(syscall))
    for (const auto& a : s->args) out.push_back(a.name ? a.name : "");
  return out;
}

namespace {
constexpr std::pair<Compare, const char*> kScmpNames[] = {
    {Compare::kMaskedEq, "SCMP_CMP_MASKED_EQ"},
    {Compare::kNe, "SCMP_CMP_NE"},
    {Compare::kLt, "SCMP_CMP_LT"},
    {Compare::kLe, "SCMP_CMP_LE"},
    {Compare::kGt, "SCMP_CMP_GT"},
    {Compare::kGe, "SCMP_CMP_GE"},
};
}  // namespace

const char* scmp_name(Compare op) {
  for (const auto& [c, name] : kScmpNames)
    if (c == op) return name;
  return "SCMP_CMP_MASKED_EQ";
}

std::optional<Compare> compare_of_scmp_name(std::string_view name) {
  for (const auto& [c, n] : kScmpNames)
    if (name == n) return c;
  return std::nullopt;
}

}  // namespace least::policy
