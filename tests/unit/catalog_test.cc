#include "policy/catalog.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/netlink.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace least::policy {
namespace {

using Args = std::map<uint8_t, uint64_t>;

// Could a call with these argument values pass `g`, as the filter evaluates
// it? Arguments not given are free, so a check on them counts as passable.
bool admits(const SyscallGrant& g, const Args& args) {
  for (const ArgCheck& c : g.when) {
    auto it = args.find(c.arg);
    if (it == args.end()) continue;
    if ((it->second & c.mask) != c.value) return false;
  }
  return true;
}

// Every grant of `syscall` in the whole catalog, with the promise it is in.
std::vector<std::pair<const Promise*, const SyscallGrant*>> grants_of(std::string_view syscall) {
  std::vector<std::pair<const Promise*, const SyscallGrant*>> out;
  for (const Promise& p : promise_catalog())
    for (const SyscallGrant& g : p.grants)
      if (g.syscall == syscall) out.emplace_back(&p, &g);
  return out;
}

// Does promise `name` allow `syscall` with these arguments?
bool promise_allows(std::string_view name, std::string_view syscall, const Args& args) {
  const Promise* p = find_promise(name);
  if (!p) return false;
  return std::any_of(p->grants.begin(), p->grants.end(), [&](const SyscallGrant& g) {
    return g.syscall == syscall && admits(g, args);
  });
}

// Does any promise allow it? Returns the promise names that do.
std::vector<std::string> allowed_by(std::string_view syscall, const Args& args) {
  std::vector<std::string> names;
  for (auto [p, g] : grants_of(syscall))
    if (admits(*g, args)) names.push_back(p->name);
  return names;
}

std::set<std::string> libseccomp_names(uint32_t arch) {
  std::set<std::string> names;
  for (int n = 0; n < 1024; ++n) {
    char* s = seccomp_syscall_resolve_num_arch(arch, n);
    if (!s) continue;
    names.insert(s);
    free(s);
  }
  return names;
}

bool resolves_on(uint32_t arch, const std::string& name) {
  return seccomp_syscall_resolve_name_arch(arch, name.c_str()) >= 0;
}

constexpr uint64_t kNamespaces = CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC |
                                 CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET;

TEST(Catalog, RequiredPromisesExist) {
  for (const char* name :
       {"stdio", "rpath",  "wpath", "cpath",     "dpath", "tmppath", "fattr",
        "chown", "flock",  "inet",  "unix",      "dns",   "sendfd",  "recvfd",
        "proc",  "thread", "exec",  "prot_exec", "id",    "tty",     "settime"}) {
    const Promise* p = find_promise(name);
    ASSERT_NE(p, nullptr) << name;
    EXPECT_EQ(p->name, name);
    EXPECT_FALSE(p->summary.empty()) << name;
  }
}

TEST(Catalog, NamesAreUniqueAndListedInOrder) {
  std::vector<std::string_view> names = promise_names();
  ASSERT_EQ(names.size(), promise_catalog().size());
  for (size_t i = 0; i < names.size(); ++i) EXPECT_EQ(names[i], promise_catalog()[i].name);
  std::set<std::string_view> unique(names.begin(), names.end());
  EXPECT_EQ(unique.size(), names.size());
  EXPECT_EQ(find_promise("nosuch"), nullptr);
  EXPECT_EQ(find_promise(""), nullptr);
  EXPECT_EQ(find_promise("STDIO"), nullptr);
}

TEST(Catalog, ChecksAreWellFormed) {
  for (const Promise& p : promise_catalog()) {
    for (const SyscallGrant& g : p.grants) {
      EXPECT_FALSE(g.syscall.empty()) << p.name;
      for (const ArgCheck& c : g.when) {
        EXPECT_LT(c.arg, 6) << p.name << " " << g.syscall;
        EXPECT_NE(c.mask, 0u) << p.name << " " << g.syscall << " " << c.text;
        // A value with bits outside the mask could never match.
        EXPECT_EQ(c.value & ~c.mask, 0u) << p.name << " " << g.syscall << " " << c.text;
        EXPECT_FALSE(c.text.empty()) << p.name << " " << g.syscall;
      }
    }
  }
}

TEST(Catalog, GrantNamesResolveOnX86_64OrAarch64) {
  for (const Promise& p : promise_catalog())
    for (const SyscallGrant& g : p.grants)
      EXPECT_TRUE(resolves_on(SCMP_ARCH_X86_64, g.syscall) ||
                  resolves_on(SCMP_ARCH_AARCH64, g.syscall))
          << p.name << " grants unknown syscall " << g.syscall;
}

TEST(Catalog, IoctlNeverAllowsTiocstiOrTioclinux) {
  for (auto [p, g] : grants_of("ioctl")) {
    ASSERT_FALSE(g->when.empty()) << p->name << " grants ioctl unconditionally";
    for (uint64_t bad : {uint64_t{TIOCSTI}, uint64_t{TIOCLINUX}}) {
      // The kernel reads the request on 32 bits: high bits must not help.
      for (uint64_t high : {uint64_t{0}, uint64_t{1} << 32, uint64_t{0xffffffff} << 32})
        EXPECT_FALSE(admits(*g, {{1, bad | high}})) << p->name << " allows ioctl " << bad;
    }
    // Every request check compares all 32 bits.
    for (const ArgCheck& c : g->when)
      if (c.arg == 1) {
        EXPECT_EQ(c.mask & 0xffffffff, 0xffffffffu) << p->name << " " << c.text;
      }
  }
  EXPECT_TRUE(promise_allows("stdio", "ioctl", {{1, TCGETS}}));
  EXPECT_TRUE(promise_allows("stdio", "ioctl", {{1, TIOCGWINSZ}}));
  EXPECT_TRUE(promise_allows("stdio", "ioctl", {{1, FIONREAD}}));
  EXPECT_FALSE(promise_allows("stdio", "ioctl", {{1, TCSETS}}));
  EXPECT_TRUE(promise_allows("tty", "ioctl", {{1, TCSETS}}));
  EXPECT_TRUE(promise_allows("tty", "ioctl", {{1, TIOCSPGRP}}));
  EXPECT_TRUE(allowed_by("ioctl", {{1, TIOCSETD}}).empty());  // loads line disciplines
  EXPECT_TRUE(allowed_by("ioctl", {{1, TIOCCONS}}).empty());
}

TEST(Catalog, CloneNeverAllowsNamespaces) {
  auto clones = grants_of("clone");
  ASSERT_FALSE(clones.empty());
  for (auto [p, g] : clones) {
    bool guarded = false;
    for (const ArgCheck& c : g->when)
      if (c.arg == 0 && (c.mask & CLONE_NEWUSER) && !(c.value & CLONE_NEWUSER)) guarded = true;
    EXPECT_TRUE(guarded) << p->name << " may clone with CLONE_NEWUSER";
    for (uint64_t ns = 1; ns; ns <<= 1)
      if (ns & kNamespaces) {
        EXPECT_FALSE(admits(*g, {{0, ns | SIGCHLD}})) << p->name << " " << ns;
        EXPECT_FALSE(admits(*g, {{0, ns | CLONE_THREAD | CLONE_VM | CLONE_SIGHAND}}))
            << p->name << " " << ns;
      }
  }
  const uint64_t pthread = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
                           CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID |
                           CLONE_CHILD_CLEARTID;
  const uint64_t fork = CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD;
  const uint64_t spawn = CLONE_VM | CLONE_VFORK | SIGCHLD;
  EXPECT_EQ(allowed_by("clone", {{0, pthread}}), std::vector<std::string>{"thread"});
  EXPECT_EQ(allowed_by("clone", {{0, fork}}), std::vector<std::string>{"proc"});
  EXPECT_EQ(allowed_by("clone", {{0, spawn}}), std::vector<std::string>{"proc"});
}

TEST(Catalog, NamespaceSyscallsAndClone3AreNeverGranted) {
  for (const char* name : {"clone3", "unshare", "setns", "ptrace", "io_uring_setup", "mount", "bpf",
                           "process_vm_writev", "open_by_handle_at"})
    EXPECT_TRUE(grants_of(name).empty()) << name;
  // clone3 answers ENOSYS so libc falls back to clone, whose flags seccomp sees.
  EXPECT_FALSE(catalog_knows("clone3"));
  EXPECT_EQ(find_dangerous("clone3"), nullptr);
}

TEST(Catalog, NoWriteExecuteMemoryWithoutProtExec) {
  const uint64_t rwx = PROT_READ | PROT_WRITE | PROT_EXEC;
  for (const char* name : {"mmap", "mprotect", "pkey_mprotect"}) {
    for (auto [p, g] : grants_of(name)) {
      if (p->name == "prot_exec") continue;
      EXPECT_FALSE(admits(*g, {{2, PROT_WRITE | PROT_EXEC}})) << p->name << " " << name;
      EXPECT_FALSE(admits(*g, {{2, rwx}})) << p->name << " " << name;
      if (std::string_view(name) != "mmap") {
        EXPECT_FALSE(admits(*g, {{2, PROT_READ | PROT_EXEC}})) << p->name << " " << name;
      }
    }
  }
  // What ordinary programs and the loader need still passes.
  EXPECT_TRUE(promise_allows("stdio", "mmap", {{2, PROT_READ}}));
  EXPECT_TRUE(promise_allows("stdio", "mmap", {{2, PROT_READ | PROT_WRITE}}));
  EXPECT_TRUE(promise_allows("stdio", "mmap", {{2, PROT_READ | PROT_EXEC}}));
  EXPECT_TRUE(promise_allows("stdio", "mprotect", {{2, PROT_READ}}));
  EXPECT_TRUE(promise_allows("stdio", "mprotect", {{2, PROT_NONE}}));
  EXPECT_TRUE(promise_allows("prot_exec", "mmap", {{2, rwx}}));
  EXPECT_TRUE(promise_allows("prot_exec", "mprotect", {{2, rwx}}));
}

TEST(Catalog, SocketFamilies) {
  const uint64_t nb = SOCK_NONBLOCK | SOCK_CLOEXEC;
  EXPECT_TRUE(promise_allows("inet", "socket", {{0, AF_INET}, {1, SOCK_STREAM | nb}, {2, 0}}));
  EXPECT_TRUE(promise_allows("inet", "socket", {{0, AF_INET6}, {1, SOCK_DGRAM}, {2, 17}}));
  EXPECT_FALSE(promise_allows("inet", "socket", {{0, AF_UNIX}, {1, SOCK_STREAM}, {2, 0}}));
  EXPECT_TRUE(promise_allows("unix", "socket", {{0, AF_UNIX}, {1, SOCK_SEQPACKET}, {2, 0}}));
  EXPECT_TRUE(promise_allows("unix", "socketpair", {{0, AF_UNIX}, {1, SOCK_STREAM}, {2, 0}}));
  EXPECT_FALSE(promise_allows("unix", "socket", {{0, AF_INET}, {1, SOCK_STREAM}, {2, 0}}));
  EXPECT_TRUE(promise_allows("dns", "socket", {{0, AF_INET}, {1, SOCK_DGRAM | nb}, {2, 0}}));
  EXPECT_TRUE(promise_allows("dns", "socket", {{0, AF_INET6}, {1, SOCK_STREAM}, {2, 6}}));
  EXPECT_TRUE(
      promise_allows("dns", "socket", {{0, AF_NETLINK}, {1, SOCK_RAW | nb}, {2, NETLINK_ROUTE}}));
  for (uint64_t family : {AF_PACKET, AF_VSOCK, AF_ALG, AF_BLUETOOTH, AF_KEY, AF_CAN, AF_TIPC})
    EXPECT_TRUE(allowed_by("socket", {{0, family}}).empty()) << family;
  for (uint64_t proto : {NETLINK_SOCK_DIAG, NETLINK_AUDIT, NETLINK_NETFILTER, NETLINK_XFRM,
                         NETLINK_KOBJECT_UEVENT, NETLINK_GENERIC})
    EXPECT_TRUE(allowed_by("socket", {{0, AF_NETLINK}, {2, proto}}).empty()) << proto;
  // No raw IP sockets, and no rarely used protocol modules (SCTP).
  EXPECT_TRUE(allowed_by("socket", {{0, AF_INET}, {1, SOCK_RAW}}).empty());
  EXPECT_TRUE(allowed_by("socket", {{0, AF_INET}, {1, SOCK_STREAM}, {2, 132}}).empty());
  // A high bit in the int argument does not sneak another family in.
  EXPECT_TRUE(allowed_by("socket", {{0, AF_PACKET | (uint64_t{1} << 32)}}).empty());
}

TEST(Catalog, FcntlPrctlPersonality) {
  EXPECT_TRUE(promise_allows("stdio", "fcntl", {{1, F_SETFD}}));
  EXPECT_TRUE(promise_allows("stdio", "fcntl", {{1, F_DUPFD_CLOEXEC}}));
  EXPECT_FALSE(promise_allows("stdio", "fcntl", {{1, F_SETLK}}));
  EXPECT_TRUE(promise_allows("flock", "fcntl", {{1, F_SETLKW}}));
  EXPECT_TRUE(promise_allows("flock", "fcntl", {{1, F_OFD_SETLK}}));
  EXPECT_TRUE(allowed_by("fcntl", {{1, F_SETOWN}}).empty());

  EXPECT_TRUE(promise_allows("stdio", "prctl", {{0, PR_SET_NAME}}));
  EXPECT_TRUE(promise_allows("stdio", "prctl", {{0, PR_SET_NO_NEW_PRIVS}}));
  EXPECT_TRUE(promise_allows("stdio", "prctl", {{0, PR_SET_DUMPABLE}, {1, 0}}));
  EXPECT_FALSE(promise_allows("stdio", "prctl", {{0, PR_SET_DUMPABLE}, {1, 1}}));
  EXPECT_FALSE(promise_allows("stdio", "prctl", {{0, PR_CAP_AMBIENT}, {1, PR_CAP_AMBIENT_RAISE}}));
  EXPECT_TRUE(promise_allows("id", "prctl", {{0, PR_CAP_AMBIENT}, {1, PR_CAP_AMBIENT_RAISE}}));
  for (uint64_t option : {PR_SET_MM, PR_SET_PTRACER})
    EXPECT_TRUE(allowed_by("prctl", {{0, option}}).empty()) << option;

  for (uint64_t persona : {0x0ul, 0x8ul, 0x20000ul, 0x20008ul, 0xfffffffful})
    EXPECT_TRUE(promise_allows("stdio", "personality", {{0, persona}})) << persona;
  // READ_IMPLIES_EXEC, ADDR_NO_RANDOMIZE
  for (uint64_t persona : {0x0400000ul, 0x0040000ul})
    EXPECT_TRUE(allowed_by("personality", {{0, persona}}).empty()) << persona;

  EXPECT_TRUE(allowed_by("mknod", {{1, S_IFCHR | 0600}}).empty());
  EXPECT_TRUE(allowed_by("mknodat", {{2, S_IFBLK | 0600}}).empty());
  EXPECT_TRUE(promise_allows("dpath", "mknodat", {{2, S_IFIFO | 0600}}));
}

TEST(Catalog, DangerousAndUnpromisedLists) {
  const auto& dangerous = dangerous_syscalls();
  const auto& unpromised = unpromised_syscalls();
  ASSERT_FALSE(dangerous.empty());
  ASSERT_FALSE(unpromised.empty());
  std::set<std::string> dangerous_names;
  for (const DangerousSyscall& d : dangerous) {
    EXPECT_FALSE(d.why.empty()) << d.syscall;
    EXPECT_TRUE(dangerous_names.insert(d.syscall).second) << "twice: " << d.syscall;
    // i386-only names (stime, vm86) are kept for exports to other arches.
    EXPECT_TRUE(resolves_on(SCMP_ARCH_X86_64, d.syscall) ||
                resolves_on(SCMP_ARCH_AARCH64, d.syscall) || resolves_on(SCMP_ARCH_X86, d.syscall))
        << d.syscall;
  }
  std::set<std::string> unpromised_set(unpromised.begin(), unpromised.end());
  EXPECT_EQ(unpromised_set.size(), unpromised.size()) << "duplicates in unpromised";
  EXPECT_TRUE(std::is_sorted(unpromised.begin(), unpromised.end()));

  for (const char* name : {"ptrace", "bpf", "mount", "unshare", "setns", "io_uring_setup", "keyctl",
                           "userfaultfd", "perf_event_open", "kexec_load"})
    EXPECT_NE(find_dangerous(name), nullptr) << name;
  ASSERT_NE(find_dangerous("ptrace"), nullptr);
  EXPECT_EQ(find_dangerous("ptrace")->syscall, "ptrace");
  EXPECT_EQ(find_dangerous("read"), nullptr);
  EXPECT_EQ(find_dangerous(""), nullptr);

  for (const std::string& u : unpromised) {
    EXPECT_FALSE(dangerous_names.contains(u)) << u << " is both dangerous and unpromised";
    EXPECT_TRUE(grants_of(u).empty()) << u << " is unpromised yet granted";
  }
  // Only settime may grant dangerous syscalls (the clock ones).
  for (const Promise& p : promise_catalog())
    for (const SyscallGrant& g : p.grants)
      if (dangerous_names.contains(g.syscall)) {
        EXPECT_EQ(p.name, "settime") << g.syscall;
      }
}

TEST(Catalog, EveryLibseccompSyscallIsClassified) {
  // A new libseccomp brings new names; this test makes someone decide.
  for (uint32_t arch : {SCMP_ARCH_X86_64, SCMP_ARCH_AARCH64}) {
    std::set<std::string> names = libseccomp_names(arch);
    ASSERT_GT(names.size(), 250u);
    for (const std::string& name : names) {
      if (name == "clone3") continue;
      EXPECT_TRUE(catalog_knows(name)) << name << " is in no promise, dangerous or unpromised";
    }
  }
}

TEST(Catalog, CatalogKnows) {
  EXPECT_TRUE(catalog_knows("read"));      // promise
  EXPECT_TRUE(catalog_knows("ioctl"));     // conditional grant
  EXPECT_TRUE(catalog_knows("ptrace"));    // dangerous
  EXPECT_TRUE(catalog_knows("mincore"));   // unpromised
  EXPECT_FALSE(catalog_knows("clone3"));   // ENOSYS
  EXPECT_FALSE(catalog_knows("no_such"));  // ENOSYS
  EXPECT_FALSE(catalog_knows(""));
}

TEST(Catalog, DefaultPromises) {
  const auto& defaults = default_promises();
  ASSERT_FALSE(defaults.empty());
  std::set<std::string> unique(defaults.begin(), defaults.end());
  EXPECT_EQ(unique.size(), defaults.size());
  for (const std::string& name : defaults) EXPECT_NE(find_promise(name), nullptr) << name;
  for (const char* needed : {"stdio", "rpath", "wpath", "cpath", "tmppath", "inet", "dns", "unix",
                             "proc", "thread", "exec", "tty"})
    EXPECT_TRUE(unique.contains(needed)) << needed;
  EXPECT_FALSE(unique.contains("id"));
  EXPECT_FALSE(unique.contains("settime"));
  // Tighter than Docker's default: nothing Docker refuses, nothing dangerous.
  for (const std::string& name : defaults)
    for (const SyscallGrant& g : find_promise(name)->grants)
      EXPECT_EQ(find_dangerous(g.syscall), nullptr) << name << " grants " << g.syscall;
}

TEST(Catalog, MarkdownMentionsEverythingAndIsDeterministic) {
  std::string md = render_promises_markdown();
  EXPECT_EQ(md, render_promises_markdown());
  EXPECT_EQ(md.rfind("# Promises", 0), 0u);
  for (const Promise& p : promise_catalog()) {
    EXPECT_NE(md.find("\n## " + p.name + "\n"), std::string::npos) << p.name;
    for (const SyscallGrant& g : p.grants) {
      EXPECT_NE(md.find("`" + g.syscall + "`"), std::string::npos) << g.syscall;
      for (const ArgCheck& c : g.when) EXPECT_NE(md.find(c.text), std::string::npos) << c.text;
    }
  }
  for (const DangerousSyscall& d : dangerous_syscalls())
    EXPECT_NE(md.find("| `" + d.syscall + "` |"), std::string::npos) << d.syscall;
  for (const std::string& u : unpromised_syscalls())
    EXPECT_NE(md.find("`" + u + "`"), std::string::npos) << u;
  std::string defaults;
  for (const std::string& name : default_promises())
    defaults += (defaults.empty() ? "" : " ") + name;
  EXPECT_NE(md.find(defaults), std::string::npos);
  EXPECT_EQ(md.find("request == TIOCSTI"), std::string::npos);
}

}  // namespace
}  // namespace least::policy
