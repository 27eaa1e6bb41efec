#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace least::testing {

namespace {

void close_if_open(int& fd) {
  if (fd >= 0) close(fd);
  fd = -1;
}

// The child: its stdio wired to the pipes, then exec. Only async-signal-safe
// calls here; everything else is prepared before fork.
[[noreturn]] void exec_child(const std::vector<char*>& argv, const std::vector<char*>& envp,
                             const std::string& cwd, int in, int out, int err) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  signal(SIGPIPE, SIG_DFL);
  // Close-on-exec: only the dup2 copy on fd 0 may reach the program.
  if (in < 0) in = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (in < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) _exit(121);
  // Nothing else from the test runner (ctest leaks descriptors) reaches the
  // program: descriptor numbers in the output stay the same everywhere.
  syscall(SYS_close_range, 3U, ~0U, 0U);
  if (!cwd.empty() && chdir(cwd.c_str()) != 0) _exit(122);
  execve(argv[0], argv.data(), envp.data());
  const char msg[] = "spawn: execve failed\n";
  ssize_t ignored = write(2, msg, sizeof msg - 1);
  (void)ignored;
  _exit(errno == ENOENT ? 127 : 126);
}

// If the test runner started us with fd 0, 1 or 2 closed, pipes could land
// there and be overwritten by the child's dup2 calls: fill them first.
void ensure_standard_fds() {
  for (int fd = 0; fd < 3; ++fd)
    if (fcntl(fd, F_GETFD) < 0) open("/dev/null", O_RDWR);
}

}  // namespace

std::string SpawnResult::describe() const {
  std::ostringstream s;
  s << "status " << status << (timed_out ? " (timed out)" : "") << " after " << elapsed.count()
    << " ms\n--- stdout ---\n"
    << out << "--- stderr ---\n"
    << err << "---";
  return s.str();
}

Process::Process(const std::vector<std::string>& argv, const SpawnOptions& options)
    : timeout_(options.timeout), start_(std::chrono::steady_clock::now()) {
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);

  std::vector<std::string> env_storage;
  for (char** e = environ; *e; ++e) {
    std::string entry(*e);
    std::string name = entry.substr(0, entry.find('='));
    bool replaced = false;
    for (const auto& o : options.env)
      if (o.substr(0, o.find('=')) == name) replaced = true;
    if (!replaced) env_storage.push_back(entry);
  }
  for (const auto& o : options.env) env_storage.push_back(o);
  std::vector<char*> envp;
  for (auto& e : env_storage) envp.push_back(e.data());
  envp.push_back(nullptr);

  ensure_standard_fds();
  int out[2], err[2], in[2] = {-1, -1};
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0 ||
      (options.stdin_data && pipe2(in, O_CLOEXEC) != 0)) {
    spawn_error_ = std::string("pipe: ") + strerror(errno);
    return;
  }
  pid_ = fork();
  if (pid_ == 0) exec_child(cargv, envp, options.cwd, in[0], out[1], err[1]);
  close(out[1]);
  close(err[1]);
  if (in[0] >= 0) close(in[0]);
  out_ = out[0];
  err_ = err[0];
  in_ = in[1];
  if (pid_ < 0) {
    spawn_error_ = std::string("fork: ") + strerror(errno);
    close_if_open(in_);
    return;
  }
  if (options.stdin_data) {
    stdin_data_ = *options.stdin_data;
    fcntl(in_, F_SETFL, O_NONBLOCK);
  }
  fcntl(out_, F_SETFL, O_NONBLOCK);
  fcntl(err_, F_SETFL, O_NONBLOCK);
}

Process::~Process() {
  if (pid_ > 0 && !waited_) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  close_if_open(out_);
  close_if_open(err_);
  close_if_open(in_);
}

SpawnResult Process::wait() {
  SpawnResult r;
  if (pid_ < 0) {
    r.err = spawn_error_;
    return r;
  }
  signal(SIGPIPE, SIG_IGN);  // the child may exit without reading its stdin
  const auto deadline = start_ + timeout_;
  size_t written = 0;
  if (in_ >= 0 && stdin_data_.empty()) close_if_open(in_);
  // Read until both pipes are at end of file; the child may leave them open
  // in a grandchild, which the deadline then ends.
  while (out_ >= 0 || err_ >= 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      r.timed_out = true;
      kill(pid_, SIGKILL);
      break;
    }
    struct pollfd fds[3] = {{out_, POLLIN, 0}, {err_, POLLIN, 0}, {in_, POLLOUT, 0}};
    int n = poll(fds, 3, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    for (int i = 0; i < 2; ++i) {
      int& fd = i == 0 ? out_ : err_;
      std::string& to = i == 0 ? r.out : r.err;
      if (fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[8192];
      ssize_t got = read(fd, buf, sizeof buf);
      if (got > 0)
        to.append(buf, static_cast<size_t>(got));
      else if (got == 0 || errno != EAGAIN)
        close_if_open(fd);
    }
    if (in_ >= 0 && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
      ssize_t put = ::write(in_, stdin_data_.data() + written, stdin_data_.size() - written);
      if (put > 0) written += static_cast<size_t>(put);
      if (put < 0 && errno != EAGAIN) written = stdin_data_.size();
      if (written == stdin_data_.size()) close_if_open(in_);
    }
  }
  close_if_open(in_);
  int status = 0;
  // The pipes are closed; the child itself still gets until the deadline.
  for (;;) {
    pid_t w = waitpid(pid_, &status, WNOHANG);
    if (w == pid_) break;
    if (w < 0 && errno != EINTR) {
      r.err += std::string("\nspawn: waitpid: ") + strerror(errno);
      waited_ = true;
      return r;
    }
    if (std::chrono::steady_clock::now() >= deadline && !r.timed_out) {
      r.timed_out = true;
      kill(pid_, SIGKILL);
    }
    usleep(1000);
  }
  waited_ = true;
  r.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start_);
  if (r.timed_out) {
    r.status = -1;
  } else if (WIFEXITED(status)) {
    r.status = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    r.status = 128 + WTERMSIG(status);
    r.signaled = true;
  }
  return r;
}

SpawnResult spawn(const std::vector<std::string>& argv, const SpawnOptions& options) {
  Process p(argv, options);
  return p.wait();
}

std::vector<std::string> least_run(const std::vector<std::string>& least_args,
                                   const std::vector<std::string>& command) {
  std::vector<std::string> argv = {LEAST_BINARY, "run"};
  argv.insert(argv.end(), least_args.begin(), least_args.end());
  argv.push_back("--");
  argv.insert(argv.end(), command.begin(), command.end());
  return argv;
}

std::vector<std::string> probe(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {LEAST_PROBE};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

SpawnResult run_probe(const std::string& promises, const std::vector<std::string>& args) {
  return spawn(least_run({"--promise", promises}, probe(args)));
}

int errno_from_name(const std::string& name) {
  for (int e = 1; e < 256; ++e)
    if (const char* n = strerrorname_np(e); n && name == n) return e;
  return -1;
}

std::vector<std::string> as_nobody(const std::vector<std::string>& argv) {
  std::vector<std::string> out = {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534",
                                  "--clear-groups", "--"};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

TempDir::TempDir() {
  char tmpl[] = "/tmp/least-it-XXXXXX";
  if (!mkdtemp(tmpl)) throw std::runtime_error(std::string("mkdtemp: ") + strerror(errno));
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::write(const std::string& name, const std::string& content, int mode) const {
  std::string p = *this / name;
  std::ofstream(p, std::ios::binary) << content;
  chmod(p.c_str(), static_cast<mode_t>(mode));
  return p;
}

bool has_line_starting_with(const std::string& s, const std::string& prefix) {
  std::istringstream in(s);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(prefix, 0) == 0) return true;
  return false;
}

}  // namespace least::testing
