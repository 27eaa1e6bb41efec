#include <gtest/gtest.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "analyze/elf_dynamic.h"
#include "analyze/ld_so_cache.h"
#include "analyze/library_closure.h"

namespace least::analyze {
namespace {

const std::string kFixtures = LEAST_FIXTURE_DIR;
const std::string kServers = "/var/cache/least/servers";

std::string real(const std::string& path) {
  char buf[PATH_MAX];
  return ::realpath(path.c_str(), buf) ? std::string(buf) : path;
}

// Runs `command` through the shell and returns its standard output.
std::string run(const std::string& command) {
  std::string out;
  FILE* p = ::popen(command.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out;
}

// What ld.so itself loads for `program` (ldd's mechanism), as real paths in
// its order, without the vDSO.
std::vector<std::string> traced_objects(const std::string& program) {
  std::string out = run("LD_TRACE_LOADED_OBJECTS=1 '" + program + "' </dev/null 2>&1");
  std::vector<std::string> paths;
  size_t start = 0;
  while (start < out.size()) {
    size_t end = out.find('\n', start);
    if (end == std::string::npos) end = out.size();
    std::string line = out.substr(start, end - start);
    start = end + 1;
    size_t first = line.find_first_not_of(" \t");
    if (first == std::string::npos) continue;
    line = line.substr(first);
    std::string path;
    if (size_t arrow = line.find(" => "); arrow != std::string::npos) {
      path = line.substr(arrow + 4);
    } else {
      path = line;
    }
    path = path.substr(0, path.find(" ("));
    if (path.empty() || path[0] != '/') {
      EXPECT_EQ(line.find("not found"), std::string::npos) << program << ": " << line;
      continue;  // linux-vdso.so.1
    }
    paths.push_back(real(path));
  }
  return paths;
}

std::vector<std::string> closure_paths(const Closure& c) {
  std::vector<std::string> paths;
  for (size_t i = 1; i < c.objects.size(); ++i) paths.push_back(c.objects[i].real_path);
  return paths;
}

// A test that needs something this host may lack: skipped, unless
// LEAST_REQUIRE_ALL=1 (make test, CI), where the lack is a failure.
bool require_all() {
  const char* v = ::getenv("LEAST_REQUIRE_ALL");
  return v && std::string(v) == "1";
}
#define LEAST_NEED(cond, why)                                        \
  do {                                                               \
    if (!(cond)) {                                                   \
      if (require_all()) FAIL() << why;                              \
      GTEST_SKIP() << why << " (LEAST_REQUIRE_ALL=1 fails instead)"; \
    }                                                                \
  } while (0)

void expect_same_as_ld_so(const std::string& program) {
  auto c = resolve_closure(program);
  ASSERT_TRUE(c.ok()) << c.error().str();
  std::vector<std::string> ours = closure_paths(*c);
  std::vector<std::string> theirs = traced_objects(program);
  ASSERT_FALSE(theirs.empty()) << program;
  EXPECT_EQ(std::set<std::string>(ours.begin(), ours.end()),
            std::set<std::string>(theirs.begin(), theirs.end()))
      << program;
  // ld.so's load order: breadth-first, the interpreter where it is first needed.
  EXPECT_EQ(ours, theirs) << program;
  ASSERT_TRUE(c->interpreter.has_value());
  EXPECT_TRUE(c->objects[*c->interpreter].is_interpreter);
  EXPECT_EQ(c->objects[*c->interpreter].path, c->objects[0].info.interpreter);
  // The edges: every DT_NEEDED has its object.
  for (const LoadedObject& o : c->objects) EXPECT_EQ(o.needed.size(), o.info.needed.size());
}

TEST(AnalyzeClosure, RealProgramsMatchLdSo) {
  for (const char* program : {"/bin/ls", "/usr/bin/python3", "/usr/bin/git", "/usr/bin/curl"}) {
    SCOPED_TRACE(program);
    LEAST_NEED(::access(program, X_OK) == 0, std::string("no ") + program);
    expect_same_as_ld_so(program);
  }
}

TEST(AnalyzeClosure, LsStartsAsLdSoLoads) {
  auto c = resolve_closure("/bin/ls");
  ASSERT_TRUE(c.ok()) << c.error().str();
  ASSERT_GE(c->objects.size(), 3u);
  EXPECT_EQ(c->objects[0].path, "/bin/ls");
  // ls's own DT_NEEDED, in order, come first.
  const auto& needed = c->objects[0].info.needed;
  ASSERT_FALSE(needed.empty());
  for (size_t i = 0; i < needed.size(); ++i) EXPECT_EQ(c->objects[i + 1].soname, needed[i]);
  EXPECT_EQ(c->objects[0].needed.front(), 1u);
}

TEST(AnalyzeClosure, RunpathOriginFindsFixtureLibrary) {
  auto c = resolve_closure(kFixtures + "/fx_runpath");
  ASSERT_TRUE(c.ok()) << c.error().str();
  const LoadedObject& exe = c->objects[0];
  EXPECT_TRUE(exe.info.has_runpath);
  EXPECT_FALSE(exe.info.has_rpath);
  EXPECT_EQ(exe.info.runpath, std::vector<std::string>{"$ORIGIN/lib"});
  ASSERT_GE(c->objects.size(), 2u);
  EXPECT_EQ(c->objects[1].soname, "libfx_dep.so");
  EXPECT_EQ(c->objects[1].real_path, real(kFixtures + "/lib/libfx_dep.so"));
  EXPECT_EQ(c->objects[1].loader, std::optional<size_t>(0));
  EXPECT_EQ(closure_paths(*c), traced_objects(kFixtures + "/fx_runpath"));
}

TEST(AnalyzeClosure, RpathIsInheritedByDependencies) {
  auto c = resolve_closure(kFixtures + "/fx_rpath");
  ASSERT_TRUE(c.ok()) << c.error().str();
  const LoadedObject& exe = c->objects[0];
  EXPECT_TRUE(exe.info.has_rpath);
  EXPECT_FALSE(exe.info.has_runpath);
  auto find = [&](const std::string& soname) -> const LoadedObject* {
    for (const LoadedObject& o : c->objects)
      if (o.soname == soname) return &o;
    return nullptr;
  };
  const LoadedObject* mid = find("libfx_mid.so");
  const LoadedObject* leaf = find("libfx_leaf.so");
  ASSERT_NE(mid, nullptr);
  ASSERT_NE(leaf, nullptr);
  EXPECT_FALSE(mid->info.has_rpath || mid->info.has_runpath);
  EXPECT_EQ(leaf->real_path, real(kFixtures + "/rpath_lib/libfx_leaf.so"));
  EXPECT_EQ(c->objects[*leaf->loader].soname, "libfx_mid.so");
  EXPECT_EQ(closure_paths(*c), traced_objects(kFixtures + "/fx_rpath"));
}

TEST(AnalyzeClosure, MissingLibraryNamesItTheNeederAndTheDirectories) {
  auto c = resolve_closure(kFixtures + "/fx_missing");
  ASSERT_FALSE(c.ok());
  std::string msg = c.error().str();
  EXPECT_NE(msg.find("libfx_gone.so"), std::string::npos) << msg;
  EXPECT_NE(msg.find("fx_missing"), std::string::npos) << msg;
  EXPECT_NE(msg.find("/etc/ld.so.cache"), std::string::npos) << msg;
  EXPECT_NE(msg.find("/usr/lib/x86_64-linux-gnu"), std::string::npos) << msg;
  EXPECT_EQ(c.error().kind, ErrorKind::kNotFound);
}

TEST(AnalyzeClosure, DlopenAddsThePluginOnce) {
  auto c = resolve_closure(kFixtures + "/fx_dlopen");
  ASSERT_TRUE(c.ok()) << c.error().str();
  size_t before = c->objects.size();
  auto added = resolve_dlopen(*c, 0, "libfx_plugin.so");
  ASSERT_TRUE(added.ok()) << added.error().str();
  ASSERT_FALSE(added->empty());
  const LoadedObject& plugin = c->objects[added->front()];
  EXPECT_EQ(plugin.real_path, real(kFixtures + "/libfx_plugin.so"));
  EXPECT_TRUE(plugin.dlopened);
  EXPECT_EQ(c->objects.size(), before + 1);  // its libc is already there
  auto again = resolve_dlopen(*c, 0, "libfx_plugin.so");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, std::vector<size_t>{added->front()});
  EXPECT_EQ(c->objects.size(), before + 1);
  // From an object without that RUNPATH the plugin is not found.
  auto libc = resolve_dlopen(*c, 0, "libc.so.6");
  ASSERT_TRUE(libc.ok());
  auto from_libc = resolve_dlopen(*c, libc->front(), "libfx_plugin_absent.so");
  EXPECT_FALSE(from_libc.ok());
}

TEST(AnalyzeClosure, LdSoCacheFindsLibc) {
  auto cache = read_ld_so_cache();
  ASSERT_TRUE(cache.ok()) << cache.error().str();
  EXPECT_GT(cache->size(), 10u);
  auto libc = cache->lookup("libc.so.6");
  ASSERT_TRUE(libc.has_value());
  EXPECT_EQ(real(*libc), real("/lib/x86_64-linux-gnu/libc.so.6"));
  EXPECT_FALSE(cache->lookup("libnot-a-library.so.9").has_value());
}

// A synthetic cache: the old table first, then the new one with a
// glibc-hwcaps entry before the ordinary one.
std::string synthetic_cache() {
  std::string strings;  // offsets are relative to the new header
  auto put32 = [](std::string& s, uint32_t v) { s.append(reinterpret_cast<char*>(&v), 4); };
  auto put64 = [](std::string& s, uint64_t v) { s.append(reinterpret_cast<char*>(&v), 8); };
  const uint32_t nlibs = 3;
  const uint32_t strings_at = 48 + 24 * nlibs;
  std::vector<std::string> texts = {"libx.so.1", "/opt/v3/libx.so.1", "/usr/lib/libx.so.1",
                                    "/lib32/libx.so.1", "x86-64-v3"};
  std::vector<uint32_t> offs;
  for (const auto& t : texts) {
    offs.push_back(strings_at + static_cast<uint32_t>(strings.size()));
    strings += t + '\0';
  }
  while (strings.size() % 4) strings += '\0';
  uint32_t ext_at = strings_at + static_cast<uint32_t>(strings.size());
  std::string n = "glibc-ld.so.cache1.1";
  put32(n, nlibs);
  put32(n, static_cast<uint32_t>(strings.size()));
  n += std::string(4, '\0');  // flags, padding
  put32(n, ext_at);
  n += std::string(12, '\0');
  // hwcaps entry (subdirectory 0), a 32-bit entry, the ordinary entry.
  put32(n, 0x0303), put32(n, offs[0]), put32(n, offs[1]), put32(n, 0), put64(n, 1ull << 62);
  put32(n, 0x0003), put32(n, offs[0]), put32(n, offs[3]), put32(n, 0), put64(n, 0);
  put32(n, 0x0303), put32(n, offs[0]), put32(n, offs[2]), put32(n, 0), put64(n, 0);
  n += strings;
  put32(n, static_cast<uint32_t>(-358342284));
  put32(n, 1);
  put32(n, 1), put32(n, 0), put32(n, ext_at + 24), put32(n, 4);
  put32(n, offs[4]);
  std::string old = "ld.so-1.7.0";
  old += '\0';
  put32(old, 1);
  old += std::string(12, '\0');  // one old entry
  while (old.size() % 8) old += '\0';
  return old + n;
}

TEST(AnalyzeClosure, LdSoCacheParsesOldPlusNewAndHwcaps) {
  auto cache = parse_ld_so_cache(synthetic_cache());
  ASSERT_TRUE(cache.ok()) << cache.error().str();
  EXPECT_EQ(cache->lookup("libx.so.1", {"x86-64-v3", "x86-64-v2"}), "/opt/v3/libx.so.1");
  EXPECT_EQ(cache->lookup("libx.so.1", {"x86-64-v2"}), "/usr/lib/libx.so.1");
  EXPECT_EQ(cache->lookup("libx.so.1", {}), "/usr/lib/libx.so.1");
  // Any truncation is an error or a smaller table, never a crash.
  std::string bytes = synthetic_cache();
  for (size_t len = 0; len < bytes.size(); ++len) (void)parse_ld_so_cache(bytes.substr(0, len));
}

TEST(AnalyzeClosure, DynamicStringTokensAsDebiansLdSo) {
  EXPECT_EQ(dst_lib(), "lib/x86_64-linux-gnu");
  // ld.so --help names the platform it expands $PLATFORM to.
  std::string help = run("/lib64/ld-linux-x86-64.so.2 --help");
  size_t at = help.find("(AT_PLATFORM;");
  if (at != std::string::npos) {
    size_t line = help.rfind('\n', at) + 1;
    std::string name = help.substr(line, at - line);
    name.erase(0, name.find_first_not_of(' '));
    name.erase(name.find_last_not_of(' ') + 1);
    EXPECT_EQ(dst_platform(), name);
  }
}

TEST(AnalyzeClosure, DynamicInfoRefusesOtherMachines) {
  char dir[] = "/tmp/least-closure-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  std::string path = std::string(dir) + "/elf32";
  {
    std::ofstream f(path, std::ios::binary);
    std::string header =
        "\x7f"
        "ELF";
    header += '\x01';  // ELFCLASS32
    header += '\x01';
    header += '\x01';
    header.resize(52, '\0');
    f << header;
  }
  auto info = read_dynamic_info(path);
  ASSERT_FALSE(info.ok());
  EXPECT_NE(info.error().str().find("32-bit"), std::string::npos) << info.error().str();
  EXPECT_EQ(check_elf_header(path).value(), ElfHeaderCheck::kOtherArch);
  ::unlink(path.c_str());
  ::rmdir(dir);
}

TEST(AnalyzeClosure, DynamicInfoOfLibc) {
  auto info = read_dynamic_info("/lib/x86_64-linux-gnu/libc.so.6");
  ASSERT_TRUE(info.ok()) << info.error().str();
  EXPECT_EQ(info->soname, "libc.so.6");
  EXPECT_EQ(info->needed, std::vector<std::string>{"ld-linux-x86-64.so.2"});
  EXPECT_EQ(info->build_id.size(), 40u);
  EXPECT_EQ(info->build_id.find_first_not_of("0123456789abcdef"), std::string::npos);
  auto ls = read_dynamic_info("/bin/ls");
  ASSERT_TRUE(ls.ok());
  EXPECT_EQ(ls->interpreter, "/lib64/ld-linux-x86-64.so.2");
}

// nginx and redis-server, unpacked without their services by
// scripts/install-deps.sh.
TEST(AnalyzeClosure, ServerBinariesMatchLdSo) {
  for (const std::string rel : {"/usr/sbin/nginx", "/usr/bin/redis-server"}) {
    std::string program = kServers + rel;
    SCOPED_TRACE(program);
    LEAST_NEED(::access(program.c_str(), X_OK) == 0,
               "no " + program + " (run scripts/install-deps.sh as root)");
    expect_same_as_ld_so(program);
  }
}

}  // namespace
}  // namespace least::analyze
