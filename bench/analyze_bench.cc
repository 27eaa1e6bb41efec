// Timings of least analyze's pieces, outside the tests (no timed asserts):
//   analyze_bench closure PROGRAM...  resolve_closure per program (ms, best of 5)
//   analyze_bench cache DIR           store and load of a synthetic summary
//                                     with 60k functions (ms, file size)
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>

#include "analyze/library_closure.h"
#include "analyze/summary_cache.h"
#include "analyze/value.h"

using namespace least::analyze;

namespace {

template <class F>
double best_ms(int runs, F&& f) {
  double best = 1e300;
  for (int i = 0; i < runs; ++i) {
    auto a = std::chrono::steady_clock::now();
    f();
    auto b = std::chrono::steady_clock::now();
    best = std::min(best, std::chrono::duration<double, std::milli>(b - a).count());
  }
  return best;
}

// About a large library's worth: 60k functions, ~2.5 calls each with their
// six argument values, a syscall site every 50 functions.
ObjectSummary synthetic_summary() {
  std::mt19937_64 rng(1);
  ObjectSummary s;
  s.build_id = "aa11bb22cc33dd44ee55ff660011223344556677";
  s.soname = "libbig.so.1";
  uint64_t addr = 0x10000;
  for (int i = 0; i < 60000; ++i) {
    Function f;
    f.address = addr;
    f.size = 16 + rng() % 400;
    addr += f.size + rng() % 16;
    f.name = "function_name_" + std::to_string(i);
    for (int c = 0, calls = static_cast<int>(rng() % 6); c < calls; ++c) {
      CallSite cs;
      cs.address = f.address + rng() % f.size;
      if (rng() % 2)
        cs.local = 0x10000 + rng() % 0x1000000;
      else
        cs.import = static_cast<uint32_t>(rng() % 2000);
      for (int a = 0; a < 6; ++a)
        cs.args.push_back(rng() % 3 == 0 ? constant(rng() % 100) : Value{});
      f.calls.push_back(cs);
    }
    if (i % 50 == 0)
      f.syscalls.push_back(
          SyscallSite{f.address + 4, constant(rng() % 400), std::vector<Value>(6)});
    if (i % 10 == 0) f.takes_address.push_back(0x10000 + rng() % 0x1000000);
    s.functions.push_back(std::move(f));
  }
  for (int i = 0; i < 2000; ++i)
    s.imports.push_back({"import_" + std::to_string(i), "GLIBC_2.2.5", false});
  for (int i = 0; i < 3000; ++i)
    s.exports.push_back(
        {"export_" + std::to_string(i), "V1", true, 0x10000 + rng() % 0x1000000, false, true});
  return s;
}

int bench_cache(const std::string& dir) {
  ObjectSummary s = synthetic_summary();
  SummaryCache cache(dir);
  bool ok = true;
  double store = best_ms(5, [&] { ok &= cache.store(s).ok(); });
  std::optional<ObjectSummary> back;
  double load = best_ms(5, [&] { back = cache.load(s.build_id); });
  ok &= back == s;
  double copy = best_ms(5, [&] { ok &= ObjectSummary(s).functions.size() == s.functions.size(); });
  struct stat st {};
  ::stat(cache.path_for(s.build_id).c_str(), &st);
  std::printf(
      "summary of 60000 functions: store %.1f ms, load %.1f ms (an in-memory copy: %.1f ms), "
      "file %.2f MB%s\n",
      store, load, copy, static_cast<double>(st.st_size) / 1e6, ok ? "" : " (FAILED)");
  return ok ? 0 : 1;
}

int bench_closure(int argc, char** argv) {
  for (int i = 2; i < argc; ++i) {
    size_t objects = 0;
    std::string error;
    double ms = best_ms(5, [&] {
      auto c = resolve_closure(argv[i]);
      if (c)
        objects = c->objects.size();
      else
        error = c.error().str();
    });
    if (!error.empty())
      std::printf("%s: %s\n", argv[i], error.c_str());
    else
      std::printf("%s: %zu objects, %.2f ms\n", argv[i], objects, ms);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 3 && std::strcmp(argv[1], "cache") == 0) return bench_cache(argv[2]);
  if (argc >= 3 && std::strcmp(argv[1], "closure") == 0) return bench_closure(argc, argv);
  std::fprintf(stderr, "usage: analyze_bench closure PROGRAM... | analyze_bench cache DIR\n");
  return 2;
}
