// What one ELF object (executable, shared library or the dynamic loader) can
// do, as far as `least analyze` needs to know: its functions, the calls
// between them, the calls out of the object through imports, the syscall
// sites with their numbers, and every function whose address is taken.
//
// A summary depends only on the object's bytes, never on which program loads
// it, so it is cached by build-id (analyze/summary_cache.h) and linked into a
// whole-program call graph per program (analyze/program_graph.h).
//
// Soundness first: whatever the scanner cannot pin down is said so
// (Value::Kind::unknown, Function::indirect_jumps, ...), never dropped.
#pragma once

#include <algorithm>
#include <compare>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace least::analyze {

// The constants of a Value: one kept inline, more (at most 8) in a heap
// block. There are millions of Values in a large program's summaries and
// most hold none or one constant: eight inline made each Value 88 bytes, and
// the pages they filled were most of a warm analysis' time (half of it in
// the kernel, faulting them in). 16 bytes, and a Value 24.
class Constants {
 public:
  static constexpr size_t kCapacity = 8;
  Constants() = default;
  Constants(std::initializer_list<uint64_t> list) {
    for (uint64_t c : list) push_back(c);
  }
  Constants(const Constants& o) { assign(o.begin(), o.end()); }
  Constants(Constants&& o) noexcept : u_(o.u_), n_(std::exchange(o.n_, uint8_t{0})) {}
  Constants& operator=(const Constants& o) {
    if (this != &o) assign(o.begin(), o.end());
    return *this;
  }
  Constants& operator=(Constants&& o) noexcept {
    if (this != &o) {
      release();
      u_ = o.u_;
      n_ = std::exchange(o.n_, uint8_t{0});
    }
    return *this;
  }
  ~Constants() { release(); }
  // Beyond kCapacity values are dropped: the data flow makes such a value
  // unknown before it gets here.
  void push_back(uint64_t c) {
    if (n_ >= kCapacity) return;
    if (n_ == 0) {
      u_.one = c;
    } else {
      if (n_ == 1) spill(u_.one);
      u_.many[n_] = c;
    }
    ++n_;
  }
  void resize(size_t n) {
    const uint8_t to = static_cast<uint8_t>(n < kCapacity ? n : kCapacity);
    if (to > 1) {
      if (n_ <= 1) spill(n_ == 1 ? u_.one : 0);
      for (uint8_t k = n_ > 1 ? n_ : 1; k < to; ++k) u_.many[k] = 0;
      n_ = to;
      return;
    }
    const uint64_t first = n_ == 0 ? 0 : *begin();
    release();
    if (to == 1) u_.one = first;
    n_ = to;
  }
  template <class It>
  void assign(It first, It last) {
    release();
    for (; first != last; ++first) push_back(*first);
  }
  size_t size() const { return n_; }
  bool empty() const { return n_ == 0; }
  uint64_t operator[](size_t i) const { return begin()[i]; }
  const uint64_t* begin() const { return n_ <= 1 ? &u_.one : u_.many; }
  const uint64_t* end() const { return begin() + n_; }
  uint64_t* begin() { return n_ <= 1 ? &u_.one : u_.many; }
  uint64_t* end() { return begin() + n_; }
  friend bool operator==(const Constants& a, const Constants& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
  }
  friend auto operator<=>(const Constants& a, const Constants& b) {
    return std::lexicographical_compare_three_way(a.begin(), a.end(), b.begin(), b.end());
  }

 private:
  // From one inline constant to a heap block of kCapacity: the block exists
  // exactly while n_ > 1.
  void spill(uint64_t first) {
    uint64_t* block = std::allocator<uint64_t>().allocate(kCapacity);
    block[0] = first;
    u_.many = block;
  }
  void release() {
    if (n_ > 1) std::allocator<uint64_t>().deallocate(u_.many, kCapacity);
    n_ = 0;
  }
  union {
    uint64_t one;  // when n_ == 1
    uint64_t* many;
  } u_{};
  uint8_t n_ = 0;
};

// The value of a register at one instruction, from data flow over the
// function's control-flow graph.
struct Value {
  enum class Kind : uint8_t {
    unknown,    // not the same constant on every path
    constants,  // one of `constants` on every path (at most 8 kept)
    argument,   // the function's own integer argument `argument` (0 = rdi,
                // 1 = rsi, 2 = rdx, 3 = rcx, 4 = r8, 5 = r9), unchanged
  };
  Kind kind = Kind::unknown;
  // `argument` goes in the tail of `constants`: 24 bytes, not 32.
  [[no_unique_address]] Constants constants;  // sorted, unique; for Kind::constants
  uint8_t argument = 0;                       // for Kind::argument
  auto operator<=>(const Value&) const = default;
};

// A `syscall` instruction (or `int 0x80`, reported with number unknown).
struct SyscallSite {
  uint64_t address = 0;
  Value number;  // rax at the instruction
  // rdi, rsi, rdx, r10, r8, r9 at the instruction: the catalog checks socket
  // families, clone flags, PROT_EXEC, ... where they are constant.
  std::vector<Value> args;  // size 6, or empty when all six are unknown
  bool operator==(const SyscallSite&) const = default;
};

// A call (or tail jump) from a function to a function of this object or to
// an import, with the integer argument registers at the call.
struct CallSite {
  uint64_t address = 0;  // of the call/jmp instruction
  // Exactly one target: `local` is a function start in this object, or
  // `import` indexes ObjectSummary::imports (a PLT stub, a GOT slot, ...).
  std::optional<uint64_t> local;
  std::optional<uint32_t> import;
  // rdi, rsi, rdx, rcx, r8, r9 at the call; size 6, or empty when all six
  // are unknown (most calls).
  std::vector<Value> args;
  bool operator==(const CallSite&) const = default;
};

struct Function {
  uint64_t address = 0;  // virtual address in the object (unrelocated)
  uint64_t size = 0;     // 0 when no symbol or FDE says
  std::string name;      // symbol name, "" when only an FDE or a call found it
  std::vector<CallSite> calls;
  std::vector<SyscallSite> syscalls;
  // Function starts in this object whose address this function's code forms
  // (lea/mov of a constant address): possible targets of indirect calls once
  // this function runs.
  std::vector<uint64_t> takes_address;
  // Imports whose address the code loads (mov foo@GOTPCREL(%rip), ...)
  // rather than calls: indexes into ObjectSummary::imports.
  std::vector<uint32_t> takes_import;
  // A call or jump through a register or memory that is not an import slot
  // nor a jump table inside the function: it may reach any address-taken
  // function.
  bool indirect_calls = false;
  bool operator==(const Function&) const = default;
};

// A symbol this object needs from another object (or from itself, for
// interposable calls through its own PLT).
struct Import {
  std::string name;
  std::string version;  // "GLIBC_2.34", "" when unversioned
  bool weak = false;
  auto operator<=>(const Import&) const = default;
};

struct Export {
  std::string name;
  std::string version;          // "" when unversioned
  bool default_version = true;  // foo@@V (true) or foo@V (hidden, false)
  uint64_t address = 0;
  bool ifunc = false;    // address is the resolver; its targets are what it
                         // forms (its Function::takes_address)
  bool function = true;  // STT_FUNC/STT_GNU_IFUNC, else data
  bool operator==(const Export&) const = default;
};

struct ObjectSummary {
  std::string build_id;  // hex, "" when the object has none (not cached)
  std::string soname;    // DT_SONAME, "" for executables
  uint64_t entry = 0;    // e_entry, 0 for none
  // Functions run without a call from the code: init/fini arrays, DT_INIT,
  // DT_FINI, preinit array; IRELATIVE resolvers.
  std::vector<uint64_t> roots;
  std::vector<Function> functions;  // sorted by address, unique
  std::vector<Import> imports;
  std::vector<Export> exports;
  // Function starts whose address appears in data (relocations, pointers in
  // initialised data): possible targets of any indirect call in the program.
  std::vector<uint64_t> data_address_taken;
  // Imports whose address is stored in data (R_X86_64_64/GLOB_DAT against a
  // function symbol): they too are possible indirect-call targets.
  std::vector<uint32_t> data_address_taken_imports;
  // NUL-terminated strings at constant addresses passed as call arguments
  // (for the paths of execve and the names of dlopen).
  std::map<uint64_t, std::string> strings;
  // Things the scanner saw and could not follow, in words, with addresses.
  std::vector<std::string> notes;
  bool operator==(const ObjectSummary&) const = default;
};

}  // namespace least::analyze
