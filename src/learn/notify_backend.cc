// The seccomp-notification backend: every syscall of the program's tree
// stops in the kernel until we have copied what capture_spec asks for, then
// goes on unchanged (SECCOMP_USER_NOTIF_FLAG_CONTINUE).
#include <errno.h>
#include <fmt/format.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "enforce/seccomp_filter.h"
#include "learn/backend.h"
#include "learn/event_recorder.h"
#include "learn/process_tree.h"
#include "learn/watched_run.h"
#include "plan/plan.h"
#include "sys/syscall_table.h"

namespace least::learn {

namespace {

// Reads a NUL-terminated string page by page (it may end just before an
// unmapped page); nullopt when nothing could be read or no NUL came.
std::optional<std::string> read_string(pid_t pid, uint64_t addr) {
  std::string out(kMaxCapturedString, '\0');
  size_t got = 0;
  while (got < out.size()) {
    size_t chunk = std::min(out.size() - got, 4096 - ((addr + got) % 4096));
    struct iovec local = {out.data() + got, chunk};
    struct iovec remote = {reinterpret_cast<void*>(addr + got), chunk};
    ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
    if (n <= 0) break;
    size_t nul = out.find('\0', got);
    got += static_cast<size_t>(n);
    if (nul < got) {
      out.resize(nul);
      return out;
    }
  }
  return std::nullopt;
}

std::optional<std::string> read_bytes(pid_t pid, uint64_t addr, uint64_t len) {
  std::string out(std::min<uint64_t>(len, kMaxCapturedSockaddr), '\0');
  struct iovec local = {out.data(), out.size()};
  struct iovec remote = {reinterpret_cast<void*>(addr), out.size()};
  if (out.empty()) return out;
  if (process_vm_readv(pid, &local, 1, &remote, 1, 0) != static_cast<ssize_t>(out.size()))
    return std::nullopt;
  return out;
}

struct CtxDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};

// Every syscall notifies, on every ABI; only the launcher's hand-over of the
// listener (sendmsg on its socket, closed at exec) runs unseen.
Result<enforce::BpfProgram> notify_everything_filter() {
  std::unique_ptr<void, CtxDeleter> ctx(seccomp_init(SCMP_ACT_NOTIFY));
  if (!ctx) return make_error(ErrorKind::kSystem, "libseccomp could not create a filter");
  auto fail = [](const char* what, int rc) { return sys_error(what, -rc); };
  if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_NOTIFY); rc < 0)
    return fail("set the bad-architecture action", rc);
  if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0); rc < 0)
    return fail("configure no_new_privs", rc);
  struct scmp_arg_cmp launcher_socket = {0, SCMP_CMP_MASKED_EQ, 0xffffffff,
                                         static_cast<uint64_t>(plan::kLauncherSocketFd)};
  if (int rc = seccomp_rule_add_exact_array(ctx.get(), SCMP_ACT_ALLOW, SCMP_SYS(sendmsg), 1,
                                            &launcher_socket);
      rc < 0)
    return fail("allow the listener hand-over", rc);
  UniqueFd fd(memfd_create("least-learn-seccomp", MFD_CLOEXEC));
  if (!fd.valid()) return sys_error("memfd_create", errno);
  if (int rc = seccomp_export_bpf(ctx.get(), fd.get()); rc < 0)
    return fail("export the filter", rc);
  off_t size = lseek(fd.get(), 0, SEEK_END);
  if (size < 0) return sys_error("measure the exported filter", errno);
  enforce::BpfProgram prog;
  prog.code.resize(static_cast<size_t>(size) / sizeof(sock_filter));
  const size_t bytes = prog.code.size() * sizeof(sock_filter);
  if (pread(fd.get(), prog.code.data(), bytes, 0) != static_cast<ssize_t>(bytes))
    return sys_error("read back the exported filter", errno);
  prog.needs_listener = true;
  return prog;
}

class NotifyRecorder : public enforce::NotificationHandler {
 public:
  // `foreign_abi` counts calls through another ABI; it outlives us.
  NotifyRecorder(UniqueFd listener, EventRecorder& recorder, Recording& recording,
                 uint64_t& foreign_abi, pid_t sandbox)
      : listener_(std::move(listener)),
        recorder_(recorder),
        recording_(recording),
        foreign_abi_(foreign_abi),
        sandbox_(sandbox),
        arch_(sys::audit_arch(sys::native_arch())),
        exit_group_nr_(sys::syscall_number("exit_group", sys::native_arch()).value_or(-1)) {
    // Linux 6.6+: wake us on the caller's CPU, about halving each round
    // trip; older kernels refuse the flag and are slower.
    constexpr unsigned long kSetFlags = SECCOMP_IOW(4, uint64_t);  // SECCOMP_IOCTL_NOTIF_SET_FLAGS
    ioctl(listener_.get(), kSetFlags, 1UL /* SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP */);
    for (int nr = 0; nr <= sys::kSyscallNumberCeiling; ++nr) specs_.push_back(capture_spec(nr));
  }

  int fd() const override { return listener_.get(); }

  Status handle_one() override {
    struct seccomp_notif req;
    std::memset(&req, 0, sizeof req);  // the kernel insists
    if (ioctl(listener_.get(), SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) {
      if (errno == EINTR || errno == ENOENT) return ok_status();  // the caller died meanwhile
      return sys_error("receive a seccomp notification", errno);
    }
    const int nr = req.data.nr;
    // x32 shares the x86_64 audit arch and sets bit 30 of the number.
    if (req.data.arch != arch_ || (nr & 0x40000000)) {
      ++foreign_abi_;  // i386 or x32 numbers mean other calls: counted, not named
    } else {
      const CaptureSpec spec =
          nr >= 0 && static_cast<size_t>(nr) < specs_.size() ? specs_[nr] : CaptureSpec{};
      if (!spec.any()) {
        recorder_.count(nr, 1);
        // A process about to end still counts, with its descriptors: short
        // lives between two ticks are seen here.
        if (nr == exit_group_nr_)
          sample_peaks(sandbox_, recording_.peak_processes, recording_.peak_open_files, tree_);
      } else {
        if (auto r = capture(req, spec); !r) return r;
      }
    }
    struct seccomp_notif_resp resp;
    std::memset(&resp, 0, sizeof resp);
    resp.id = req.id;
    resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    if (ioctl(listener_.get(), SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0 && errno != ENOENT)
      return sys_error("answer a seccomp notification", errno);
    return ok_status();
  }

  std::string summary() const override { return {}; }

 private:
  Status capture(const struct seccomp_notif& req, const CaptureSpec& spec) {
    SyscallEvent& e = event_;
    e.pid = static_cast<pid_t>(req.pid);
    e.nr = req.data.nr;
    std::copy(std::begin(req.data.args), std::end(req.data.args), e.args.begin());
    for (int i = 0; i < 6; ++i) {
      e.memory[i].reset();
      if (!(spec.string_args & (1u << i)) || e.args[i] == 0) continue;
      e.memory[i] = read_string(e.pid, e.args[i]);
    }
    if (spec.sockaddr_arg >= 0 && e.args[spec.sockaddr_arg] != 0)
      e.memory[spec.sockaddr_arg] =
          read_bytes(e.pid, e.args[spec.sockaddr_arg], e.args[spec.sockaddr_len_arg]);
    // What was read belongs to this call only if it is still waiting (the
    // process did not die and its pid was not reused meanwhile). A call that
    // is no longer waiting never ran: nothing to record.
    uint64_t id = req.id;
    if (ioctl(listener_.get(), SECCOMP_IOCTL_NOTIF_ID_VALID, &id) != 0) return ok_status();
    recorder_.record(e);
    return ok_status();
  }

  UniqueFd listener_;
  EventRecorder& recorder_;
  Recording& recording_;
  uint64_t& foreign_abi_;
  const pid_t sandbox_;
  std::vector<pid_t> tree_;
  const uint32_t arch_;
  const int exit_group_nr_;
  std::vector<CaptureSpec> specs_;
  SyscallEvent event_;  // reused: its strings keep their buffers
};

}  // namespace

Result<Recording> record_with_notify(const RecordRequest& request) {
  if (!enforce::seccomp_listener_available())
    return make_error(ErrorKind::kUnsupported,
                      "another seccomp supervisor owns this process tree (least inside least, or "
                      "a container), so calls cannot be watched with seccomp notifications here");
  auto filter = notify_everything_filter();
  if (!filter) return std::move(filter).context("build the recording filter").error();

  Recording recording;
  recording.command = request.command;
  EventRecorder recorder(recording);
  uint64_t foreign_abi = 0;
  pid_t sandbox = -1;
  WatchHooks hooks;
  hooks.filter = &*filter;
  hooks.on_started = [&](pid_t pid) {
    sandbox = pid;
    return ok_status();
  };
  hooks.make_handler = [&](UniqueFd listener) -> std::unique_ptr<enforce::NotificationHandler> {
    return std::make_unique<NotifyRecorder>(std::move(listener), recorder, recording, foreign_abi,
                                            sandbox);
  };
  Status run = run_watched(request, hooks, recording);
  if (!run) return std::move(run).error();
  if (foreign_abi)
    recording.lost.push_back(fmt::format(
        "{} calls through another ABI (i386 int 0x80 or x32): counted, not named", foreign_abi));
  recorder.finish();
  return recording;
}

}  // namespace least::learn
