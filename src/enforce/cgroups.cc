#include "enforce/cgroups.h"

#include <dirent.h>
#include <errno.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

namespace least::enforce {

namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

Status write_text(const std::string& path, const std::string& value) {
  std::ofstream out(path);
  if (!out) return sys_error(fmt::format("open {}", path), errno);
  out << value;
  out.flush();
  if (!out) return sys_error(fmt::format("write \"{}\" to {}", value, path), errno ? errno : EIO);
  return ok_status();
}

// Where a cgroup filesystem of this kind is mounted, from mountinfo.
std::string mount_point(const std::string& controller) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    auto dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream left(line.substr(0, dash)), right(line.substr(dash + 3));
    std::string id, parent, devno, root, point, fstype, source, options;
    left >> id >> parent >> devno >> root >> point;
    right >> fstype >> source >> options;
    if (controller.empty() && fstype == "cgroup2") return point;
    if (!controller.empty() && fstype == "cgroup" &&
        ("," + options + ",").find("," + controller + ",") != std::string::npos)
      return point;
  }
  return {};
}

bool contains_word(const std::string& text, const std::string& word) {
  std::istringstream in(text);
  std::string w;
  while (in >> w)
    if (w == word) return true;
  return false;
}

// Cgroups left by a least that was killed (SIGKILL runs no destructor): their
// processes are gone with it, so they are empty and can go.
void remove_stale(const std::string& parent) {
  DIR* d = opendir(parent.c_str());
  if (!d) return;
  while (struct dirent* e = readdir(d)) {
    int pid = 0, n = 0;
    if (sscanf(e->d_name, "least-%d-%d", &pid, &n) != 2 || pid == getpid()) continue;
    if (kill(pid, 0) == 0 || errno != ESRCH) continue;
    rmdir((parent + "/" + e->d_name).c_str());
  }
  closedir(d);
}

// A fresh cgroup beneath our own for `controller`, or "" when none can be made.
std::string make_cgroup(const std::string& controller, bool& v2) {
  static int counter = 0;
  std::string name = fmt::format("least-{}-{}", getpid(), counter++);
  // v2 only where the controller is already delegated to our children.
  std::string unified = own_cgroup_dir("");
  if (!unified.empty() &&
      contains_word(read_text(unified + "/cgroup.subtree_control"), controller)) {
    remove_stale(unified);
    std::string dir = unified + "/" + name;
    if (mkdir(dir.c_str(), 0755) == 0) {
      v2 = true;
      return dir;
    }
  }
  std::string v1 = own_cgroup_dir(controller);
  if (!v1.empty()) {
    remove_stale(v1);
    std::string dir = v1 + "/" + name;
    if (mkdir(dir.c_str(), 0755) == 0) {
      v2 = false;
      return dir;
    }
  }
  return {};
}

}  // namespace

std::string own_cgroup_dir(const std::string& controller) {
  std::string point = mount_point(controller);
  if (point.empty()) return {};
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    auto first = line.find(':'), second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    std::string controllers = line.substr(first + 1, second - first - 1);
    std::string path = line.substr(second + 1);
    bool match = controller.empty()
                     ? line.rfind("0::", 0) == 0
                     : ("," + controllers + ",").find("," + controller + ",") != std::string::npos;
    if (match) return path == "/" ? point : point + path;
  }
  return {};
}

Result<CgroupScope> CgroupScope::create(const plan::LimitsPlan& limits,
                                        std::vector<plan::Rlimit>& fallback,
                                        std::vector<std::string>& warnings) {
  CgroupScope scope;
  if (limits.processes) {
    bool v2 = false;
    std::string dir = make_cgroup("pids", v2);
    if (dir.empty()) {
      fallback.push_back({RLIMIT_NPROC, "RLIMIT_NPROC", *limits.processes});
      warnings.push_back(
          "no writable pids cgroup (not root, and none delegated): [limits] processes is held "
          "by RLIMIT_NPROC instead, counted per user in the sandbox's user namespace");
    } else {
      scope.dirs_.push_back(dir);
      LEAST_TRY(write_text(dir + "/pids.max", std::to_string(*limits.processes))
                    .context("limit processes"));
    }
  }
  if (limits.memory) {
    bool v2 = false;
    std::string dir = make_cgroup("memory", v2);
    if (dir.empty()) {
      fallback.push_back({RLIMIT_AS, "RLIMIT_AS", *limits.memory});
      warnings.push_back(
          "no writable memory cgroup (not root, and none delegated): [limits] memory is held by "
          "RLIMIT_AS instead, which bounds address space per process, not resident memory");
    } else {
      scope.dirs_.push_back(dir);
      std::string file = v2 ? "/memory.max" : "/memory.limit_in_bytes";
      LEAST_TRY(write_text(dir + file, std::to_string(*limits.memory)).context("limit memory"));
      if (v2) (void)write_text(dir + "/memory.swap.max", "0");  // absent without swap accounting
    }
  }
  return scope;
}

Status CgroupScope::attach(pid_t pid) const {
  for (const auto& dir : dirs_)
    LEAST_TRY(write_text(dir + "/cgroup.procs", std::to_string(pid))
                  .context(fmt::format("move process {} into cgroup", pid)));
  return ok_status();
}

CgroupScope::~CgroupScope() {
  // The sandbox's processes are gone once its init has been reaped, but the
  // kernel may take a moment to notice: retry briefly.
  for (const auto& dir : dirs_) {
    for (int attempt = 0; attempt < 50; ++attempt) {
      if (rmdir(dir.c_str()) == 0 || errno == ENOENT) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
}

}  // namespace least::enforce
