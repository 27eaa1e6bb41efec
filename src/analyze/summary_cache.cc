#include "analyze/summary_cache.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "base/unique_fd.h"

namespace least::analyze {

namespace {

constexpr char kMagic[8] = {'L', 'E', 'A', 'S', 'T', 'S', 'U', 'M'};
constexpr uint32_t kFormatVersion = 2;

// A fast 64-bit hash over 8-byte words (a few GB/s): it turns flipped or
// torn bytes into a miss, not into a wrong summary. Not cryptographic.
uint64_t hash_bytes(std::string_view s) {
  uint64_t h = 0x9e3779b97f4a7c15ull ^ s.size();
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    h = (h ^ w) * 0xff51afd7ed558ccdull;
    h ^= h >> 32;
  }
  uint64_t tail = 0;
  std::memcpy(&tail, s.data() + i, s.size() - i);
  h = (h ^ tail) * 0xc4ceb9fe1a85ec53ull;
  return h ^ (h >> 29);
}

class Writer {
 public:
  void u64(uint64_t v) {
    while (v >= 0x80) {
      out_ += static_cast<char>((v & 0x7f) | 0x80);
      v >>= 7;
    }
    out_ += static_cast<char>(v);
  }
  // Zigzag, for deltas that may go backwards.
  void s64(int64_t v) { u64((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63)); }
  void byte(uint8_t b) { out_ += static_cast<char>(b); }
  void str(const std::string& s) {
    u64(s.size());
    out_ += s;
  }
  void value(const Value& v) {
    byte(static_cast<uint8_t>(v.kind));
    u64(v.constants.size());
    for (uint64_t c : v.constants) u64(c);
    byte(v.argument);
  }
  // Most argument registers are unknown: a mask says which are not, and
  // only those follow.
  void values(const std::vector<Value>& vs) {
    u64(vs.size());
    uint8_t known = 0;
    for (size_t i = 0; i < vs.size() && i < 8; ++i)
      if (vs[i].kind != Value::Kind::unknown) known |= static_cast<uint8_t>(1u << i);
    byte(known);
    for (size_t i = 0; i < vs.size(); ++i)
      if (i >= 8 || (known & (1u << i))) value(vs[i]);
  }
  std::string& out() { return out_; }

 private:
  std::string out_;
};

// Every read is bounded by the bytes left; the first failure sticks and
// every later read returns zeros, so decoding code checks ok() at the end of
// each element only.
class Reader {
 public:
  explicit Reader(std::string_view in) : p_(in.data()), end_(in.data() + in.size()) {}
  bool ok() const { return ok_; }
  void invalid() { fail(); }
  bool at_end() const { return p_ == end_; }
  uint64_t u64() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ == end_) return fail();
      uint8_t b = static_cast<uint8_t>(*p_++);
      v |= uint64_t{b & 0x7fu} << shift;
      if (!(b & 0x80)) return v;
    }
    return fail();
  }
  int64_t s64() {
    uint64_t u = u64();
    return static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
  }
  uint8_t byte() {
    if (p_ == end_) return static_cast<uint8_t>(fail());
    return static_cast<uint8_t>(*p_++);
  }
  bool boolean() {
    uint8_t b = byte();
    if (b > 1) fail();
    return b == 1;
  }
  // A count of elements of at least `min_size` bytes each: never more than
  // the bytes left can hold, so a corrupt count cannot allocate much.
  size_t count(size_t min_size = 1) {
    uint64_t n = u64();
    if (n > static_cast<uint64_t>(end_ - p_) / min_size) return static_cast<size_t>(fail());
    return static_cast<size_t>(n);
  }
  std::string str() {
    size_t n = count();
    if (!ok_) return {};
    std::string s(p_, n);
    p_ += n;
    return s;
  }
  uint32_t u32() {
    uint64_t v = u64();
    if (v > UINT32_MAX) fail();
    return static_cast<uint32_t>(v);
  }
  Value value() {
    Value v;
    uint8_t kind = byte();
    if (kind > static_cast<uint8_t>(Value::Kind::argument)) fail();
    v.kind = static_cast<Value::Kind>(kind);
    v.constants.resize(count());
    for (uint64_t& c : v.constants) c = u64();
    v.argument = byte();
    return v;
  }
  std::vector<Value> values() {
    size_t n = count(1);
    if (n > 8) fail();  // six argument registers (seven with the number)
    uint8_t known = byte();
    std::vector<Value> vs(ok_ && known ? n : 0);  // all unknown: empty
    for (size_t i = 0; i < vs.size(); ++i)
      if (known & (1u << i)) vs[i] = value();
    return vs;
  }

 private:
  uint64_t fail() {
    ok_ = false;
    p_ = end_;
    return 0;
  }
  const char* p_;
  const char* end_;
  bool ok_ = true;
};

void encode_function(Writer& w, const Function& f, uint64_t previous_address) {
  w.u64(f.address - previous_address);  // sorted: deltas are small and positive
  w.u64(f.size);
  w.str(f.name);
  w.u64(f.calls.size());
  for (const CallSite& c : f.calls) {
    w.s64(static_cast<int64_t>(c.address - f.address));
    w.byte(static_cast<uint8_t>((c.local ? 1 : 0) | (c.import ? 2 : 0)));
    if (c.local) w.s64(static_cast<int64_t>(*c.local - f.address));
    if (c.import) w.u64(*c.import);
    w.values(c.args);
  }
  w.u64(f.syscalls.size());
  for (const SyscallSite& s : f.syscalls) {
    w.s64(static_cast<int64_t>(s.address - f.address));
    w.value(s.number);
    w.values(s.args);
  }
  w.u64(f.takes_address.size());
  for (uint64_t a : f.takes_address) w.s64(static_cast<int64_t>(a - f.address));
  w.u64(f.takes_import.size());
  for (uint32_t i : f.takes_import) w.u64(i);
  w.byte(f.indirect_calls ? 1 : 0);
}

Function decode_function(Reader& r, uint64_t previous_address) {
  Function f;
  f.address = previous_address + r.u64();
  f.size = r.u64();
  f.name = r.str();
  f.calls.resize(r.count(3));
  for (CallSite& c : f.calls) {
    c.address = f.address + static_cast<uint64_t>(r.s64());
    uint8_t which = r.byte();
    if (which > 3) r.invalid();
    if (which & 1) c.local = f.address + static_cast<uint64_t>(r.s64());
    if (which & 2) c.import = r.u32();
    c.args = r.values();
    if (!r.ok()) return f;
  }
  f.syscalls.resize(r.count(5));
  for (SyscallSite& s : f.syscalls) {
    s.address = f.address + static_cast<uint64_t>(r.s64());
    s.number = r.value();
    s.args = r.values();
    if (!r.ok()) return f;
  }
  f.takes_address.resize(r.count());
  for (uint64_t& a : f.takes_address) a = f.address + static_cast<uint64_t>(r.s64());
  f.takes_import.resize(r.count());
  for (uint32_t& i : f.takes_import) i = r.u32();
  f.indirect_calls = r.boolean();
  return f;
}

bool valid_build_id(const std::string& id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

template <class T>
void put_fixed(std::string& out, T v) {
  char buf[sizeof(T)];
  std::memcpy(buf, &v, sizeof(T));
  out.append(buf, sizeof(T));
}
template <class T>
T get_fixed(std::string_view in, size_t at) {
  T v;
  std::memcpy(&v, in.data() + at, sizeof(T));
  return v;
}

Status make_dirs(const std::string& dir) {
  // mkdir -p, each missing component 0700: summaries tell what a user's
  // programs contain.
  for (size_t pos = 1; pos <= dir.size(); ++pos) {
    if (pos != dir.size() && dir[pos] != '/') continue;
    std::string part = dir.substr(0, pos);
    if (::mkdir(part.c_str(), 0700) != 0 && errno != EEXIST)
      return sys_error("create cache directory " + part, errno);
  }
  return ok_status();
}

}  // namespace

SummaryCache::SummaryCache(std::string dir, uint32_t scanner_version)
    : dir_(std::move(dir)), scanner_version_(scanner_version) {}

std::string SummaryCache::path_for(const std::string& build_id) const {
  return dir_ + "/" + build_id + ".summary";
}

std::string SummaryCache::default_dir() {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  if (xdg && xdg[0] == '/') return std::string(xdg) + "/least/analyze";
  const char* home = std::getenv("HOME");
  return std::string(home && home[0] ? home : "/") + "/.cache/least/analyze";
}

std::string SummaryCache::encode(const ObjectSummary& s, uint32_t scanner_version) {
  Writer w;
  w.str(s.build_id);
  w.str(s.soname);
  w.u64(s.entry);
  w.u64(s.roots.size());
  for (uint64_t a : s.roots) w.u64(a);
  w.u64(s.functions.size());
  uint64_t previous = 0;
  for (const Function& f : s.functions) {
    encode_function(w, f, previous);
    previous = f.address;
  }
  w.u64(s.imports.size());
  for (const Import& i : s.imports) {
    w.str(i.name);
    w.str(i.version);
    w.byte(i.weak ? 1 : 0);
  }
  w.u64(s.exports.size());
  for (const Export& e : s.exports) {
    w.str(e.name);
    w.str(e.version);
    w.u64(e.address);
    w.byte(static_cast<uint8_t>((e.default_version ? 1 : 0) | (e.ifunc ? 2 : 0) |
                                (e.function ? 4 : 0)));
  }
  w.u64(s.data_address_taken.size());
  for (uint64_t a : s.data_address_taken) w.u64(a);
  w.u64(s.data_address_taken_imports.size());
  for (uint32_t i : s.data_address_taken_imports) w.u64(i);
  w.u64(s.strings.size());
  for (const auto& [address, text] : s.strings) {
    w.u64(address);
    w.str(text);
  }
  w.u64(s.notes.size());
  for (const std::string& n : s.notes) w.str(n);

  std::string out(kMagic, sizeof kMagic);
  put_fixed<uint32_t>(out, kFormatVersion);
  put_fixed<uint32_t>(out, scanner_version);
  put_fixed<uint64_t>(out, w.out().size());
  put_fixed<uint64_t>(out, hash_bytes(w.out()));
  out += w.out();
  return out;
}

std::optional<ObjectSummary> SummaryCache::decode(std::string_view bytes,
                                                  const std::string& build_id,
                                                  uint32_t scanner_version) {
  if (bytes.size() < kHeaderSize || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
    return std::nullopt;
  // magic, format version, scanner version, payload size, payload hash
  if (get_fixed<uint32_t>(bytes, 8) != kFormatVersion ||
      get_fixed<uint32_t>(bytes, 12) != scanner_version)
    return std::nullopt;
  std::string_view payload = bytes.substr(kHeaderSize);
  if (get_fixed<uint64_t>(bytes, 16) != payload.size() ||
      get_fixed<uint64_t>(bytes, 24) != hash_bytes(payload))
    return std::nullopt;
  return decode_payload(payload, build_id);
}

std::optional<ObjectSummary> SummaryCache::decode_payload(std::string_view payload,
                                                          const std::string& build_id) {
  Reader r(payload);
  ObjectSummary s;
  s.build_id = r.str();
  if (s.build_id != build_id) return std::nullopt;  // a renamed or mixed-up file
  s.soname = r.str();
  s.entry = r.u64();
  s.roots.resize(r.count());
  for (uint64_t& a : s.roots) a = r.u64();
  s.functions.resize(r.count(8));  // the smallest function takes 8 bytes
  uint64_t previous = 0;
  for (Function& f : s.functions) {
    f = decode_function(r, previous);
    if (!r.ok()) return std::nullopt;
    previous = f.address;
  }
  s.imports.resize(r.count(3));
  for (Import& i : s.imports) {
    i.name = r.str();
    i.version = r.str();
    i.weak = r.boolean();
  }
  s.exports.resize(r.count(4));
  for (Export& e : s.exports) {
    e.name = r.str();
    e.version = r.str();
    e.address = r.u64();
    uint8_t flags = r.byte();
    if (flags > 7) r.invalid();
    e.default_version = flags & 1;
    e.ifunc = flags & 2;
    e.function = flags & 4;
  }
  s.data_address_taken.resize(r.count());
  for (uint64_t& a : s.data_address_taken) a = r.u64();
  s.data_address_taken_imports.resize(r.count());
  for (uint32_t& i : s.data_address_taken_imports) i = r.u32();
  size_t nstrings = r.count(2);
  for (size_t i = 0; i < nstrings && r.ok(); ++i) {
    uint64_t address = r.u64();
    s.strings.emplace_hint(s.strings.end(), address, r.str());
  }
  s.notes.resize(r.count());
  for (std::string& n : s.notes) n = r.str();
  if (!r.ok() || !r.at_end()) return std::nullopt;
  return s;
}

std::optional<ObjectSummary> SummaryCache::load(const std::string& build_id) const {
  if (!valid_build_id(build_id)) return std::nullopt;
  try {
    UniqueFd fd(::open(path_for(build_id).c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return std::nullopt;
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
    // One read of the whole file: a few MB for the largest libraries.
    std::string bytes(static_cast<size_t>(st.st_size), '\0');
    size_t done = 0;
    while (done < bytes.size()) {
      ssize_t n = ::read(fd.get(), bytes.data() + done, bytes.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return std::nullopt;
      done += static_cast<size_t>(n);
    }
    return decode(bytes, build_id, scanner_version_);
  } catch (...) {
    // bad_alloc on a huge st_size: a miss like any other bad file.
    return std::nullopt;
  }
}

Status SummaryCache::store(const ObjectSummary& summary) const {
  if (summary.build_id.empty()) return ok_status();
  if (!valid_build_id(summary.build_id))
    return make_error(ErrorKind::kUsage,
                      "summary cache: build-id \"" + summary.build_id + "\" is not lowercase hex");
  LEAST_TRY(make_dirs(dir_));
  std::string bytes = encode(summary, scanner_version_);
  std::string tmp = dir_ + "/." + summary.build_id + ".XXXXXX";
  UniqueFd fd(::mkostemp(tmp.data(), O_CLOEXEC));
  if (!fd.valid()) return sys_error("create a temporary file in " + dir_, errno);
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd.get(), bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      ::unlink(tmp.c_str());
      return sys_error("write " + tmp, e);
    }
    done += static_cast<size_t>(n);
  }
  // No fsync: a file torn by a crash fails its hash and is a miss.
  fd.reset();
  if (::rename(tmp.c_str(), path_for(summary.build_id).c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return sys_error("rename " + tmp + " to " + path_for(summary.build_id), e);
  }
  return ok_status();
}

}  // namespace least::analyze
