// The `when` grammar of [syscalls] allow: what it reads, what it says back,
// and what it refuses to read.
#include "policy/syscall_condition.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <random>

#include "plan/conditions.h"

namespace least::policy {
namespace {

std::vector<ArgCheck> ok(std::string_view syscall, std::string_view text) {
  auto r = parse_condition(syscall, text);
  EXPECT_TRUE(r) << text << ": " << (r ? "" : r.error().message);
  return r ? *r : std::vector<ArgCheck>{};
}

std::string error(std::string_view syscall, std::string_view text) {
  auto r = parse_condition(syscall, text);
  EXPECT_FALSE(r) << text;
  return r ? "" : r.error().message;
}

TEST(SyscallCondition, ReadsNamesConstantsAndOperators) {
  auto c = ok("socket", "domain != AF_VSOCK");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].arg, 0);
  EXPECT_EQ(c[0].op, Compare::kNe);
  EXPECT_EQ(c[0].value, uint64_t{AF_VSOCK});
  EXPECT_EQ(c[0].text, "domain != AF_VSOCK");

  c = ok("clone", "flags & CLONE_NEWUSER|CLONE_NEWNS == 0 && arg1 < 0x1000");
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].op, Compare::kMaskedEq);
  EXPECT_EQ(c[0].mask, uint64_t{0x10020000});
  EXPECT_EQ(c[0].value, 0u);
  EXPECT_EQ(c[1].arg, 1);
  EXPECT_EQ(c[1].op, Compare::kLt);
  EXPECT_EQ(c[1].value, 0x1000u);

  c = ok("getpid", "arg5 == -1");  // two's complement on 64 bits
  EXPECT_EQ(c[0].mask, ~uint64_t{0});
  EXPECT_EQ(c[0].value, ~uint64_t{0});
  EXPECT_EQ(ok("getpid", "arg0>=18446744073709551615")[0].value, ~uint64_t{0});
  for (auto [text, op] :
       std::vector<std::pair<const char*, Compare>>{{"arg0 <= 1", Compare::kLe},
                                                    {"arg0 > 1", Compare::kGt},
                                                    {"arg0 >= 1", Compare::kGe},
                                                    {"arg0 == 1", Compare::kMaskedEq}})
    EXPECT_EQ(ok("getpid", text)[0].op, op) << text;
}

TEST(SyscallCondition, ErrorsSayWhatIsWrong) {
  EXPECT_EQ(error("socket", "domian != 40"),
            "condition \"domian != 40\" on socket: unknown argument \"domian\" (did you mean "
            "\"domain\"?)");
  EXPECT_NE(error("getpid", "flags == 1").find("write arg0..arg5"), std::string::npos);
  EXPECT_NE(error("socket", "domain = 1").find("write \"==\""), std::string::npos);
  EXPECT_NE(error("socket", "domain == AF_VSOK").find("did you mean AF_VSOCK?"), std::string::npos);
  EXPECT_NE(error("socket", "domain == 1 || domain == 2").find("as a list"), std::string::npos);
  EXPECT_NE(error("socket", "domain & 0xff != 1").find("only be compared with =="),
            std::string::npos);
  EXPECT_NE(error("socket", "domain & 0xf == 0x10").find("never matches"), std::string::npos);
  EXPECT_NE(error("socket", "arg0 == 18446744073709551616").find("does not fit in 64 bits"),
            std::string::npos);
  EXPECT_NE(error("socket", "").find("empty"), std::string::npos);
  EXPECT_NE(error("socket", "arg6 == 1").find("unknown argument"), std::string::npos);
  EXPECT_NE(error("socket", "arg0 == 0x").find("hex digits"), std::string::npos);
  EXPECT_NE(error("socket", "arg0 == 12abc").find("not a number"), std::string::npos);
  EXPECT_NE(error("socket", "arg0 == 1 &&").find("expected an argument"), std::string::npos);
  EXPECT_NE(error("socket", "arg0 == 1 junk").find("expected \"&&\""), std::string::npos);
}

// What render_check writes reads back as the same check (import writes
// policies this way), for every operator and random values and masks.
TEST(SyscallCondition, RenderReadsBackTheSame) {
  std::mt19937_64 rng(7);
  const char* syscalls[] = {"socket", "clone", "personality", "mmap", "getpid", "ioctl"};
  const Compare ops[] = {Compare::kMaskedEq, Compare::kNe, Compare::kLt,
                         Compare::kLe,       Compare::kGt, Compare::kGe};
  for (int i = 0; i < 3000; ++i) {
    ArgCheck c;
    c.arg = static_cast<uint8_t>(rng() % 6);
    c.op = ops[rng() % 6];
    uint64_t v = rng();
    switch (rng() % 4) {  // small numbers and constants matter most
      case 0:
        v %= 64;
        break;
      case 1:
        v &= 0x7E020000;
        break;
      case 2:
        v &= 0xffffffff;
        break;
      default:
        break;
    }
    c.value = v;
    if (c.op == Compare::kMaskedEq) {
      c.mask = rng() % 3 == 0 ? ~uint64_t{0} : (rng() | v);
      c.value &= c.mask;
    }
    const char* sc = syscalls[rng() % std::size(syscalls)];
    std::string text = render_check(sc, c);
    auto back = parse_condition(sc, text);
    ASSERT_TRUE(back) << text << ": " << back.error().message;
    ASSERT_EQ(back->size(), 1u) << text;
    EXPECT_EQ((*back)[0].arg, c.arg) << text;
    EXPECT_EQ((*back)[0].op, c.op) << text;
    EXPECT_EQ((*back)[0].value, c.value) << text;
    if (c.op == Compare::kMaskedEq) {
      EXPECT_EQ((*back)[0].mask, c.mask) << text;
    }
  }
  EXPECT_EQ(render_check("clone", {0, 0x7E020000, 0, {}, Compare::kMaskedEq}),
            "flags & CLONE_NEWNS|CLONE_NEWCGROUP|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWUSER|"
            "CLONE_NEWPID|CLONE_NEWNET == 0");
  EXPECT_EQ(render_check("personality", {0, ~uint64_t{0}, 0x20008, {}, Compare::kMaskedEq}),
            "persona == PER_LINUX32|UNAME26");
  EXPECT_EQ(render_check("socket", {0, 0, 38, {}, Compare::kLt}), "domain < AF_ALG");
}

// check_holds and the rewriting as masked equalities agree with the plain
// meaning of each operator, at and around the bounds.
TEST(SyscallCondition, HoldsAndMaskedRewritingAgree) {
  const Compare ops[] = {Compare::kNe, Compare::kLt, Compare::kLe, Compare::kGt, Compare::kGe};
  const uint64_t values[] = {0,
                             1,
                             2,
                             39,
                             40,
                             41,
                             0x7fffffff,
                             0x80000000,
                             0xffffffff,
                             0x100000000,
                             ~uint64_t{0} - 1,
                             ~uint64_t{0}};
  for (Compare op : ops)
    for (uint64_t bound : values) {
      ArgCheck check{0, 0, bound, {}, op};
      plan::ArgCond cond{0, 0, bound, {}, op};
      auto masked = plan::as_masked_equalities(cond);
      for (uint64_t x : values) {
        bool want = op == Compare::kNe   ? x != bound
                    : op == Compare::kLt ? x < bound
                    : op == Compare::kLe ? x <= bound
                    : op == Compare::kGt ? x > bound
                                         : x >= bound;
        EXPECT_EQ(check_holds(check, x), want);
        bool any = false;
        for (const auto& m : masked) any = any || (x & m.mask) == m.value;
        EXPECT_EQ(any, want) << static_cast<int>(op) << " " << bound << " at " << x;
      }
    }
}

}  // namespace
}  // namespace least::policy
