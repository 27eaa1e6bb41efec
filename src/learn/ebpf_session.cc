#include "learn/ebpf_session.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fmt/format.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstdarg>
#include <cstring>
#include <mutex>
#include <string_view>

#include "learn/ebpf/learn_abi.h"
#include "sys/syscall_table.h"

extern "C" const char least_learn_bpf_start[];
extern "C" const char least_learn_bpf_end[];

namespace least::learn {

static_assert(kEbpfMaxSyscalls == LEARN_MAX_SYSCALLS);
static_assert(kMaxCapturedString == LEARN_MAX_STRING);
static_assert(kMaxCapturedSockaddr == LEARN_MAX_SOCKADDR);

namespace {

// libbpf's messages (the verifier's log among them) go here rather than to
// stderr, so that a failure can say why in its error.
std::mutex log_mutex;
std::string libbpf_log;

int collect_log(enum libbpf_print_level level, const char* format, va_list args) {
  if (level == LIBBPF_DEBUG) return 0;
  // The verifier's whole log, for whoever changes learn.bpf.c.
  if (getenv("LEAST_LIBBPF_LOG")) {
    va_list copy;
    va_copy(copy, args);
    vfprintf(stderr, format, copy);
    va_end(copy);
  }
  char line[1024];
  int n = vsnprintf(line, sizeof line, format, args);
  std::lock_guard lock(log_mutex);
  libbpf_log += line;
  // The end says what failed; keep it bounded.
  if (libbpf_log.size() > 8192) libbpf_log.erase(0, libbpf_log.size() - 8192);
  return n;
}

void start_log() {
  static std::once_flag once;
  std::call_once(once, [] { libbpf_set_print(collect_log); });
  std::lock_guard lock(log_mutex);
  libbpf_log.clear();
}

// The end of libbpf's log (its last lines say what failed), for an error
// message.
std::string log_reason() {
  std::lock_guard lock(log_mutex);
  std::vector<std::string_view> lines;
  std::string_view log = libbpf_log;
  while (!log.empty()) {
    auto nl = log.find('\n');
    std::string_view line = log.substr(0, nl);
    if (line.starts_with("libbpf: ")) line.remove_prefix(8);
    if (!line.empty()) lines.push_back(line);
    if (nl == std::string_view::npos) break;
    log.remove_prefix(nl + 1);
  }
  std::string out;
  for (size_t i = lines.size() > 3 ? lines.size() - 3 : 0; i < lines.size(); ++i)
    out += (out.empty() ? "" : "; ") + std::string(lines[i]);
  return out.empty() ? "" : " (libbpf: " + out + ")";
}

Error bpf_error(const std::string& what, int err) {
  Error e = sys_error(what, err);
  e.message += log_reason();
  return e;
}

// The *at calls: path argument -> its directory descriptor argument.
struct DirfdRule {
  const char* name;
  int8_t path_arg, dirfd_arg;
};
constexpr DirfdRule kDirfdRules[] = {
    {"openat", 1, 0},        {"openat2", 1, 0},       {"mkdirat", 1, 0},
    {"mknodat", 1, 0},       {"fchownat", 1, 0},      {"futimesat", 1, 0},
    {"newfstatat", 1, 0},    {"unlinkat", 1, 0},      {"renameat", 1, 0},
    {"renameat", 3, 2},      {"renameat2", 1, 0},     {"renameat2", 3, 2},
    {"linkat", 1, 0},        {"linkat", 3, 2},        {"symlinkat", 2, 1},
    {"symlinkat", 0, -2},    {"symlink", 0, -2},      {"readlinkat", 1, 0},
    {"fchmodat", 1, 0},      {"fchmodat2", 1, 0},     {"faccessat", 1, 0},
    {"faccessat2", 1, 0},    {"utimensat", 1, 0},     {"name_to_handle_at", 1, 0},
    {"execveat", 1, 0},      {"statx", 1, 0},         {"open_tree", 1, 0},
    {"move_mount", 1, 0},    {"move_mount", 3, 2},    {"mount_setattr", 1, 0},
    {"fanotify_mark", 4, 3}, {"setxattrat", 1, 0},    {"getxattrat", 1, 0},
    {"listxattrat", 1, 0},   {"removexattrat", 1, 0}, {"file_getattr", 1, 0},
    {"file_setattr", 1, 0},
};

}  // namespace

int dirfd_arg_of(int nr, int path_arg) {
  auto name = sys::syscall_name(nr, sys::native_arch());
  if (!name) return LEARN_CWD;
  for (const auto& r : kDirfdRules)
    if (*name == r.name && r.path_arg == path_arg) return r.dirfd_arg;
  return LEARN_CWD;
}

void EbpfSession::ObjectCloser::operator()(bpf_object* o) const {
  bpf_object__close(o);
}
void EbpfSession::RingCloser::operator()(ring_buffer* r) const {
  ring_buffer__free(r);
}
void EbpfSession::Unmapper::operator()(uint64_t* words) const {
  munmap(words, size);
}

EbpfSession::~EbpfSession() = default;

namespace {

// What user space touches of the object: the maps it fills, reads or resets
// (the order of EbpfSession::Map) and every program, each attached to its
// tracepoint. A map only the programs use (scratch_area) is kept alive by
// them and needs no pin.
constexpr const char* kMapNames[] = {"specs",  "tracked", "counts",  "losses",
                                     "events", "values",  "retries", "pending"};
constexpr const char* kProgramNames[] = {"on_sys_enter", "on_sys_exit", "on_fork", "on_exec",
                                         "on_exit"};

std::string_view embedded_object() {
  return {least_learn_bpf_start, static_cast<size_t>(least_learn_bpf_end - least_learn_bpf_start)};
}

// Deletes every entry of a hash map (a reused set's leftovers: the threads
// and values of an earlier run).
Status clear_hash(int fd, size_t key_size, const char* what) {
  std::vector<std::vector<char>> keys;
  std::vector<char> key(key_size), at(key_size);
  const void* prev = nullptr;
  while (bpf_map_get_next_key(fd, prev, key.data()) == 0) {
    keys.push_back(key);
    at = key;
    prev = at.data();
  }
  if (errno != ENOENT) return sys_error(fmt::format("read the {} map to reset it", what), errno);
  for (const auto& k : keys)
    if (bpf_map_delete_elem(fd, k.data()) != 0 && errno != ENOENT)
      return sys_error(fmt::format("reset the {} map", what), errno);
  return ok_status();
}

// Zeroes every counter of a per-CPU array of u64, in one call.
Status zero_percpu(int fd, uint32_t entries, const char* what) {
  int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0) return sys_error("count the possible CPUs", -cpus);
  std::vector<uint32_t> keys(entries);
  for (uint32_t i = 0; i < entries; ++i) keys[i] = i;
  std::vector<uint64_t> zeros(static_cast<size_t>(entries) * static_cast<size_t>(cpus));
  uint32_t count = entries;
  if (bpf_map_update_batch(fd, keys.data(), zeros.data(), &count, nullptr) != 0)
    return sys_error(fmt::format("reset the {} map", what), errno);
  return ok_status();
}

}  // namespace

Status EbpfSession::load_fresh() {
  start_log();
  LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = "least_learn");
  std::string_view bytes = embedded_object();
  bpf_object* o = bpf_object__open_mem(bytes.data(), bytes.size(), &opts);
  if (!o) return bpf_error("open the embedded BPF object", errno);
  object_.reset(o);
  if (int err = bpf_object__load(o); err != 0) {
    Error e = bpf_error("load the BPF programs", -err);
    e.kind = ErrorKind::kUnsupported;
    return e;
  }
  for (int i = 0; i < kMapCount; ++i) {
    bpf_map* m = bpf_object__find_map_by_name(o, kMapNames[i]);
    if (!m) return make_error(ErrorKind::kSystem, fmt::format("BPF map {} missing", kMapNames[i]));
    map_fds_[i] = bpf_map__fd(m);
  }
  int programs = 0;
  bpf_program* prog;
  bpf_object__for_each_program(prog, o) {
    std::string_view name = bpf_program__name(prog);
    auto it = std::find(std::begin(kProgramNames), std::end(kProgramNames), name);
    // A program this list does not name would be loaded but never attached.
    if (it == std::end(kProgramNames))
      return make_error(ErrorKind::kSystem,
                        fmt::format("the BPF object's program {} is not attached by least", name));
    prog_fds_[it - std::begin(kProgramNames)] = bpf_program__fd(prog);
    ++programs;
  }
  if (programs != kProgramCount)
    return make_error(
        ErrorKind::kSystem,
        fmt::format("the BPF object has {} of least's {} programs", programs, kProgramCount));
  return ok_status();
}

Status EbpfSession::open_pins() {
  for (int i = 0; i < kMapCount; ++i) {
    auto fd = slot_->open(std::string("map_") + kMapNames[i]);
    if (!fd) return std::move(fd).error();
    map_fds_[i] = fd->get();
    pinned_.push_back(std::move(*fd));
  }
  for (int i = 0; i < kProgramCount; ++i) {
    auto fd = slot_->open(std::string("prog_") + kProgramNames[i]);
    if (!fd) return std::move(fd).error();
    prog_fds_[i] = fd->get();
    pinned_.push_back(std::move(*fd));
  }
  return ok_status();
}

Status EbpfSession::pin_all() {
  // The programs last: a set is used only when every pin is there, so a run
  // that dies while pinning leaves a set the next one clears.
  for (int i = 0; i < kMapCount; ++i)
    if (bpf_obj_pin(map_fds_[i], slot_->path(std::string("map_") + kMapNames[i]).c_str()) != 0)
      return sys_error(fmt::format("pin the BPF map {} in {}", kMapNames[i], slot_->dir()), errno);
  for (int i = 0; i < kProgramCount; ++i)
    if (bpf_obj_pin(prog_fds_[i], slot_->path(std::string("prog_") + kProgramNames[i]).c_str()) !=
        0)
      return sys_error(fmt::format("pin the BPF program {} in {}", kProgramNames[i], slot_->dir()),
                       errno);
  return ok_status();
}

Status EbpfSession::reset_maps() {
  // Nothing is attached between runs, so these change only while a run
  // holds the slot: reset here, before attaching, nothing races with it.
  std::fill_n(tracked_.get(), LEARN_TRACKED_WORDS, 0);
  LEAST_TRY(clear_hash(map_fds_[kRetries], sizeof(uint32_t), "retries"));
  LEAST_TRY(clear_hash(map_fds_[kValues], sizeof(learn_value_key), "values"));
  LEAST_TRY(zero_percpu(map_fds_[kCounts], kEbpfMaxSyscalls, "counts"));
  LEAST_TRY(zero_percpu(map_fds_[kLosses], LEARN_LOST_COUNT, "losses"));
  uint32_t zero = 0;
  int64_t none = 0;
  if (bpf_map_update_elem(map_fds_[kPending], &zero, &none, BPF_ANY) != 0)
    return sys_error("reset the pending map", errno);
  return ok_status();  // the specs are written whole by open()
}

Result<std::unique_ptr<EbpfSession>> EbpfSession::open(EventSink sink, const SpecOf& spec_of,
                                                       const std::string& pin_root) {
  std::unique_ptr<EbpfSession> s(new EbpfSession());
  s->sink_ = std::move(sink);
  if (!pin_root.empty()) s->slot_ = PinSlot::acquire(object_version(embedded_object()), pin_root);
  if (s->slot_) {
    if (s->open_pins()) {
      s->reused_ = true;
    } else {
      // None yet, or partial (a run died while pinning): made below.
      s->pinned_.clear();
      s->slot_->clear();
    }
  }
  if (!s->reused_) {
    LEAST_TRY(s->load_fresh());
    // Kept for the next run when it can be; this run works the same if not.
    if (s->slot_ && !s->pin_all()) {
      s->slot_->clear();
      s->slot_.reset();
    }
  }
  constexpr size_t kTrackedBytes = LEARN_TRACKED_WORDS * sizeof(uint64_t);
  void* words =
      mmap(nullptr, kTrackedBytes, PROT_READ | PROT_WRITE, MAP_SHARED, s->map_fds_[kTracked], 0);
  if (words == MAP_FAILED) return sys_error("map the tracked-thread map", errno);
  s->tracked_ =
      std::unique_ptr<uint64_t[], Unmapper>(static_cast<uint64_t*>(words), Unmapper{kTrackedBytes});
  if (s->reused_) LEAST_TRY(s->reset_maps());

  const int socket_nr = sys::syscall_number("socket", sys::native_arch()).value_or(-1);
  // The capture table lives once, in capture_spec; the kernel gets a copy,
  // every entry written in one call (a reused set holds an earlier run's).
  std::vector<uint32_t> keys(kEbpfMaxSyscalls);
  std::vector<learn_spec> specs(kEbpfMaxSyscalls);
  for (int nr = 0; nr < kEbpfMaxSyscalls; ++nr) {
    keys[nr] = static_cast<uint32_t>(nr);
    CaptureSpec c = spec_of(nr);
    if (!c.any()) continue;
    learn_spec& k = specs[nr];
    // An event when there is memory to copy; socket too, as the recorder
    // needs its family and type per thread to tell the protocol of a bind
    // or connect whose socket is closed by the time it reads the event.
    k.capture = c.string_args || c.sockaddr_arg >= 0 || nr == socket_nr;
    k.value_args = c.value_args;
    k.string_args = c.string_args;
    k.sockaddr_arg = c.sockaddr_arg;
    k.sockaddr_len_arg = c.sockaddr_len_arg;
    for (int i = 0; i < 6; ++i)
      k.dirfd_arg[i] = static_cast<int8_t>((c.string_args & (1 << i)) ? dirfd_arg_of(nr, i) : -1);
    s->string_args_[nr] = c.string_args;
  }
  uint32_t count = kEbpfMaxSyscalls;
  if (bpf_map_update_batch(s->map_fds_[kSpecs], keys.data(), specs.data(), &count, nullptr) != 0)
    return sys_error("fill the capture table", errno);

  s->ring_.reset(ring_buffer__new(s->map_fds_[kEvents], &EbpfSession::on_sample, s.get(), nullptr));
  if (!s->ring_) return bpf_error("create the ring buffer reader", errno);
  if (s->reused_) {
    // What an earlier run left unread (it died, or stopped reading early).
    s->discarding_ = true;
    int n = ring_buffer__consume(s->ring_.get());
    s->discarding_ = false;
    if (n < 0) return sys_error("drain the reused ring buffer", -n);
  }

  for (int i = 0; i < kProgramCount; ++i) {
    int link = bpf_raw_tracepoint_open(nullptr, s->prog_fds_[i]);
    if (link < 0) return bpf_error(fmt::format("attach {}", kProgramNames[i]), errno);
    s->links_.emplace_back(link);
  }
  return s;
}

Status EbpfSession::track(pid_t root) {
  auto tid = static_cast<uint32_t>(root);
  if (tid >= LEARN_MAX_TIDS)
    return make_error(ErrorKind::kSystem,
                      fmt::format("track process {}: beyond the {} thread ids the kernel can hand "
                                  "out",
                                  root, LEARN_MAX_TIDS));
  // Pending: the launcher's own setup, until the program's execve.
  uint64_t bit = uint64_t{LEARN_BIT_TRACKED} << ((tid % LEARN_TIDS_PER_WORD) * 2);
  __atomic_fetch_or(&tracked_[tid / LEARN_TIDS_PER_WORD], bit, __ATOMIC_SEQ_CST);
  return ok_status();
}

int EbpfSession::epoll_fd() const {
  return ring_buffer__epoll_fd(ring_.get());
}

Status EbpfSession::fail_sample(std::string why) {
  if (sample_error_.empty()) sample_error_ = std::move(why);
  return ok_status();
}

int EbpfSession::on_sample(void* ctx, void* data, size_t size) {
  auto* self = static_cast<EbpfSession*>(ctx);
  if (self->discarding_) return 0;
  learn_event hdr;
  if (size < sizeof hdr) {
    (void)self->fail_sample(
        fmt::format("a BPF event of {} bytes is shorter than its header", size));
    return -EINVAL;
  }
  memcpy(&hdr, data, sizeof hdr);
  const char* p = static_cast<const char*>(data) + sizeof hdr;
  size_t left = size - sizeof hdr;
  auto take = [&](size_t n) -> std::optional<std::string_view> {
    if (n > left) return std::nullopt;
    std::string_view v(p, n);
    p += n;
    left -= n;
    return v;
  };

  SyscallEvent e;
  e.pid = static_cast<pid_t>(hdr.tid);
  e.nr = hdr.nr;
  for (int i = 0; i < 6; ++i) e.args[i] = hdr.args[i];
  for (int i = 0; i < 6; ++i) {
    std::optional<std::string> dir;
    if (hdr.dir_len[i] != LEARN_UNREADABLE) {
      auto raw = take(hdr.dir_len[i]);
      if (!raw) return self->fail_sample("a BPF event's directory overruns it"), -EINVAL;
      // Components come leaf first, each NUL-terminated.
      std::vector<std::string_view> parts;
      while (!raw->empty()) {
        auto nul = raw->find('\0');
        if (nul == std::string_view::npos) nul = raw->size();
        parts.push_back(raw->substr(0, nul));
        raw->remove_prefix(std::min(raw->size(), nul + 1));
      }
      std::string d;
      for (auto it = parts.rbegin(); it != parts.rend(); ++it) d += "/" + std::string(*it);
      dir = d;
    }
    if (hdr.len[i] == LEARN_UNREADABLE || hdr.len[i] == 0) continue;
    auto raw = take(hdr.len[i]);
    if (!raw) return self->fail_sample("a BPF event's argument overruns it"), -EINVAL;
    std::string value(*raw);
    bool is_string = e.nr >= 0 && e.nr < kEbpfMaxSyscalls && (self->string_args_[e.nr] & (1 << i));
    if (is_string) {
      if (!value.empty() && value.back() == '\0') value.pop_back();
      // Made absolute against the directory the kernel saw at the call.
      if (dir) value = *dir + "/" + value;  // dir is "" for the root
    }
    e.memory[i] = std::move(value);
  }
  self->sink_(e);
  return 0;
}

Status EbpfSession::consume() {
  int n = ring_buffer__consume(ring_.get());
  if (!sample_error_.empty())
    return make_error(ErrorKind::kSystem, "read BPF events: " + sample_error_);
  if (n < 0) return sys_error("read BPF events", -n);
  return ok_status();
}

namespace {

Result<std::vector<uint64_t>> sum_percpu(int fd, uint32_t entries, const char* what) {
  int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0) return sys_error("count the possible CPUs", -cpus);
  std::vector<uint64_t> per_cpu(static_cast<size_t>(cpus)), total(entries);
  for (uint32_t key = 0; key < entries; ++key) {
    if (bpf_map_lookup_elem(fd, &key, per_cpu.data()) != 0)
      return sys_error(fmt::format("read the {} map", what), errno);
    for (uint64_t v : per_cpu) total[key] += v;
  }
  return total;
}

}  // namespace

Result<std::array<uint64_t, kEbpfMaxSyscalls>> EbpfSession::counts() const {
  auto t = sum_percpu(map_fds_[kCounts], kEbpfMaxSyscalls, "counts");
  if (!t) return std::move(t).error();
  std::array<uint64_t, kEbpfMaxSyscalls> out{};
  std::copy(t->begin(), t->end(), out.begin());
  return out;
}

Result<EbpfLosses> EbpfSession::losses() const {
  auto t = sum_percpu(map_fds_[kLosses], LEARN_LOST_COUNT, "losses");
  if (!t) return std::move(t).error();
  EbpfLosses l;
  l.ring_buffer_full = (*t)[LEARN_LOST_RINGBUF];
  l.too_long = (*t)[LEARN_LOST_TOO_LONG];
  l.retry_full = (*t)[LEARN_LOST_RETRY];
  l.values_full = (*t)[LEARN_LOST_VALUES];
  return l;
}

Result<std::vector<ArgumentValue>> EbpfSession::values() const {
  std::vector<ArgumentValue> out;
  learn_value_key key{}, next{};
  const learn_value_key* prev = nullptr;
  while (bpf_map_get_next_key(map_fds_[kValues], prev, &next) == 0) {
    out.push_back({next.nr, static_cast<int>(next.arg), next.value});
    key = next;
    prev = &key;
  }
  if (errno != ENOENT) return sys_error("read the values map", errno);
  // The map's order is its hash's: sorted, so the kept values do not depend
  // on it when an argument has more than the recorder keeps.
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace least::learn
