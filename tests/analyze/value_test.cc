#include "analyze/value.h"

#include <gtest/gtest.h>

namespace least::analyze {
namespace {

TEST(AnalyzeValue, DescribesEachKind) {
  EXPECT_EQ(describe(Value{}), "unknown");
  EXPECT_EQ(describe(constant(41)), "0x29");
  EXPECT_EQ(describe(Value{Value::Kind::constants, {1, 2}, 0}), "0x1|0x2");
  EXPECT_EQ(describe(argument(0)), "argument 0 (rdi)");
}

}  // namespace
}  // namespace least::analyze
