#include "plan/conditions.h"

#include <map>
#include <optional>

namespace least::plan {

namespace {

// One alternative with at most one condition per argument, sorted by
// argument: runc ORs several conditions on the same argument (its legacy
// reading of such entries), so masked equalities on one argument are merged
// into one mask. nullopt when the conditions contradict each other (the
// alternative never matches).
std::optional<std::vector<ArgCond>> normalize(const std::vector<ArgCond>& alt) {
  std::map<uint8_t, ArgCond> by_arg;
  for (const ArgCond& c : alt) {
    auto [it, inserted] = by_arg.try_emplace(c.arg, c);
    if (inserted) {
      if (c.op == Compare::kMaskedEq) it->second.value &= it->second.mask;
      continue;
    }
    ArgCond& m = it->second;
    uint64_t common = m.mask & c.mask;
    if ((m.value & common) != (c.value & common)) return std::nullopt;
    m.mask |= c.mask;
    m.value = (m.value | (c.value & c.mask)) & m.mask;
  }
  std::vector<ArgCond> out;
  for (auto& [arg, c] : by_arg) out.push_back(c);
  return out;
}

}  // namespace

std::vector<ArgCond> as_masked_equalities(const ArgCond& c) {
  constexpr uint64_t kAll = ~uint64_t{0};
  std::vector<ArgCond> out;
  auto add = [&](uint64_t mask, uint64_t value) {
    out.push_back(ArgCond{c.arg, mask, value & mask, c.text, Compare::kMaskedEq});
  };
  // Prefixes of x < v: v's bits above a set bit i, bit i clear.
  auto less_than = [&](uint64_t bound) {
    for (int i = 63; i >= 0; --i)
      if (bound >> i & 1) add(kAll << i, bound & ~(uint64_t{1} << i));
  };
  // Prefixes of x > v: v's bits above a clear bit i, bit i set.
  auto greater_than = [&](uint64_t bound) {
    for (int i = 63; i >= 0; --i)
      if (!(bound >> i & 1)) add(kAll << i, bound | (uint64_t{1} << i));
  };
  switch (c.op) {
    case Compare::kMaskedEq:
      if ((c.value & ~c.mask) == 0) add(c.mask, c.value);  // else it never holds
      break;
    case Compare::kNe:
      for (int i = 63; i >= 0; --i) add(kAll << i, c.value ^ (uint64_t{1} << i));
      break;
    case Compare::kLt:
      less_than(c.value);
      break;
    case Compare::kLe:
      less_than(c.value);
      add(kAll, c.value);
      break;
    case Compare::kGt:
      greater_than(c.value);
      break;
    case Compare::kGe:
      greater_than(c.value);
      add(kAll, c.value);
      break;
  }
  return out;
}

std::vector<std::vector<ArgCond>> as_masked_equalities(const std::vector<ArgCond>& alt) {
  std::vector<std::vector<ArgCond>> product = {{}};
  for (const ArgCond& c : alt) {
    std::vector<std::vector<ArgCond>> next;
    for (const ArgCond& m : as_masked_equalities(c))
      for (const auto& partial : product) {
        next.push_back(partial);
        next.back().push_back(m);
      }
    product = std::move(next);
  }
  return product;
}

// The entries for one alternative: itself, or, when an ordering or !=
// check shares its argument with another check (which runc would OR), its
// rewriting as masked equalities.
std::vector<std::vector<ArgCond>> one_check_per_argument(const std::vector<ArgCond>& alt) {
  std::map<uint8_t, int> uses;
  bool shared_ordering = false;
  for (const auto& c : alt) ++uses[c.arg];
  for (const auto& c : alt)
    if (c.op != Compare::kMaskedEq && uses[c.arg] > 1) shared_ordering = true;
  std::vector<std::vector<ArgCond>> out;
  for (const auto& a :
       shared_ordering ? as_masked_equalities(alt) : std::vector<std::vector<ArgCond>>{alt})
    if (auto merged = normalize(a)) out.push_back(std::move(*merged));
  return out;
}

}  // namespace least::plan
