// least diff: plans compared layer by layer, through the command line.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/app.h"

namespace least::cli {
namespace {

class DiffTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/least-diff-XXXXXX";
    ASSERT_TRUE(mkdtemp(tmpl));
    dir_ = tmpl;
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }

  std::string policy(const std::string& name, const std::string& text) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }
  int diff(std::vector<std::string> args) {
    args.insert(args.begin(), {"least", "diff"});
    ::testing::internal::CaptureStdout();
    ::testing::internal::CaptureStderr();
    int rc = run_app(args);
    out_ = ::testing::internal::GetCapturedStdout();
    err_ = ::testing::internal::GetCapturedStderr();
    return rc;
  }
  bool has(const std::string& s) const { return out_.find(s) != std::string::npos; }

  std::string dir_, out_, err_;
};

TEST_F(DiffTest, SamePolicySaidDifferentlyIsEqual) {
  auto a = policy("a.least.toml", "promises = [\"stdio\", \"rpath\"]\n");
  auto b = policy("b.least.toml", "promises = [\"rpath\", \"stdio\", \"stdio\"]\n");
  EXPECT_EQ(diff({a, b}), kExitOk) << out_ << err_;
  EXPECT_TRUE(has("allow the same on every layer")) << out_;
}

TEST_F(DiffTest, EachSideAndEachLayer) {
  auto a = policy("a.least.toml",
                  "promises = [\"stdio\", \"rpath\"]\n"
                  "[filesystem]\nread = [\"/usr\", \"/etc\"]\n"
                  "[limits]\nopen_files = 64\n");
  auto b = policy("b.least.toml",
                  "promises = [\"stdio\", \"rpath\", \"inet\"]\n"
                  "[filesystem]\nread = [\"/usr\"]\nwrite = [\"/var/tmp\"]\n"
                  "[network]\nconnect = [\"tcp:443\"]\n"
                  "[limits]\nopen_files = 1024\n");
  EXPECT_EQ(diff({a, b}), 1) << out_ << err_;
  size_t only_b = out_.find("Only B allows"), only_a = out_.find("Only A allows");
  ASSERT_NE(only_b, std::string::npos) << out_;
  ASSERT_NE(only_a, std::string::npos) << out_;
  std::string b_part = out_.substr(only_b, only_a - only_b), a_part = out_.substr(only_a);
  EXPECT_NE(b_part.find("    inet\n"), std::string::npos) << out_;
  EXPECT_NE(b_part.find("connect  (A: EPERM)"), std::string::npos) << out_;
  EXPECT_NE(b_part.find("socket: only when domain == AF_INET"), std::string::npos) << out_;
  EXPECT_NE(b_part.find("read, write /var/tmp"), std::string::npos) << out_;
  EXPECT_NE(b_part.find("connect tcp:443"), std::string::npos) << out_;
  EXPECT_NE(b_part.find("the host network"), std::string::npos) << out_;
  EXPECT_NE(b_part.find("RLIMIT_NOFILE  (A: 64, B: 1024)"), std::string::npos) << out_;
  EXPECT_NE(a_part.find("read /etc"), std::string::npos) << out_;
  EXPECT_EQ(a_part.find("inet"), std::string::npos) << out_;

  // Swapped, the sides swap.
  EXPECT_EQ(diff({b, a}), 1);
  EXPECT_NE(out_.substr(out_.find("Only A allows")).find("connect tcp:443"), std::string::npos)
      << out_;
}

TEST_F(DiffTest, ConditionsAndAnswers) {
  auto a = policy("a.least.toml",
                  "promises = [\"stdio\"]\n[syscalls]\ndeny = { getpid = \"EACCES\" }\n");
  auto b = policy("b.least.toml", "promises = [\"stdio\", \"proc\"]\n");
  EXPECT_EQ(diff({a, b, "--json"}), 1) << out_ << err_;
  auto j = nlohmann::json::parse(out_);
  EXPECT_FALSE(j["same"].get<bool>());
  bool clone = false, getpid_changed = false;
  for (const auto& e : j["only_b"])
    clone |= e["what"].get<std::string>().rfind("clone: only when", 0) == 0;
  for (const auto& e : j["only_b"]) getpid_changed |= e["what"] == "getpid";
  EXPECT_TRUE(clone) << out_;
  EXPECT_TRUE(getpid_changed) << out_;  // stdio allows getpid; A refuses it with EACCES
}

TEST_F(DiffTest, BadInput) {
  auto a = policy("a.least.toml", "promises = [\"stdio\"]\n");
  EXPECT_EQ(diff({a, dir_ + "/missing.least.toml"}), kExitUsage);
  EXPECT_NE(err_.find("missing.least.toml"), std::string::npos) << err_;
  auto bad = policy("bad.least.toml", "promises = [\"stdoi\"]\n");
  EXPECT_EQ(diff({a, bad}), kExitUsage);
  EXPECT_NE(err_.find("did you mean \"stdio\""), std::string::npos) << err_;
  EXPECT_EQ(diff({a}), kExitUsage);
}

}  // namespace
}  // namespace least::cli
