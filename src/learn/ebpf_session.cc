#include "learn/ebpf_session.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fmt/format.h>

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
void EbpfSession::LinkCloser::operator()(bpf_link* l) const {
  bpf_link__destroy(l);
}
void EbpfSession::RingCloser::operator()(ring_buffer* r) const {
  ring_buffer__free(r);
}

EbpfSession::~EbpfSession() = default;

namespace {

using ObjectPtr = std::unique_ptr<bpf_object, void (*)(bpf_object*)>;

Result<ObjectPtr> open_object() {
  start_log();
  LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = "least_learn");
  size_t size = static_cast<size_t>(least_learn_bpf_end - least_learn_bpf_start);
  bpf_object* o = bpf_object__open_mem(least_learn_bpf_start, size, &opts);
  if (!o) return bpf_error("open the embedded BPF object", errno);
  return ObjectPtr(o, bpf_object__close);
}

Status load_object(bpf_object* o) {
  if (int err = bpf_object__load(o); err != 0) {
    Error e = bpf_error("load the BPF programs", -err);
    e.kind = ErrorKind::kUnsupported;
    return e;
  }
  return ok_status();
}

}  // namespace

Result<std::unique_ptr<EbpfSession>> EbpfSession::open(EventSink sink, const SpecOf& spec_of) {
  std::unique_ptr<EbpfSession> s(new EbpfSession());
  s->sink_ = std::move(sink);
  auto o = open_object();
  if (!o) return std::move(o).error();
  s->object_.reset(o->release());
  LEAST_TRY(load_object(s->object_.get()));

  auto map_fd = [&](const char* name) -> Result<int> {
    bpf_map* m = bpf_object__find_map_by_name(s->object_.get(), name);
    if (!m) return make_error(ErrorKind::kSystem, fmt::format("BPF map {} missing", name));
    return bpf_map__fd(m);
  };
  auto specs_fd = map_fd("specs");
  auto tracked_fd = map_fd("tracked");
  auto counts_fd = map_fd("counts");
  auto losses_fd = map_fd("losses");
  auto events_fd = map_fd("events");
  for (auto* r : {&specs_fd, &tracked_fd, &counts_fd, &losses_fd, &events_fd})
    if (!*r) return r->error();
  auto values_fd = map_fd("values");
  if (!values_fd) return values_fd.error();
  s->values_fd_ = *values_fd;
  s->tracked_fd_ = *tracked_fd;
  s->counts_fd_ = *counts_fd;
  s->losses_fd_ = *losses_fd;

  const int socket_nr = sys::syscall_number("socket", sys::native_arch()).value_or(-1);
  // The capture table lives once, in capture_spec; the kernel gets a copy.
  for (int nr = 0; nr < kEbpfMaxSyscalls; ++nr) {
    CaptureSpec c = spec_of(nr);
    if (!c.any()) continue;
    learn_spec k{};
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
    uint32_t key = static_cast<uint32_t>(nr);
    if (bpf_map_update_elem(*specs_fd, &key, &k, BPF_ANY) != 0)
      return sys_error(fmt::format("fill the capture table (syscall {})", nr), errno);
  }

  s->ring_.reset(ring_buffer__new(*events_fd, &EbpfSession::on_sample, s.get(), nullptr));
  if (!s->ring_) return bpf_error("create the ring buffer reader", errno);

  bpf_program* prog;
  bpf_object__for_each_program(prog, s->object_.get()) {
    bpf_link* link = bpf_program__attach(prog);
    if (!link) return bpf_error(fmt::format("attach {}", bpf_program__name(prog)), errno);
    s->links_.emplace_back(link);
  }
  return s;
}

Status EbpfSession::track(pid_t root) {
  uint32_t key = static_cast<uint32_t>(root);
  uint8_t state = LEARN_PENDING;
  if (bpf_map_update_elem(tracked_fd_, &key, &state, BPF_ANY) != 0)
    return sys_error(fmt::format("track process {}", root), errno);
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
  auto t = sum_percpu(counts_fd_, kEbpfMaxSyscalls, "counts");
  if (!t) return std::move(t).error();
  std::array<uint64_t, kEbpfMaxSyscalls> out{};
  std::copy(t->begin(), t->end(), out.begin());
  return out;
}

Result<EbpfLosses> EbpfSession::losses() const {
  auto t = sum_percpu(losses_fd_, LEARN_LOST_COUNT, "losses");
  if (!t) return std::move(t).error();
  EbpfLosses l;
  l.ring_buffer_full = (*t)[LEARN_LOST_RINGBUF];
  l.too_long = (*t)[LEARN_LOST_TOO_LONG];
  l.untracked = (*t)[LEARN_LOST_UNTRACKED];
  l.retry_full = (*t)[LEARN_LOST_RETRY];
  l.values_full = (*t)[LEARN_LOST_VALUES];
  return l;
}

Result<std::vector<ArgumentValue>> EbpfSession::values() const {
  std::vector<ArgumentValue> out;
  learn_value_key key{}, next{};
  const learn_value_key* prev = nullptr;
  while (bpf_map_get_next_key(values_fd_, prev, &next) == 0) {
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
