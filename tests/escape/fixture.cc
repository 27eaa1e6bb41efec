// What the escape cases attack: files, a victim process, listeners, a
// terminal. Everything lives in a fresh temporary directory or is a process
// or socket made here, and goes away with the Fixture.
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "escape.h"

namespace least::escape {

namespace {

constexpr uid_t kNobody = 65534;

std::string probe_dir() {
  std::string p = LEAST_PROBE;
  return p.substr(0, p.rfind('/'));
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string hex(const unsigned char* bytes, size_t n) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += digits[bytes[i] >> 4];
    out += digits[bytes[i] & 15];
  }
  return out;
}

std::string signal_name(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
}

void chown_tree(const std::string& root, uid_t uid) {
  namespace fs = std::filesystem;
  if (lchown(root.c_str(), uid, uid) != 0) return;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (lchown(e.path().c_str(), uid, uid) != 0) return;
}

}  // namespace

std::vector<std::string> minimal_policy() {
  return {"--promise", "stdio", "--read", probe_dir()};
}

Fixture::Fixture(const Needs& needs, bool nobody) {
  const std::string& d = dir_.path();
  chmod(d.c_str(), 0755);  // nobody must reach it
  vars_["dir"] = d;
  parent_shell_ = needs.parent_shell;
  vars_["probe"] = LEAST_PROBE;
  vars_["probedir"] = probe_dir();
  mkdir((d + "/outside").c_str(), 0755);
  mkdir((d + "/allowed").c_str(), 0755);
  dir_.write("outside/secret", "SECRET\n");
  dir_.write("outside/target", "ORIGINAL");
  if (symlink("../outside/target", (d + "/allowed/link").c_str()) != 0)
    error = std::string("symlink: ") + strerror(errno);
  if (nobody) chown_tree(d, kNobody);

  if (needs.suid) {
    // A setuid-root copy of the probe: the setuid bit is set after chown,
    // which clears it.
    std::string copy = d + "/suid-probe";
    std::error_code ec;
    std::filesystem::copy_file(LEAST_PROBE, copy, ec);
    if (ec || chown(copy.c_str(), 0, 0) != 0 || chmod(copy.c_str(), 04755) != 0)
      error = "cannot make the setuid copy";
    vars_["suid"] = copy;
  }

  if (needs.tcp) {
    tcp_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = {};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (tcp_ < 0 || bind(tcp_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        listen(tcp_, 8) != 0 || getsockname(tcp_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
      error = std::string("tcp listener: ") + strerror(errno);
    vars_["port"] = std::to_string(ntohs(a.sin_port));
  }

  if (needs.abstract) {
    static std::atomic<int> counter{0};
    std::string name = "least-escape-" + std::to_string(getpid()) + "-" + std::to_string(++counter);
    abstract_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    struct sockaddr_un a = {};
    a.sun_family = AF_UNIX;
    memcpy(a.sun_path + 1, name.data(), name.size());
    socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
    if (abstract_ < 0 || bind(abstract_, reinterpret_cast<sockaddr*>(&a), len) != 0 ||
        listen(abstract_, 8) != 0)
      error = std::string("abstract listener: ") + strerror(errno);
    vars_["abstract"] = name;
  }

  if (needs.handle) {
    struct {
      file_handle h;
      unsigned char bytes[MAX_HANDLE_SZ];
    } buf = {};
    buf.h.handle_bytes = MAX_HANDLE_SZ;
    int mount_id;
    if (name_to_handle_at(AT_FDCWD, (d + "/outside/secret").c_str(), &buf.h, &mount_id, 0) != 0)
      error = std::string("name_to_handle_at: ") + strerror(errno);
    vars_["handle"] =
        std::to_string(buf.h.handle_type) + ":" + hex(buf.h.f_handle, buf.h.handle_bytes);
  }

  if (needs.tty0) {
    int fd = open("/dev/tty0", O_RDONLY | O_NOCTTY | O_CLOEXEC);
    if (fd >= 0) {
      close(fd);
      stdin_path_ = "/dev/tty0";
    }
  }
  new_session_ = needs.pty_no_ctty;
  if (needs.pty || needs.pty_no_ctty || (needs.tty0 && stdin_path_.empty())) {
    pty_master_ = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    const char* name = nullptr;
    if (pty_master_ < 0 || grantpt(pty_master_) != 0 || unlockpt(pty_master_) != 0 ||
        !(name = ptsname(pty_master_))) {
      error = std::string("pty: ") + strerror(errno);
    } else {
      stdin_path_ = name;
      pty_slave_ = open(name, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
      struct termios t;
      if (pty_slave_ < 0 || tcgetattr(pty_slave_, &t) != 0)
        error = std::string("pty slave: ") + strerror(errno);
      cfmakeraw(&t);  // what TIOCSTI pushes is readable at once, and not echoed
      tcsetattr(pty_slave_, TCSANOW, &t);
      ctty_ = needs.pty;
    }
  }

  if (needs.victim) {
    std::string info = d + "/victim.info";
    std::vector<std::string> argv = testing::probe({"victim", info, d + "/outside/secret"});
    victim_ = std::make_unique<testing::Process>(nobody ? testing::as_nobody(argv) : argv);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (access(info.c_str(), F_OK) != 0 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    std::istringstream in(slurp(info));
    std::string pid, addr, fd;
    if (!(in >> pid >> addr >> fd)) {
      error = "the victim did not start";
    } else {
      vars_["victim"] = pid;
      vars_["victim_addr"] = addr;
      vars_["victim_fd"] = fd;
    }
  }
}

Fixture::~Fixture() {
  for (int fd : {tcp_, abstract_, pty_master_, pty_slave_})
    if (fd >= 0) close(fd);
  // victim_ (a Process) kills and reaps the victim if it is still running.
}

std::string Fixture::expand(const std::string& s) const {
  std::string out = s;
  for (const auto& [name, value] : vars_) {
    std::string key = "{" + name + "}";
    for (size_t at = out.find(key); at != std::string::npos; at = out.find(key, at + value.size()))
      out.replace(at, key.size(), value);
  }
  return out;
}

std::vector<std::string> Fixture::expand(const std::vector<std::string>& v) const {
  std::vector<std::string> out;
  for (const auto& s : v) out.push_back(expand(s));
  return out;
}

std::vector<std::string> Fixture::wrap_stdin(const std::vector<std::string>& argv) const {
  if (stdin_path_.empty()) return argv;
  // The shell opens the terminal as root, before setpriv (if any) drops to
  // nobody; with --ctty setsid makes it the session's controlling terminal,
  // as a user's terminal is for the programs they start.
  std::vector<std::string> out = {
      "/bin/sh", "-c",
      ctty_ ? "exec /usr/bin/setsid --wait --ctty \"$@\" <\"$0\"" : "exec \"$@\" <\"$0\"",
      stdin_path_};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

std::vector<std::string> Fixture::wrap_outside(const std::vector<std::string>& argv) const {
  if (!new_session_) return argv;
  std::vector<std::string> out = {"/usr/bin/setsid", "--wait"};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

std::vector<std::string> Fixture::wrap_parent(const std::vector<std::string>& argv) const {
  if (!parent_shell_) return argv;
  // Not `exec`: the shell stays, waiting, as the probe's parent.
  std::vector<std::string> out = {"/bin/sh", "-c", "\"$@\"; exit $?", "sh"};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

std::string Fixture::read(const std::string& relative) const {
  if (access((dir() + "/" + relative).c_str(), F_OK) != 0) return "(missing)";
  return slurp(dir() + "/" + relative);
}

std::string Fixture::finish_victim() {
  if (!victim_) return "(no victim)";
  kill(victim_->pid(), SIGUSR1);
  SpawnResult r = victim_->wait();
  victim_.reset();
  if (r.signaled) return "KILLED " + signal_name(r.status - 128);
  std::string line = r.out.substr(0, r.out.find('\n'));
  return line.empty() ? "(silent, status " + std::to_string(r.status) + ")" : line;
}

std::string Fixture::pty_input() {
  if (pty_slave_ < 0) return "(no pty)";
  char buf[64];
  ssize_t n = ::read(pty_slave_, buf, sizeof buf);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

namespace {
bool pending_connection(int listener) {
  if (listener < 0) return false;
  int fd = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
  if (fd < 0) return false;
  close(fd);
  return true;
}
}  // namespace

bool Fixture::tcp_connected() {
  return pending_connection(tcp_);
}
bool Fixture::abstract_connected() {
  return pending_connection(abstract_);
}

std::string outcome_of(const SpawnResult& r) {
  if (r.timed_out) return "TIMEOUT";
  if (r.status < 0) return "NOT STARTED";
  if (r.signaled) return "KILLED " + signal_name(r.status - 128);
  // least exits with 128+N when its program was killed by signal N, and
  // says so on stderr.
  if (r.status > 128 && r.status < 128 + NSIG) {
    std::string sig = signal_name(r.status - 128);
    if (r.err.find("was killed by " + sig) != std::string::npos) return "KILLED " + sig;
  }
  std::string line = r.out.substr(0, r.out.find('\n'));
  if (line == "OK" || line.rfind("OK ", 0) == 0) {
    if (r.status != 0) return line + " (status " + std::to_string(r.status) + ")";
    return line;
  }
  if (line.rfind("ERRNO ", 0) == 0) {
    int err = testing::errno_from_name(line.substr(6));
    if (err < 0 || (err & 0xff) != r.status)
      return line + " (status " + std::to_string(r.status) + ")";
    return line;
  }
  return "EXIT " + std::to_string(r.status);
}

}  // namespace least::escape
