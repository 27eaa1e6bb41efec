#include "analyze/register_flow.h"

#include <algorithm>

namespace least::analyze {

namespace {

AbsValue join(const AbsValue& a, const AbsValue& b) {
  if (a.kind == AbsValue::unknown || b.kind == AbsValue::unknown) return {};
  if (a.kind != b.kind) return {};
  if (a.kind == AbsValue::argument) return a.arg == b.arg ? a : AbsValue{};
  AbsValue out;
  out.kind = AbsValue::constants;
  // Both sorted: a bounded merge; more than 8 distinct constants is unknown.
  size_t i = 0, j = 0;
  while (i < a.count || j < b.count) {
    uint64_t next;
    if (j >= b.count || (i < a.count && a.c[i] < b.c[j]))
      next = a.c[i++];
    else if (i >= a.count || b.c[j] < a.c[i])
      next = b.c[j++];
    else
      next = a.c[i++], ++j;
    if (out.count == out.c.size()) return {};
    out.c[out.count++] = next;
  }
  return out;
}

AbsValue make_constant(uint64_t v) {
  AbsValue out;
  out.kind = AbsValue::constants;
  out.count = 1;
  out.c[0] = v;
  return out;
}

}  // namespace

bool AbsValue::operator==(const AbsValue& o) const {
  if (kind != o.kind) return false;
  if (kind == argument) return arg == o.arg;
  if (kind == unknown) return true;
  return count == o.count && std::equal(c.begin(), c.begin() + count, o.c.begin());
}

Value AbsValue::to_value() const {
  Value v;
  if (kind == argument) {
    v.kind = Value::Kind::argument;
    v.argument = arg;
  } else if (kind == constants) {
    v.kind = Value::Kind::constants;
    v.constants.assign(c.begin(), c.begin() + count);
  }
  return v;
}

void RegisterFlow::transfer(const Insn& insn, RegState& s) {
  AbsValue def;
  switch (insn.def_kind) {
    case DefKind::none:
      break;
    case DefKind::constant:
      def = make_constant(insn.value);
      break;
    case DefKind::copy64:
      def = s[insn.src];
      break;
    case DefKind::copy32: {
      // Zero-extends: constants truncate exactly; an argument loses its
      // upper half, so it is no longer "the argument, unchanged".
      const AbsValue& from = s[insn.src];
      if (from.kind == AbsValue::constants) {
        def.kind = AbsValue::constants;
        // Insertion into a sorted set of at most 8 (std::sort here trips
        // GCC 12's -Warray-bounds).
        for (uint8_t k = 0; k < from.count; ++k) {
          uint64_t v = from.c[k] & 0xffffffffu;
          uint8_t at = 0;
          while (at < def.count && def.c[at] < v) ++at;
          if (at < def.count && def.c[at] == v) continue;
          for (uint8_t m = def.count; m > at; --m) def.c[m] = def.c[m - 1];
          def.c[at] = v;
          ++def.count;
        }
      }
      break;
    }
  }
  for (uint16_t m = insn.clobber; m; m &= m - 1) s[__builtin_ctz(m)] = AbsValue{};
  if (insn.def_kind != DefKind::none) s[insn.def] = def;
}

bool RegisterFlow::join_into(RegState& into, const RegState& from) {
  bool changed = false;
  for (size_t r = 0; r < into.size(); ++r) {
    if (into[r].kind == AbsValue::unknown) continue;
    AbsValue j = join(into[r], from[r]);
    if (!(j == into[r])) {
      into[r] = j;
      changed = true;
    }
  }
  return changed;
}

uint32_t RegisterFlow::block_of(uint32_t insn) const {
  auto it = std::upper_bound(leaders_.begin(), leaders_.end() - 1, insn);
  return static_cast<uint32_t>(it - leaders_.begin() - 1);
}

const TableTargets* RegisterFlow::table_of(uint32_t jump) const {
  auto it = std::lower_bound(tables_.begin(), tables_.end(), jump,
                             [](const TableTargets& t, uint32_t j) { return t.jump < j; });
  return it != tables_.end() && it->jump == jump ? &*it : nullptr;
}

void RegisterFlow::solve(std::span<const Insn> insns, uint64_t begin, uint64_t end,
                         std::span<const TableTargets> tables, bool any_target) {
  leaders_.clear();
  misaligned_.clear();
  tables_ = tables;
  any_target_ = any_target;
  table_reached_ = false;
  table_ = RegState{};
  const uint32_t n = static_cast<uint32_t>(insns.size());
  // The instruction at `addr`, or the one containing it (counted as misaligned).
  auto index_of = [&](uint64_t addr) -> uint32_t {
    auto it = std::upper_bound(insns.begin(), insns.end(), addr,
                               [](uint64_t a, const Insn& i) { return a < i.address; });
    uint32_t i = static_cast<uint32_t>(it - insns.begin()) - 1;
    if (insns[i].address != addr) misaligned_.push_back(addr);
    return i;
  };
  auto inside = [&](uint64_t t) { return n && t >= begin && t < end && t >= insns[0].address; };

  std::vector<uint8_t> is_leader(n + 1, 0);
  if (n) is_leader[0] = 1;
  for (uint32_t i = 0; i < n; ++i) {
    const Insn& x = insns[i];
    switch (x.kind) {
      case InsnKind::jmp:
      case InsnKind::jcc:
        if (inside(x.target)) is_leader[index_of(x.target)] = 1;
        is_leader[i + 1] = 1;
        break;
      case InsnKind::jump_table:
        if (const TableTargets* t = table_of(i))
          for (uint64_t a : t->targets)
            if (inside(a)) is_leader[index_of(a)] = 1;
        is_leader[i + 1] = 1;
        break;
      case InsnKind::jmp_memory:
      case InsnKind::jmp_indirect:
      case InsnKind::ret:
      case InsnKind::stop:
        is_leader[i + 1] = 1;
        break;
      case InsnKind::call:
        if (x.no_return) is_leader[i + 1] = 1;
        break;
      default:
        break;
    }
  }
  for (uint32_t i = 0; i < n; ++i)
    if (is_leader[i]) leaders_.push_back(i);
  leaders_.push_back(n);
  const size_t blocks = leaders_.size() - 1;
  entry_.assign(blocks, RegState{});
  entry_reached_.assign(blocks, 0);
  if (!blocks) return;

  RegState init{};
  const Gpr args[] = {Gpr::rdi, Gpr::rsi, Gpr::rdx, Gpr::rcx, Gpr::r8, Gpr::r9};
  for (uint8_t k = 0; k < 6; ++k) {
    init[gpr(args[k])].kind = AbsValue::argument;
    init[gpr(args[k])].arg = k;
  }
  entry_[0] = init;
  entry_reached_[0] = 1;

  std::vector<uint8_t> dirty(blocks, 0);
  dirty[0] = 1;
  auto flow_to = [&](uint32_t block, const RegState& s) {
    if (!entry_reached_[block]) {
      entry_[block] = s;
      entry_reached_[block] = 1;
      dirty[block] = 1;
    } else if (join_into(entry_[block], s)) {
      dirty[block] = 1;
    }
  };
  // Forward order sweeps until nothing changes: loops settle in a few rounds
  // since constant sets widen to unknown after 8.
  for (bool again = true; again;) {
    again = false;
    for (uint32_t b = 0; b < blocks; ++b) {
      if (!dirty[b]) continue;
      dirty[b] = 0;
      RegState s = entry_reached_[b] ? entry_[b] : table_;
      if (!entry_reached_[b] && !table_reached_) continue;
      const uint32_t last = leaders_[b + 1] - 1;
      for (uint32_t i = leaders_[b]; i <= last; ++i) {
        if (any_target && table_reached_) join_into(s, table_);
        // Decoded tables have their edges; only the others feed the state
        // every instruction may be reached with.
        if (insns[i].kind == InsnKind::jmp_indirect ||
            (insns[i].kind == InsnKind::jump_table && !table_of(i))) {
          bool grew =
              !table_reached_ ? (table_ = s, table_reached_ = true, true) : join_into(table_, s);
          if (grew && any_target) {
            std::fill(dirty.begin(), dirty.end(), 1);
            again = true;
          }
        }
        transfer(insns[i], s);
      }
      const Insn& x = insns[last];
      switch (x.kind) {
        case InsnKind::jcc:
          if (inside(x.target)) flow_to(block_of(index_of(x.target)), s);
          if (b + 1 < blocks) flow_to(b + 1, s);
          break;
        case InsnKind::jmp:
          if (inside(x.target)) flow_to(block_of(index_of(x.target)), s);
          break;
        case InsnKind::jump_table:
          if (const TableTargets* t = table_of(last))
            for (uint64_t a : t->targets)
              if (inside(a)) flow_to(block_of(index_of(a)), s);
          break;
        case InsnKind::jmp_memory:
        case InsnKind::jmp_indirect:
        case InsnKind::ret:
        case InsnKind::stop:
          break;
        case InsnKind::call:
          if (!x.no_return && b + 1 < blocks) flow_to(b + 1, s);
          break;
        default:
          if (b + 1 < blocks) flow_to(b + 1, s);
      }
    }
    for (uint32_t b = 0; b < blocks && !again; ++b) again = dirty[b];
  }
  std::sort(misaligned_.begin(), misaligned_.end());
  misaligned_.erase(std::unique(misaligned_.begin(), misaligned_.end()), misaligned_.end());
}

}  // namespace least::analyze
