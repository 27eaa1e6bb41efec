// record_with_ebpf and ebpf_available: the eBPF session (ebpf_session.h)
// wired to run_watched and the EventRecorder both backends share.
#include <fmt/format.h>
#include <linux/capability.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/unique_fd.h"
#include "learn/backend.h"
#include "learn/ebpf_session.h"
#include "learn/event_recorder.h"
#include "learn/watched_run.h"
#include "sys/syscall_table.h"

namespace least::learn {

namespace {

// The initial pid namespace's inode (PROC_PID_INIT_INO): the kernel's thread
// ids, which the BPF programs see, are the ones least sees only there.
constexpr ino_t kInitPidNamespace = 0xEFFFFFFCu;

bool effective_caps(bool& bpf, bool& perfmon) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (syscall(SYS_capget, &header, data) != 0) return false;
  auto has = [&](int cap) { return (data[cap / 32].effective >> (cap % 32)) & 1u; };
  bpf = has(CAP_BPF);
  perfmon = has(CAP_PERFMON);
  return true;
}

std::string plural(uint64_t n, const char* one, const char* many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

}  // namespace

Status ebpf_available() {
  if (geteuid() != 0) {
    bool bpf = false, perfmon = false;
    if (!effective_caps(bpf, perfmon)) return sys_error("read our capabilities", errno);
    if (!bpf || !perfmon)
      return make_error(
          ErrorKind::kUnsupported,
          fmt::format("it needs root or CAP_BPF and CAP_PERFMON (uid {} lacks {})", geteuid(),
                      !bpf && !perfmon ? "both"
                      : !bpf           ? "CAP_BPF"
                                       : "CAP_PERFMON"));
  }
  struct stat st;
  if (stat("/proc/self/ns/pid", &st) != 0) return sys_error("stat /proc/self/ns/pid", errno);
  if (st.st_ino != kInitPidNamespace)
    return make_error(ErrorKind::kUnsupported,
                      "it needs least in the initial pid namespace (the kernel's thread ids would "
                      "not match ours)");
  // The programs attach to BTF tracepoints: without the kernel's BTF they
  // cannot load. Whether the verifier accepts them is known only by loading
  // them, which costs as much as a session: EbpfSession::open says so then
  // (ErrorKind::kUnsupported), before the program has run.
  if (access("/sys/kernel/btf/vmlinux", R_OK) != 0)
    return make_error(ErrorKind::kUnsupported,
                      "the kernel has no BTF (/sys/kernel/btf/vmlinux) for its programs");
  return ok_status();
}

Result<Recording> record_with_ebpf(const RecordRequest& request) {
  Recording recording;
  recording.command = request.command;
  EventRecorder recorder(recording);
  // The programs are loaded once the launcher has created the sandbox's
  // first process, so that it does not inherit libbpf's two dozen
  // descriptors (it never execs, so close-on-exec would not close them):
  // only this epoll descriptor, which watches the ring buffer's, is made
  // before.
  UniqueFd epoll(epoll_create1(EPOLL_CLOEXEC));
  if (!epoll.valid()) return sys_error("learn (ebpf): epoll_create1", errno);
  std::unique_ptr<EbpfSession> session;
  WatchHooks hooks;
  hooks.filter = nullptr;  // nothing in the program's way: the kernel watches
  hooks.on_started = [&](pid_t root) -> Status {
    auto s = EbpfSession::open([&](const SyscallEvent& e) { recorder.record(e); },
                               [](int nr) { return capture_spec(nr); });
    if (!s) return std::move(s).error();
    session = std::move(*s);
    LEAST_TRY(session->track(root));
    struct epoll_event ev = {};
    ev.events = EPOLLIN;
    if (epoll_ctl(epoll.get(), EPOLL_CTL_ADD, session->epoll_fd(), &ev) != 0)
      return sys_error("watch the ring buffer", errno);
    return ok_status();
  };
  hooks.watched.push_back(
      {epoll.get(), [&]() -> Status { return session ? session->consume() : ok_status(); }});
  // Events wake nobody (a wake-up per event cost tar a context switch per
  // opened file): they are read at each tick, and the kernel side wakes us
  // early only when the ring buffer is half full.
  Status tick_status = ok_status();
  hooks.on_tick = [&] {
    if (session && tick_status) tick_status = session->consume();
  };
  if (auto r = run_watched(request, hooks, recording); !r)
    return std::move(r).context("learn (ebpf)").error();
  if (!session) return make_error(ErrorKind::kSystem, "learn (ebpf): the program started untraced");
  if (!tick_status) return std::move(tick_status).context("learn (ebpf)").error();
  EbpfSession& s = *session;
  // What the tree sent after the launcher's last look.
  if (auto r = s.consume(); !r) return std::move(r).context("learn (ebpf)").error();

  auto counts = s.counts();
  if (!counts) return std::move(counts).context("learn (ebpf)").error();
  for (int nr = 0; nr < kEbpfMaxSyscalls; ++nr)
    if ((*counts)[nr] > 0) recorder.count(nr, (*counts)[nr]);
  auto values = s.values();
  if (!values) return std::move(values).context("learn (ebpf)").error();
  for (const auto& v : *values) recorder.value(v.nr, v.arg, v.value);

  auto losses = s.losses();
  if (!losses) return std::move(losses).context("learn (ebpf)").error();
  if (losses->ring_buffer_full)
    recording.lost.push_back(
        plural(losses->ring_buffer_full, "call's arguments", "calls' arguments") +
        ": the ring buffer was full (counted, paths and addresses not seen)");
  if (losses->too_long)
    recording.lost.push_back(plural(losses->too_long, "call's arguments", "calls' arguments") +
                             ": longer than the 16 KiB an event can carry (counted, not seen)");
  if (losses->retry_full)
    recording.lost.push_back(
        plural(losses->retry_full, "call's arguments", "calls' arguments") +
        ": not in memory at the call and no room to read them at its return (counted, not seen)");
  if (losses->values_full)
    recording.lost.push_back(plural(losses->values_full, "argument value", "argument values") +
                             ": the values map was full (the calls were counted)");
  recorder.finish();
  return recording;
}

}  // namespace least::learn
