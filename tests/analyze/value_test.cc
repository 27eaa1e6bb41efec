#include "analyze/value.h"

#include <gtest/gtest.h>

#include <vector>

namespace least::analyze {
namespace {

TEST(AnalyzeValue, DescribesEachKind) {
  EXPECT_EQ(describe(Value{}), "unknown");
  EXPECT_EQ(describe(constant(41)), "0x29");
  EXPECT_EQ(describe(Value{Value::Kind::constants, {1, 2}, 0}), "0x1|0x2");
  EXPECT_EQ(describe(argument(0)), "argument 0 (rdi)");
}

// One constant inline, two to eight in a heap block: every way between the
// two keeps the values, and copies and moves own their own.
TEST(AnalyzeValue, ConstantsInlineAndOnTheHeap) {
  Constants c;
  EXPECT_TRUE(c.empty());
  c.push_back(7);
  EXPECT_EQ(std::vector<uint64_t>(c.begin(), c.end()), (std::vector<uint64_t>{7}));
  for (uint64_t k = 8; k < 20; ++k) c.push_back(k);  // beyond 8 dropped
  EXPECT_EQ(c.size(), Constants::kCapacity);
  EXPECT_EQ(c[0], 7u);
  EXPECT_EQ(c[7], 14u);
  Constants copy = c;
  Constants moved = std::move(copy);
  EXPECT_EQ(moved, c);
  copy = moved;  // assigned after being moved from
  EXPECT_EQ(copy, c);
  c.resize(1);
  EXPECT_EQ(std::vector<uint64_t>(c.begin(), c.end()), (std::vector<uint64_t>{7}));
  c.resize(3);
  EXPECT_EQ(std::vector<uint64_t>(c.begin(), c.end()), (std::vector<uint64_t>{7, 0, 0}));
  c.resize(0);
  EXPECT_TRUE(c.empty());
  c.resize(2);
  EXPECT_EQ(std::vector<uint64_t>(c.begin(), c.end()), (std::vector<uint64_t>{0, 0}));
  c.assign(moved.begin(), moved.begin() + 2);
  EXPECT_EQ(std::vector<uint64_t>(c.begin(), c.end()), (std::vector<uint64_t>{7, 8}));
  EXPECT_LT(Constants{1}, (Constants{1, 2}));
  EXPECT_EQ(sizeof(Value), 24u);
}

}  // namespace
}  // namespace least::analyze
