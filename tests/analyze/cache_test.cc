#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "analyze/summary_cache.h"
#include "analyze/value.h"

namespace least::analyze {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/least-cache-test-XXXXXX";
    path_ = ::mkdtemp(tmpl) ? tmpl : "";
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A summary with every field set, and values of every kind.
ObjectSummary full_summary() {
  ObjectSummary s;
  s.build_id = "0123456789abcdef0123456789abcdef01234567";
  s.soname = "libexample.so.1";
  s.entry = 0x1040;
  s.roots = {0x1100, 0x1200};
  Function f;
  f.address = 0x1100;
  f.size = 0x40;
  f.name = "example_init";
  CallSite local;
  local.address = 0x1110;
  local.local = 0x1200;
  local.args = {constant(1),
                argument(2),
                Value{Value::Kind::constants, {3, 4}, 0},
                Value{},
                constant(0xffffffffffffffffull),
                argument(5)};
  CallSite import;
  import.address = 0x1120;
  import.import = 1;
  import.args = {};  // all six unknown
  f.calls = {local, import};
  SyscallSite sys;
  sys.address = 0x1130;
  sys.number = constant(39);
  sys.args = {argument(0), Value{}, constant(0), Value{}, Value{}, Value{}};
  f.syscalls = {sys};
  f.takes_address = {0x1200, 0x1000};  // one before the function: a negative delta
  f.takes_import = {0};
  f.indirect_calls = true;
  Function g;
  g.address = 0x1200;
  g.name = "";
  g.syscalls = {SyscallSite{0x1204, argument(0), {}}};  // all six unknown: empty
  s.functions = {f, g};
  s.imports = {Import{"malloc", "GLIBC_2.2.5", false}, Import{"__gmon_start__", "", true}};
  s.exports = {Export{"example", "V1", true, 0x1100, false, true},
               Export{"example_old", "V0", false, 0x1200, true, true},
               Export{"example_data", "", true, 0x4000, false, false}};
  s.data_address_taken = {0x1200};
  s.data_address_taken_imports = {1};
  s.strings = {{0x2000, "/bin/sh"}, {0x2010, ""}, {0x2020, "libplugin.so"}};
  s.notes = {"0x1150: jump through a table it could not bound"};
  return s;
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}
void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << bytes;
}

TEST(AnalyzeCache, RoundTripsEveryField) {
  TempDir tmp;
  SummaryCache cache(tmp.path() + "/analyze");
  ObjectSummary s = full_summary();
  ASSERT_TRUE(cache.store(s).ok());
  auto back = cache.load(s.build_id);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, s);
  // Stored again (a rescan) replaces it.
  s.notes.push_back("second");
  ASSERT_TRUE(cache.store(s).ok());
  EXPECT_EQ(cache.load(s.build_id), s);
}

TEST(AnalyzeCache, MissesOnAbsentOrEmptyBuildId) {
  TempDir tmp;
  SummaryCache cache(tmp.path());
  EXPECT_FALSE(cache.load("00ff").has_value());
  EXPECT_FALSE(cache.load("").has_value());
  EXPECT_FALSE(cache.load("../etc/passwd").has_value());
  ObjectSummary s = full_summary();
  s.build_id = "";
  ASSERT_TRUE(cache.store(s).ok());
  EXPECT_TRUE(fs::is_empty(tmp.path()));  // nothing written
}

TEST(AnalyzeCache, EveryTruncationIsAMiss) {
  TempDir tmp;
  SummaryCache cache(tmp.path());
  ObjectSummary s = full_summary();
  ASSERT_TRUE(cache.store(s).ok());
  std::string path = cache.path_for(s.build_id);
  std::string bytes = read_file(path);
  ASSERT_GT(bytes.size(), 100u);
  for (size_t len = 0; len < bytes.size(); ++len) {
    write_file(path, bytes.substr(0, len));
    EXPECT_FALSE(cache.load(s.build_id).has_value()) << len;
    // The decoder alone too, past the checks of the header.
    EXPECT_FALSE(SummaryCache::decode(bytes.substr(0, len), s.build_id, kScannerVersion));
  }
  // A miss is replaced by the next store.
  ASSERT_TRUE(cache.store(s).ok());
  EXPECT_EQ(cache.load(s.build_id), s);
}

TEST(AnalyzeCache, FlippedBytesNeverCrash) {
  TempDir tmp;
  SummaryCache cache(tmp.path());
  ObjectSummary s = full_summary();
  std::string bytes = SummaryCache::encode(s, kScannerVersion);
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (unsigned char mask : {0x01, 0x80, 0xff}) {
      std::string bad = bytes;
      bad[i] = static_cast<char>(bad[i] ^ mask);
      // Caught by the hash (or the header checks).
      EXPECT_FALSE(SummaryCache::decode(bad, s.build_id, kScannerVersion)) << i;
    }
  }
  // The payload decoder on its own (past the hash, as a collision or a
  // bug would reach it) must stay in bounds whatever it reads.
  std::string payload = bytes.substr(SummaryCache::kHeaderSize);
  ASSERT_EQ(SummaryCache::decode_payload(payload, s.build_id), s);
  for (size_t i = 0; i < payload.size(); ++i) {
    for (unsigned char mask : {0x01, 0x40, 0x80, 0xff}) {
      std::string bad = payload;
      bad[i] = static_cast<char>(bad[i] ^ mask);
      (void)SummaryCache::decode_payload(bad, s.build_id);
    }
  }
  for (size_t len = 0; len < payload.size(); ++len)
    EXPECT_FALSE(SummaryCache::decode_payload(payload.substr(0, len), s.build_id)) << len;
}

TEST(AnalyzeCache, VersionBumpIsAMiss) {
  TempDir tmp;
  ObjectSummary s = full_summary();
  ASSERT_TRUE(SummaryCache(tmp.path(), kScannerVersion).store(s).ok());
  EXPECT_TRUE(SummaryCache(tmp.path(), kScannerVersion).load(s.build_id).has_value());
  EXPECT_FALSE(SummaryCache(tmp.path(), kScannerVersion + 1).load(s.build_id).has_value());
  ASSERT_TRUE(SummaryCache(tmp.path(), kScannerVersion + 1).store(s).ok());
  EXPECT_TRUE(SummaryCache(tmp.path(), kScannerVersion + 1).load(s.build_id).has_value());
  EXPECT_FALSE(SummaryCache(tmp.path(), kScannerVersion).load(s.build_id).has_value());
}

TEST(AnalyzeCache, CreatesTheDirectoryPrivate) {
  TempDir tmp;
  std::string dir = tmp.path() + "/a/b/analyze";
  SummaryCache cache(dir);
  ASSERT_TRUE(cache.store(full_summary()).ok());
  struct stat st {};
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  // No temporary file left behind.
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    ++files;
    EXPECT_EQ(e.path().extension(), ".summary");
  }
  EXPECT_EQ(files, 1u);
}

class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = ::getenv(name)) old_ = old;
    if (value)
      ::setenv(name, value, 1);
    else
      ::unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(AnalyzeCache, DefaultDirHonoursXdgThenHome) {
  ScopedEnv home("HOME", "/home/someone");
  {
    ScopedEnv xdg("XDG_CACHE_HOME", "/var/tmp/xdg");
    EXPECT_EQ(SummaryCache::default_dir(), "/var/tmp/xdg/least/analyze");
  }
  {
    ScopedEnv xdg("XDG_CACHE_HOME", nullptr);
    EXPECT_EQ(SummaryCache::default_dir(), "/home/someone/.cache/least/analyze");
  }
  {
    ScopedEnv xdg("XDG_CACHE_HOME", "relative");  // not absolute: ignored
    EXPECT_EQ(SummaryCache::default_dir(), "/home/someone/.cache/least/analyze");
  }
}

}  // namespace
}  // namespace least::analyze
