// Forward data flow of the 16 general-purpose registers over one function's
// decoded instructions, with the lattice of analyze::Value: a set of at most
// 8 constants, an unchanged argument register, or unknown.
//
// The decoder (object_scanner.cc) lowers each x86 instruction to an Insn:
// what it does to control flow and at most one precise register definition;
// every other register it writes is in `clobber` and becomes unknown.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "analyze/object_summary.h"

namespace least::analyze {

enum class Gpr : uint8_t {
  rax,
  rcx,
  rdx,
  rbx,
  rsp,
  rbp,
  rsi,
  rdi,
  r8,
  r9,
  r10,
  r11,
  r12,
  r13,
  r14,
  r15
};
constexpr uint8_t gpr(Gpr r) {
  return static_cast<uint8_t>(r);
}
constexpr uint16_t gpr_bit(Gpr r) {
  return uint16_t(1u << gpr(r));
}
// What a call may change under the System V ABI (plus rsp, pushed and popped).
constexpr uint16_t kCallClobber = gpr_bit(Gpr::rax) | gpr_bit(Gpr::rcx) | gpr_bit(Gpr::rdx) |
                                  gpr_bit(Gpr::rsi) | gpr_bit(Gpr::rdi) | gpr_bit(Gpr::r8) |
                                  gpr_bit(Gpr::r9) | gpr_bit(Gpr::r10) | gpr_bit(Gpr::r11);

enum class InsnKind : uint8_t {
  other,
  jmp,            // direct, target in `target`
  jcc,            // direct conditional (also loop/jrcxz)
  call,           // direct
  call_memory,    // call [rip+d] or [abs]: `memory` is the slot
  jmp_memory,     // jmp [rip+d] or [abs]: `memory` is the slot
  call_indirect,  // call reg / call [reg...]
  jmp_indirect,   // jmp reg / jmp [reg...]: a jump table or an indirect tail call
  jump_table,     // a jmp_indirect judged to be a jump table inside the function
  ret,
  stop,  // hlt, ud2, int3, ...: no fall-through
  syscall,
  legacy_syscall,  // int 0x80, sysenter
};

enum class DefKind : uint8_t { none, constant, copy64, copy32 };

// One decoded instruction, lowered for the flow and the summary.
struct Insn {
  uint64_t address = 0;
  uint64_t target = 0;  // branch target (jmp, jcc, call)
  uint64_t value = 0;   // the constant of DefKind::constant
  uint64_t memory = 0;  // rip-relative or absolute memory operand address, 0 for none
  uint64_t immediate = 0;
  uint16_t clobber = 0;  // GPRs written to unknown values
  uint8_t length = 0;
  InsnKind kind = InsnKind::other;
  DefKind def_kind = DefKind::none;
  uint8_t def = 0;  // GPR of def_kind
  uint8_t src = 0;  // source GPR of a copy
  bool has_immediate = false;
  bool lea = false;          // `memory` is an address formed, not read
  bool scaled_load = false;  // reads memory with an index register scaled by 4 or 8
  bool notrack = false;      // notrack jmp: GCC's mark for jump tables
  bool no_return = false;    // a call to a local function that never returns
};

// The decoded targets of one jump table: `jump` indexes the jump_table
// instruction; `targets` are the instruction starts inside the function it
// may reach (its only successors).
struct TableTargets {
  uint32_t jump = 0;
  std::vector<uint64_t> targets;
};

// Compact lattice element: 72 bytes, no allocation.
struct AbsValue {
  enum Kind : uint8_t { unknown, constants, argument };
  uint8_t kind = unknown;
  uint8_t count = 0;
  uint8_t arg = 0;
  std::array<uint64_t, 8> c{};
  bool operator==(const AbsValue& o) const;
  Value to_value() const;
};
using RegState = std::array<AbsValue, 16>;

// Runs the flow over `insns` (sorted, one function). `tables` (sorted by
// jump) gives the decoded jump tables their edges. `any_target`: the
// function has an indirect jmp that might be a table and is not in `tables`,
// and every instruction is treated as a possible target carrying the
// (joined) state at those jumps: sound without decoding the table, at the
// price of precision in such functions only.
// `visit(index, state)` is then called for every instruction, with the state
// before it.
class RegisterFlow {
 public:
  template <class Visit>
  void run(std::span<const Insn> insns, uint64_t begin, uint64_t end,
           std::span<const TableTargets> tables, bool any_target, Visit fn) {
    solve(insns, begin, end, tables, any_target);
    visit(insns, fn);
  }
  // Solves, without visiting: then state_before() and visit() may be used.
  void solve(std::span<const Insn> insns, uint64_t begin, uint64_t end,
             std::span<const TableTargets> tables, bool any_target);
  // The state before instruction `i` after solve().
  RegState state_before(std::span<const Insn> insns, uint32_t i) const {
    uint32_t b = block_of(i);
    RegState s = entry_reached_[b] ? entry_[b] : RegState{};
    for (uint32_t k = leaders_[b];; ++k) {
      if (any_target_ && table_reached_) join_into(s, table_);
      if (k == i) return s;
      transfer(insns[k], s);
    }
  }
  template <class Visit>
  void visit(std::span<const Insn> insns, Visit fn) {
    const bool any_target = any_target_;
    for (size_t b = 0; b + 1 < leaders_.size(); ++b) {
      // A block no edge reaches is still visited, with nothing known: the
      // CFG may miss an edge, a syscall must not be missed.
      RegState s = entry_reached_[b] ? entry_[b] : RegState{};
      for (uint32_t i = leaders_[b]; i < leaders_[b + 1]; ++i) {
        if (any_target && table_reached_) join_into(s, table_);
        fn(i, s);
        transfer(insns[i], s);
      }
    }
  }
  // Branch targets inside the function that fall in the middle of a decoded
  // instruction (overlapping code, "jmp over a lock prefix").
  const std::vector<uint64_t>& misaligned_targets() const { return misaligned_; }

  static void transfer(const Insn& insn, RegState& s);
  static bool join_into(RegState& into, const RegState& from);

 private:
  uint32_t block_of(uint32_t insn) const;
  const TableTargets* table_of(uint32_t jump) const;

  std::vector<uint32_t> leaders_;  // first insn of each block, then insns.size()
  std::vector<RegState> entry_;
  std::vector<uint8_t> entry_reached_;
  RegState table_{};
  bool table_reached_ = false;
  bool any_target_ = false;
  std::span<const TableTargets> tables_;
  std::vector<uint64_t> misaligned_;
};

}  // namespace least::analyze
