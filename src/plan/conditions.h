// Argument conditions rewritten as masked equalities only: what the set
// arithmetic of `least import` and the runtimes' per-argument merging need.
// x != v is "x differs from v in bit 63, or agrees there and differs in bit
// 62, ...": one masked equality per bit, each a prefix of v with that bit
// flipped; x < v and x > v are the prefixes of v up to a bit where x is
// smaller or larger.
#pragma once

#include <vector>

#include "plan/plan.h"

namespace least::plan {

// The alternatives (each one masked equality) that together mean `c`. Empty
// when `c` never holds; a mask of 0 holds always.
std::vector<ArgCond> as_masked_equalities(const ArgCond& c);

// The alternatives, each of masked equalities only, that mean the
// conjunction `alt`. Empty when it never holds.
std::vector<std::vector<ArgCond>> as_masked_equalities(const std::vector<ArgCond>& alt);

// `alt` as alternatives with at most one check per argument, sorted by
// argument, as libseccomp requires of one rule (and as runc reads one JSON
// entry: it ORs checks on the same argument). Masked equalities on one
// argument merge into one mask; an ordering or != check sharing its argument
// with another is first rewritten as masked equalities. Empty when `alt`
// never holds.
std::vector<std::vector<ArgCond>> one_check_per_argument(const std::vector<ArgCond>& alt);

}  // namespace least::plan
