#include "learn/path_rules.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>

#include "base/text.h"
#include "plan/lower.h"
#include "plan/plan.h"

namespace least::learn {

namespace {

bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

bool is_directory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string parent_of(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) return "/";
  return path.substr(0, slash);
}

// Directories whose files are listed one by one rather than granted as a
// whole: they hold unrelated things (secrets in /etc, everyone's files in
// /tmp and /home), so a directory rule would grant far more than was seen.
bool never_widened(const std::string& dir, const std::string& home) {
  static const std::set<std::string> wide = {
      "/",        "/home",     "/root", "/etc",       "/tmp",     "/var",
      "/var/tmp", "/var/lib",  "/usr",  "/usr/share", "/usr/lib", "/usr/local",
      "/usr/bin", "/usr/sbin", "/bin",  "/sbin",      "/dev",     "/sys",
      "/run",     "/opt",      "/mnt",  "/media",     "/srv",     "/proc"};
  return wide.count(dir) > 0 || (!home.empty() && dir == home);
}

// Read-only data trees a person names as a whole: /usr/share/zoneinfo, not
// one line per time zone.
std::optional<std::string> data_tree(const std::string& path) {
  for (std::string prefix : {"/usr/share/", "/usr/local/share/"}) {
    if (path.rfind(prefix, 0) != 0) continue;
    auto end = path.find('/', prefix.size());
    if (end == std::string::npos) return std::nullopt;  // a file directly in /usr/share
    return path.substr(0, end);
  }
  if (path.rfind("/usr/include/", 0) == 0) return std::string("/usr/include");
  if (path.rfind("/dev/pts/", 0) == 0) return std::string("/dev/pts");
  return std::nullopt;
}

// The interpreter a "#!" script names, so that executing the script works.
std::optional<std::string> interpreter_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string line;
  if (!in || !std::getline(in, line) || line.rfind("#!", 0) != 0) return std::nullopt;
  size_t start = line.find_first_not_of(" \t", 2);
  if (start == std::string::npos) return std::nullopt;
  size_t end = line.find_first_of(" \t\r", start);
  std::string interp = line.substr(start, end == std::string::npos ? end : end - start);
  if (interp.empty() || interp[0] != '/') return std::nullopt;
  return interp;
}

std::string files_text(size_t n, const char* verb, const std::string& example) {
  if (n == 1) return verb;
  return fmt::format("{} {} files, e.g. {}", verb, n, example);
}

// Adds `files` (all in one directory or tree) as one entry for `dir` when
// that is what a person would write, else one entry per file.
void add_group(std::vector<Entry>& list, const std::string& dir,
               const std::vector<std::string>& files, bool as_directory, const char* verb) {
  if (as_directory) {
    list.push_back({dir, files_text(files.size(), verb, files.front())});
    return;
  }
  for (const auto& f : files) list.push_back({f, verb});
}

}  // namespace

PathLists path_lists(const Recording& recording, const std::string& home) {
  const auto runtime = plan::runtime_path_rules();
  std::map<std::string, std::vector<std::string>> reads, writes, creates, trees;
  std::set<std::string> listed;  // directories the program read (listed)
  std::vector<std::string> proc, gone;
  PathLists out;

  for (const auto& [path, access] : recording.paths) {
    uint32_t bits = access;
    if (path == "/proc" || path.rfind("/proc/", 0) == 0) {
      // The sandbox's own /proc (least run mounts one for its pid namespace),
      // so its process numbers differ from the recorded ones: one entry.
      if (bits & (plan::kPathRead | plan::kPathWrite)) proc.push_back(path);
      continue;
    }
    if (bits & plan::kPathCreate) {
      creates[parent_of(path)].push_back(path);
      bits &= ~plan::kPathCreate;
    }
    for (const auto& r : runtime)
      if (path_beneath(path, r.path)) bits &= ~r.access;
    if (!bits) continue;
    if (!exists(path)) {
      gone.push_back(path);
      continue;
    }
    if (bits & plan::kPathExec) {
      out.exec.push_back({path, "executed"});
      if (auto interp = interpreter_of(path); interp && exists(*interp))
        out.exec.push_back({*interp, fmt::format("the interpreter of {}", path)});
      continue;  // exec implies read
    }
    if (bits & plan::kPathWrite) {
      writes[parent_of(path)].push_back(path);
      continue;
    }
    if (is_directory(path)) {
      listed.insert(path);
      continue;
    }
    if (auto tree = data_tree(path)) {
      trees[*tree].push_back(path);
      continue;
    }
    reads[parent_of(path)].push_back(path);
  }

  for (const auto& [dir, files] : creates) {
    if (!exists(dir)) continue;  // created and removed again: its parent's entry covers it
    std::string comment = files.size() == 1 ? fmt::format("created or removed {}", files.front())
                                            : fmt::format("created or removed {} entries, e.g. {}",
                                                          files.size(), files.front());
    if (never_widened(dir, home))
      comment += fmt::format(" (directly in {}: no narrower rule would do)", dir);
    out.create.push_back({dir, comment});
  }
  for (const auto& [dir, files] : writes)
    add_group(out.write, dir, files, files.size() >= 3 && !never_widened(dir, home), "written");
  for (const auto& dir : listed) {
    std::string comment = "listed";
    if (never_widened(dir, home))
      comment = fmt::format("listed by the program itself: everything beneath {} is readable", dir);
    out.read.push_back({dir, comment});
  }
  for (const auto& [tree, files] : trees) add_group(out.read, tree, files, true, "read");
  for (const auto& [dir, files] : reads)
    add_group(out.read, dir, files, files.size() >= 3 && !never_widened(dir, home), "read");
  if (!proc.empty())
    out.read.push_back({"/proc", fmt::format("{} (the sandbox's own /proc)",
                                             files_text(proc.size(), "read", proc.front()))});

  // Gone paths beneath a create entry were the program's own temporary files.
  std::erase_if(gone, [&](const std::string& g) {
    return std::any_of(out.create.begin(), out.create.end(),
                       [&](const Entry& c) { return path_beneath(g, c.value); });
  });
  if (!gone.empty())
    out.notes.push_back(fmt::format("{} {} the run used no longer {} and {} left out (e.g. {})",
                                    gone.size(), gone.size() == 1 ? "path" : "paths",
                                    gone.size() == 1 ? "exists" : "exist",
                                    gone.size() == 1 ? "is" : "are", gone.front()));

  auto by_path = [](const Entry& a, const Entry& b) { return a.value < b.value; };
  for (auto* list : {&out.read, &out.write, &out.create, &out.exec}) {
    std::sort(list->begin(), list->end(), by_path);
    list->erase(std::unique(list->begin(), list->end(),
                            [](const Entry& a, const Entry& b) { return a.value == b.value; }),
                list->end());
  }
  return out;
}

}  // namespace least::learn
