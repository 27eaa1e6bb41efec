// The object scanner on small C programs compiled here with gcc -O2, and on
// the system's libc.
#include <elf.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "analyze/object_scanner.h"
#include "analyze/value.h"

namespace least::analyze {
namespace {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "least-scan-XXXXXX").string();
    if (mkdtemp(pattern.data())) path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Compiles `source` into dir/name with gcc -O2 and `flags`; "" on failure.
std::string compile(const TempDir& dir, const std::string& name, const std::string& source,
                    const std::string& flags = "") {
  std::string c = dir.path() + "/" + name + ".c", out = dir.path() + "/" + name;
  std::ofstream(c) << source;
  std::string cmd = "gcc -O2 " + flags + " -o '" + out + "' '" + c + "' 2>'" + out + ".log'";
  if (std::system(cmd.c_str()) != 0) {
    std::ifstream log(out + ".log");
    ADD_FAILURE() << "gcc failed: " << cmd << "\n"
                  << std::string(std::istreambuf_iterator<char>(log), {});
    return "";
  }
  return out;
}

const Function* find(const ObjectSummary& s, const std::string& name) {
  for (const Function& f : s.functions)
    if (f.name == name) return &f;
  return nullptr;
}

const Function* at(const ObjectSummary& s, uint64_t address) {
  for (const Function& f : s.functions)
    if (f.address == address) return &f;
  return nullptr;
}

const Export* exported(const ObjectSummary& s, const std::string& name,
                       const std::string& version = "") {
  for (const Export& e : s.exports)
    if (e.name == name && (version.empty() || e.version == version) && e.default_version) return &e;
  return nullptr;
}

// The number at the one syscall site of function `name` (failing the test
// when there is not exactly one).
Value only_syscall_number(const ObjectSummary& s, const char* name) {
  const Function* f = find(s, name);
  EXPECT_NE(f, nullptr) << name;
  EXPECT_EQ(f ? f->syscalls.size() : 0, 1u) << name;
  return f && f->syscalls.size() == 1 ? f->syscalls[0].number : Value{};
}

Value constants(std::vector<uint64_t> c) {
  Constants k;
  k.assign(c.begin(), c.end());
  return Value{Value::Kind::constants, k, 0};
}

constexpr const char* kSyscalls = R"(
#define SYS(n, a) ({ long r_; __asm__ volatile("syscall" : "=a"(r_) : "a"(n), "D"(a) : "rcx", "r11", "memory"); r_; })
__attribute__((noinline)) long fixed(void) { return SYS(39L, 0L); }
__attribute__((noinline)) long two_paths(int c, long a) {
  long n;
  if (c) { n = 24; __asm__ volatile("" ::: "memory"); } else { n = 39; __asm__ volatile("nop" ::: "memory"); }
  return SYS(n, a);
}
__attribute__((noinline)) long raw(long n) {
  long r;
  __asm__ volatile("syscall" : "=a"(r) : "a"(n) : "rcx", "r11", "memory");
  return r;
}
long volatile gnum = 5;
__attribute__((noinline)) long from_memory(void) { return SYS(gnum, 0L); }
int main(int argc, char** argv) { (void)argv; return fixed() + two_paths(argc, 1) + raw(argc) + from_memory(); }
)";

TEST(AnalyzeScanner, SyscallNumbersFromDataFlow) {
  TempDir dir;
  std::string exe = compile(dir, "syscalls", kSyscalls);
  ASSERT_FALSE(exe.empty());
  auto s = summarize_object(exe);
  ASSERT_TRUE(s.ok()) << s.error().str();
  auto number = [&](const char* name) { return only_syscall_number(*s, name); };
  EXPECT_EQ(number("fixed"), constants({39}));
  EXPECT_EQ(number("two_paths"), constants({24, 39}));
  EXPECT_EQ(number("raw"), argument(0));
  EXPECT_EQ(number("from_memory"), Value{});
  ASSERT_EQ(find(*s, "fixed")->syscalls[0].args.size(), 6u);
  EXPECT_EQ(find(*s, "fixed")->syscalls[0].args[0], constants({0}));

  // Stripped: the functions come from the FDEs, the sites stay the same.
  std::string stripped = dir.path() + "/stripped";
  ASSERT_EQ(std::system(("strip -o '" + stripped + "' '" + exe + "'").c_str()), 0);
  auto t = summarize_object(stripped);
  ASSERT_TRUE(t.ok()) << t.error().str();
  auto sites = [](const ObjectSummary& o) {
    std::map<uint64_t, Value> m;
    for (const Function& f : o.functions)
      for (const SyscallSite& site : f.syscalls) m[site.address] = site.number;
    return m;
  };
  EXPECT_EQ(sites(*t), sites(*s));
  EXPECT_EQ(sites(*t).size(), 4u);
}

constexpr const char* kSocket = R"(
#include <sys/socket.h>
__attribute__((noinline)) int open_socket(void) { return socket(2, 1, 0) + 1; }
int main(void) { return open_socket(); }
)";

void expect_socket_import(const std::string& flags) {
  TempDir dir;
  std::string exe = compile(dir, "socket", kSocket, flags);
  ASSERT_FALSE(exe.empty());
  auto s = summarize_object(exe);
  ASSERT_TRUE(s.ok()) << s.error().str();
  const Function* f = find(*s, "open_socket");
  ASSERT_NE(f, nullptr);
  bool found = false;
  for (const CallSite& c : f->calls) {
    if (!c.import) continue;
    const Import& imp = s->imports.at(*c.import);
    if (imp.name != "socket") continue;
    found = true;
    EXPECT_EQ(imp.version, "GLIBC_2.2.5");
    EXPECT_FALSE(c.local);
    ASSERT_EQ(c.args.size(), 6u);
    EXPECT_EQ(c.args[0], constants({2}));
    EXPECT_EQ(c.args[1], constants({1}));
    EXPECT_EQ(c.args[2], constants({0}));
  }
  EXPECT_TRUE(found) << "no call to socket in open_socket (" << flags << ")";
  EXPECT_FALSE(f->indirect_calls);
}

TEST(AnalyzeScanner, PltCallIsAnImport) {
  expect_socket_import("");
}

TEST(AnalyzeScanner, NoPltCallIsAnImport) {
  expect_socket_import("-fno-plt");
}

constexpr const char* kPointers = R"(
volatile int sink;
__attribute__((noinline)) void target(void) { sink = 1; }
__attribute__((noinline)) void in_table_a(void) { sink = 2; }
__attribute__((noinline)) void in_table_b(void) { sink = 3; }
void (*volatile fp)(void);
void (*table[])(void) = {in_table_a, in_table_b};
__attribute__((noinline)) void former(void) { fp = target; }
__attribute__((noinline)) void caller(void) { fp(); }
int main(int argc, char** argv) { (void)argv; former(); caller(); table[argc & 1](); return 0; }
)";

void expect_pointers(const std::string& flags) {
  TempDir dir;
  std::string exe = compile(dir, "pointers", kPointers, flags);
  ASSERT_FALSE(exe.empty());
  auto s = summarize_object(exe);
  ASSERT_TRUE(s.ok()) << s.error().str();
  const Function* target = find(*s, "target");
  const Function* former = find(*s, "former");
  const Function* caller = find(*s, "caller");
  const Function* a = find(*s, "in_table_a");
  const Function* b = find(*s, "in_table_b");
  ASSERT_TRUE(target && former && caller && a && b);
  EXPECT_EQ(former->takes_address, std::vector<uint64_t>{target->address}) << flags;
  EXPECT_FALSE(former->indirect_calls);
  EXPECT_TRUE(caller->indirect_calls);
  EXPECT_TRUE(find(*s, "main")->indirect_calls);
  const auto& data = s->data_address_taken;
  EXPECT_NE(std::find(data.begin(), data.end(), a->address), data.end()) << flags;
  EXPECT_NE(std::find(data.begin(), data.end(), b->address), data.end()) << flags;
  EXPECT_EQ(std::find(data.begin(), data.end(), target->address), data.end()) << flags;
}

TEST(AnalyzeScanner, FunctionPointersPie) {
  expect_pointers("");
}

TEST(AnalyzeScanner, FunctionPointersNoPie) {
  expect_pointers("-no-pie");
}

constexpr const char* kSwitch = R"(
__attribute__((noinline)) long sw(int k, long a) {
  long n;
  switch (k) {
    case 0: n = 1; a += 3; break;
    case 1: n = 2; a *= 7; break;
    case 2: n = 3; a ^= 9; break;
    case 3: n = 4; a -= 11; break;
    case 4: n = 5; a <<= 2; break;
    case 5: n = 6; a /= 3; break;
    case 6: n = 7; a |= 12; break;
    default: n = 39;
  }
  long r;
  __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a) : "rcx", "r11", "memory");
  return r;
}
int main(int argc, char** argv) { (void)argv; return sw(argc, argc); }
)";

TEST(AnalyzeScanner, JumpTableKeepsEveryPath) {
  TempDir dir;
  std::string exe = compile(dir, "switch", kSwitch);
  ASSERT_FALSE(exe.empty());
  auto s = summarize_object(exe);
  ASSERT_TRUE(s.ok()) << s.error().str();
  const Function* f = find(*s, "sw");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(f->syscalls.size(), 1u);
  // GCC moves the default case to sw.cold, which jumps back to the site:
  // the site is then also the start of a function of its own. Every number
  // must be covered by one of the functions holding the site.
  const uint64_t site = f->syscalls[0].address;
  for (uint64_t c : {1, 2, 3, 4, 5, 6, 7, 39}) {
    bool covered = false;
    for (const Function& g : s->functions)
      for (const SyscallSite& x : g.syscalls)
        if (x.address == site)
          covered = covered || x.number.kind == Value::Kind::unknown ||
                    std::binary_search(x.number.constants.begin(), x.number.constants.end(), c);
    EXPECT_TRUE(covered) << c;
  }
  EXPECT_FALSE(f->indirect_calls);  // a jump table, not an indirect call
}

constexpr const char* kCases = R"(
#define SYS(n) ({ long r_; __asm__ volatile("syscall" : "=a"(r_) : "a"(n) : "rcx", "r11", "memory"); r_; })
__attribute__((noinline)) long cases(int k) {
  long n, r;
  switch (k) {
    case 0: r = SYS(100L); n = 1; break;
    case 1: r = SYS(101L); n = 2; break;
    case 2: r = SYS(102L); n = 3; break;
    case 3: r = SYS(103L); n = 4; break;
    case 4: r = SYS(104L); n = 5; break;
    case 5: r = SYS(105L); n = 6; break;
    default: r = 0; n = 39;
  }
  return r + SYS(n);
}
int main(int argc, char** argv) { (void)argv; return cases(argc); }
)";

// Each case's site has its own number, the site after the switch the join:
// the table's targets are the jump's only successors.
void expect_cases(const std::string& flags) {
  TempDir dir;
  std::string exe = compile(dir, "cases", kCases, "-fno-reorder-blocks-and-partition " + flags);
  ASSERT_FALSE(exe.empty());
  auto s = summarize_object(exe);
  ASSERT_TRUE(s.ok()) << s.error().str();
  const Function* f = find(*s, "cases");
  ASSERT_NE(f, nullptr);
  std::multiset<Value> numbers;
  for (const SyscallSite& site : f->syscalls) numbers.insert(site.number);
  std::multiset<Value> expected{constants({1, 2, 3, 4, 5, 6, 39})};
  for (uint64_t n = 100; n <= 105; ++n) expected.insert(constants({n}));
  EXPECT_EQ(numbers, expected) << flags;
  EXPECT_FALSE(f->indirect_calls) << flags;
}

TEST(AnalyzeScanner, JumpTableTargetsPic) {
  expect_cases("");
}

TEST(AnalyzeScanner, JumpTableTargetsAbsolute) {
  expect_cases("-fno-pie -no-pie");  // jmp *T(,%rdi,8)
}

// Written in assembly, so that the register kept across the call is
// certain: GCC's -fipa-ra does this (ld.so keeps the futex number in r9
// around a local call), but only under register pressure.
constexpr const char* kCallerSaved = R"(
__asm__(
  ".text\n"
  // Writes rax and rdx only, and calls one that writes r8.
  ".type leaf_r8, @function\n"
  "leaf_r8: mov $1, %r8d\n ret\n"
  ".size leaf_r8, .-leaf_r8\n"
  ".type quiet, @function\n"
  "quiet: mov (%rdi), %eax\n xor %edx, %edx\n call leaf_r8\n ret\n"
  ".size quiet, .-quiet\n"
  // Writes r9 through a tail jump.
  ".type leaf_r9, @function\n"
  "leaf_r9: mov $1, %r9d\n ret\n"
  ".size leaf_r9, .-leaf_r9\n"
  ".type noisy, @function\n"
  "noisy: xor %eax, %eax\n jmp leaf_r9\n"
  ".size noisy, .-noisy\n"
  // Writes r9 and never returns.
  ".type dies, @function\n"
  "dies: mov $2, %r9d\n hlt\n"
  ".size dies, .-dies\n"
  ".globl keeps\n.type keeps, @function\n"
  "keeps: mov $202, %r9d\n call quiet\n mov %r9d, %eax\n syscall\n ret\n"
  ".size keeps, .-keeps\n"
  ".globl loses\n.type loses, @function\n"
  "loses: mov $202, %r9d\n call noisy\n mov %r9d, %eax\n syscall\n ret\n"
  ".size loses, .-loses\n"
  ".globl survives\n.type survives, @function\n"
  "survives: mov $202, %r9d\n test %rdi, %rdi\n je 1f\n call dies\n"
  "1: mov %r9d, %eax\n syscall\n ret\n"
  ".size survives, .-survives\n");
long keeps(int*), loses(int*), survives(long);
int main(int argc, char** argv) { return keeps(&argc) + loses(&argc) + survives((long)argv); }
)";

TEST(AnalyzeScanner, LocalCallClobbersOnlyWhatTheCalleeWrites) {
  TempDir dir;
  std::string exe = compile(dir, "caller_saved", kCallerSaved);
  ASSERT_FALSE(exe.empty());
  auto s = summarize_object(exe);
  ASSERT_TRUE(s.ok()) << s.error().str();
  auto number = [&](const char* name) { return only_syscall_number(*s, name); };
  EXPECT_EQ(number("keeps"), constants({202}));     // quiet and leaf_r8 leave r9 alone
  EXPECT_EQ(number("loses"), Value{});              // noisy tail-jumps to a writer of r9
  EXPECT_EQ(number("survives"), constants({202}));  // dies does not return
}

TEST(AnalyzeScanner, LdSo) {
  const std::string path = "/lib64/ld-linux-x86-64.so.2";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "no " << path;
  auto s = summarize_object(path);
  ASSERT_TRUE(s.ok()) << s.error().str();
  std::map<uint64_t, Value> sites;
  for (const Function& f : s->functions)
    for (const SyscallSite& site : f.syscalls) sites[site.address] = site.number;
  // The Debian 12 build: futex with the number kept in r9 across a local
  // call, and arch_prctl and execve in dl_main, a function with jump tables.
  if (!sites.contains(0x10b7a) || !sites.contains(0x1ded4) || !sites.contains(0x1e9f6))
    GTEST_SKIP() << "another build of " << path;
  EXPECT_EQ(sites[0x10b7a], constants({202}));
  EXPECT_EQ(sites[0x1ded4], constants({158}));
  EXPECT_EQ(sites[0x1e9f6], constants({59}));
}

TEST(AnalyzeScanner, Libc) {
  const std::string path = "/lib/x86_64-linux-gnu/libc.so.6";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "no " << path;
  auto s = summarize_object(path);
  ASSERT_TRUE(s.ok()) << s.error().str();
  auto site_numbers = [&](const char* name) {
    const Export* e = exported(*s, name);
    EXPECT_NE(e, nullptr) << name;
    const Function* f = e ? at(*s, e->address) : nullptr;
    EXPECT_NE(f, nullptr) << name;
    std::vector<Value> numbers;
    if (f)
      for (const SyscallSite& site : f->syscalls) numbers.push_back(site.number);
    return numbers;
  };
  const Export* socket = exported(*s, "socket", "GLIBC_2.2.5");
  ASSERT_NE(socket, nullptr);
  EXPECT_TRUE(socket->function);
  EXPECT_EQ(site_numbers("socket"), std::vector<Value>{constants({41})});
  EXPECT_EQ(site_numbers("getpid"), std::vector<Value>{constants({39})});
  auto syscall_numbers = site_numbers("syscall");
  EXPECT_NE(std::find(syscall_numbers.begin(), syscall_numbers.end(), argument(0)),
            syscall_numbers.end());

  const Export* memcpy = exported(*s, "memcpy");
  ASSERT_NE(memcpy, nullptr);
  EXPECT_TRUE(memcpy->ifunc);
  const Function* resolver = at(*s, memcpy->address);
  ASSERT_NE(resolver, nullptr);
  EXPECT_FALSE(resolver->takes_address.empty());
  EXPECT_FALSE(s->roots.empty());
  EXPECT_EQ(s->build_id.size(), 40u);
  EXPECT_EQ(s->soname, "libc.so.6");
  EXPECT_GT(s->functions.size(), 1000u);
  for (size_t i = 1; i < s->functions.size(); ++i)
    ASSERT_LT(s->functions[i - 1].address, s->functions[i].address);
}

// The flow runs on every core and its results are merged in address order:
// the summary must not depend on how the threads ran.
TEST(AnalyzeScanner, SameSummaryEveryTime) {
  const std::string path = "/lib/x86_64-linux-gnu/libc.so.6";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "no " << path;
  auto first = summarize_object(path);
  ASSERT_TRUE(first.ok()) << first.error().str();
  for (int run = 0; run < 3; ++run) {
    auto again = summarize_object(path);
    ASSERT_TRUE(again.ok()) << again.error().str();
    EXPECT_TRUE(*again == *first) << "run " << run;
  }
}

TEST(AnalyzeScanner, RejectsOtherFiles) {
  TempDir dir;
  std::string text = dir.path() + "/text";
  std::ofstream(text) << "not an ELF object\n";
  auto s = summarize_object(text);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().str().find(text), std::string::npos) << s.error().str();

  // A minimal ELFCLASS32 i386 header.
  std::string elf32 = dir.path() + "/elf32";
  Elf32_Ehdr eh{};
  std::copy_n(ELFMAG, SELFMAG, eh.e_ident);
  eh.e_ident[EI_CLASS] = ELFCLASS32;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_type = ET_EXEC;
  eh.e_machine = EM_386;
  eh.e_version = EV_CURRENT;
  eh.e_ehsize = sizeof eh;
  std::ofstream(elf32, std::ios::binary).write(reinterpret_cast<const char*>(&eh), sizeof eh);
  auto t = summarize_object(elf32);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().str().find(elf32), std::string::npos) << t.error().str();
  EXPECT_NE(t.error().str().find("x86-64"), std::string::npos) << t.error().str();

  auto missing = summarize_object(dir.path() + "/missing");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().str().find("missing"), std::string::npos);
}

}  // namespace
}  // namespace least::analyze
