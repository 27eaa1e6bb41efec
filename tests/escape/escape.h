// The escape suite: each case is one attack made by least-escape-probe
// (escape_probe.c), run outside the sandbox to show the attack works (or, where
// it would be harmful, that the call is reachable) and under `least run` to
// show it is blocked, and how.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "spawn.h"

namespace least::escape {

using testing::SpawnResult;

// How a run is made.
enum class Where {
  kOutside,  // the probe alone
  kInside,   // under the minimal policy (or the case's policy file)
  kDeeper,   // under a wider policy: the layer behind seccomp
};

// What a case needs around the probe; each run gets fresh ones.
struct Needs {
  bool victim = false;    // a process to attack: {victim} {victim_addr} {victim_fd}
  bool tcp = false;       // a listener on 127.0.0.1:{port}
  bool abstract = false;  // a listener on the abstract unix socket @{abstract}
  bool pty = false;       // stdin: a fresh pty, the run's controlling terminal
  // stdin: a fresh pty that is no session's controlling terminal; outside,
  // the probe runs in a new session, as least starts a program whose ioctl
  // is unrestricted.
  bool pty_no_ctty = false;
  bool tty0 = false;          // stdin: /dev/tty0 (a pty if it cannot be opened)
  bool handle = false;        // {handle}: name_to_handle_at of {dir}/outside/secret
  bool suid = false;          // {suid}: a setuid-root copy of the probe
  bool parent_shell = false;  // a shell the test started runs the probe (or least)
};

// Fresh per run: a temporary directory holding
//   outside/secret  "SECRET"    outside/target  "ORIGINAL"
//   allowed/        (the case may let the program write here)
//   allowed/link -> ../outside/target
// and whatever the case needs. For the unprivileged pass everything in it
// belongs to nobody, so that only least stands between nobody and the files.
class Fixture {
 public:
  Fixture(const Needs& needs, bool nobody);
  ~Fixture();
  Fixture(const Fixture&) = delete;
  Fixture& operator=(const Fixture&) = delete;

  // `{name}` placeholders replaced.
  std::string expand(const std::string& s) const;
  std::vector<std::string> expand(const std::vector<std::string>& v) const;
  // The argv with stdin redirected as the case needs.
  std::vector<std::string> wrap_stdin(const std::vector<std::string>& argv) const;
  // Outside only: the probe in a new session (pty_no_ctty).
  std::vector<std::string> wrap_outside(const std::vector<std::string>& argv) const;
  // For cases that attack their parent: a shell that waits for the command.
  std::vector<std::string> wrap_parent(const std::vector<std::string>& argv) const;
  const std::string& dir() const { return dir_.path(); }
  std::string read(const std::string& relative) const;

  // The victim's last words: SIGUSR1 first, so that a living victim answers
  // UNCHANGED; CHANGED <text> if someone wrote into it; KILLED <SIG>.
  std::string finish_victim();
  // What the pty's input queue holds (characters pushed with TIOCSTI).
  std::string pty_input();
  // True when a connection waits on the listener.
  bool tcp_connected();
  bool abstract_connected();

  std::string error;  // set when the fixture could not be built

 private:
  testing::TempDir dir_;
  std::map<std::string, std::string> vars_;
  std::unique_ptr<testing::Process> victim_;
  int tcp_ = -1, abstract_ = -1, pty_master_ = -1, pty_slave_ = -1;
  std::string stdin_path_;
  bool ctty_ = false;
  bool parent_shell_ = false;
  bool new_session_ = false;
};

// One outcome: "OK", "OK <value>", "ERRNO <NAME>", "KILLED <SIGNAL>",
// "EXIT <status>" or "TIMEOUT".
std::string outcome_of(const SpawnResult& r);

// A check after a run: its effect on the world (files, victim, tty).
struct Effect {
  bool ok = true;
  std::string what;  // shown in the report
};
using AfterCheck = std::function<Effect(Fixture&, const SpawnResult&, Where)>;

// A wider policy under which seccomp lets the call through, so that the next
// layer (Landlock, no_new_privs, the exec supervisor) is what holds.
struct Deeper {
  std::string label;               // for the report, e.g. "stdio rpath"
  std::vector<std::string> least;  // `least run` options
  std::string expect;
};

// Expected answers may list alternatives separated by " or " where the
// kernel decides (e.g. "ERRNO ENOSYS or ERRNO ENOEXEC" for init_module on
// kernels with and without modules); the report shows what it answered.
struct Case {
  std::string name;
  std::vector<std::string> args;  // the probe's
  std::string outside;            // expected outside the sandbox, as root
  std::string inside;             // expected under the minimal policy
  Needs needs = {};
  std::optional<Deeper> deeper = {};
  AfterCheck after = {};
  // Expected outside as nobody; empty: the case is left out of the
  // unprivileged pass (the kernel refuses nobody anyway).
  std::string outside_nobody = {};
  std::string policy = {};   // a policy file (TOML) used instead of the minimal options
  bool nobody_only = false;  // only the unprivileged pass (setuid cases)
};

// The minimal policy: stdio and reading the probe's own directory.
std::vector<std::string> minimal_policy();

const std::vector<Case>& escape_cases();

// Failures expected today; they are reported, but do not fail the suite.
// Attacks that get through least (real gaps) go in the first list.
extern const std::vector<std::string> kKnownGaps;
extern const std::vector<std::string> kExpectedToFailUntilCgroups;

}  // namespace least::escape
