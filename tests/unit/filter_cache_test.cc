// The filter cache returns exactly what compiling returns, and never trusts
// a file it should not.
#include "enforce/filter_cache.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "plan/lower.h"

namespace least::enforce {
namespace {

class FilterCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/least-cache-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    setenv("XDG_CACHE_HOME", dir_.c_str(), 1);
    unsetenv("LEAST_NO_CACHE");
    plan_ = plan::lower_policy(policy::Policy{}).value();
  }
  void TearDown() override {
    std::filesystem::remove_all(dir_);
    unsetenv("XDG_CACHE_HOME");
  }
  std::vector<std::filesystem::path> entries() const {
    std::vector<std::filesystem::path> out;
    for (const auto& e : std::filesystem::directory_iterator(dir_ + "/least"))
      out.push_back(e.path());
    return out;
  }
  static bool same(const BpfProgram& a, const BpfProgram& b) {
    return a.needs_listener == b.needs_listener && same_code(a, b);
  }
  static bool same_code(const BpfProgram& a, const BpfProgram& b) {
    return a.code.size() == b.code.size() &&
           std::memcmp(a.code.data(), b.code.data(), a.code.size() * sizeof(sock_filter)) == 0;
  }
  std::string dir_;
  plan::Plan plan_;
};

TEST_F(FilterCacheTest, SecondLoadComesFromTheCacheUnchanged) {
  auto fresh = compile_seccomp(plan_.seccomp).value();
  auto first = load_or_compile_seccomp(plan_.seccomp).value();
  ASSERT_EQ(entries().size(), 1u);
  auto second = load_or_compile_seccomp(plan_.seccomp).value();
  EXPECT_TRUE(same(fresh, first));
  EXPECT_TRUE(same(fresh, second));
}

TEST_F(FilterCacheTest, DifferentPlansDifferentEntries) {
  ASSERT_TRUE(load_or_compile_seccomp(plan_.seccomp).ok());
  plan::Plan other = plan_;
  other.seccomp.default_action = plan::Action::error(EACCES);
  EXPECT_NE(seccomp_cache_key(other.seccomp), seccomp_cache_key(plan_.seccomp));
  auto prog = load_or_compile_seccomp(other.seccomp).value();
  EXPECT_EQ(entries().size(), 2u);
  EXPECT_TRUE(same(prog, compile_seccomp(other.seccomp).value()));
}

TEST_F(FilterCacheTest, CorruptOrForeignFilesAreIgnored) {
  auto fresh = compile_seccomp(plan_.seccomp).value();
  ASSERT_TRUE(load_or_compile_seccomp(plan_.seccomp).ok());
  auto file = entries().at(0);
  {  // truncated: not a whole number of instructions
    std::filesystem::resize_file(file, std::filesystem::file_size(file) - 3);
  }
  EXPECT_TRUE(same(load_or_compile_seccomp(plan_.seccomp).value(), fresh));
  // A file writable by others is never trusted: plant one that holds this
  // plan's key but another filter's code, as an attacker would.
  ASSERT_TRUE(load_or_compile_seccomp(plan_.seccomp).ok());  // rewrites a good entry
  std::string data;
  {
    std::ifstream in(file, std::ios::binary);
    data.assign(std::istreambuf_iterator<char>(in), {});
  }
  plan::Plan other = plan_;
  other.seccomp.default_action = plan::Action::error(EACCES);
  auto planted = compile_seccomp(other.seccomp).value();
  size_t header = data.size() - fresh.code.size() * sizeof(sock_filter);
  data.resize(header);
  data.append(reinterpret_cast<const char*>(planted.code.data()),
              planted.code.size() * sizeof(sock_filter));
  {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out << data;
  }
  chmod(file.c_str(), 0600);
  EXPECT_TRUE(same_code(load_or_compile_seccomp(plan_.seccomp).value(), planted))
      << "the planted file should be read while it is trusted (else this test proves nothing)";
  {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out << data;
  }
  chmod(file.c_str(), 0666);
  EXPECT_TRUE(same(load_or_compile_seccomp(plan_.seccomp).value(), fresh));
}

TEST_F(FilterCacheTest, OffWhenAsked) {
  setenv("LEAST_NO_CACHE", "1", 1);
  EXPECT_FALSE(filter_cache_dir());
  ASSERT_TRUE(load_or_compile_seccomp(plan_.seccomp).ok());
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/least"));
  unsetenv("LEAST_NO_CACHE");
}

}  // namespace
}  // namespace least::enforce
