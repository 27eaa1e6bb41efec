#include "analyze/library_closure.h"

#include <sys/auxv.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <deque>

namespace least::analyze {

namespace {

// Debian 12's ld.so: `ld.so --help` lists these as the system search path,
// in this order (SYSTEM_DIRS of the multiarch build).
constexpr const char* kSystemDirs[] = {"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib",
                                       "/usr/lib"};

Error with_context(Error e, std::string what) {
  e.context.insert(e.context.begin(), std::move(what));
  return e;
}

std::optional<std::string> real_path_of(const std::string& path) {
  char buf[PATH_MAX];
  if (!::realpath(path.c_str(), buf)) return std::nullopt;
  return std::string(buf);
}

std::string dirname_of(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// _dl_dst_substitute: $ORIGIN, $LIB, $PLATFORM, braced or not; a '$' before
// anything else stays as it is.
std::string expand_dst(const std::string& in, const std::string& origin) {
  std::string out;
  for (size_t i = 0; i < in.size();) {
    if (in[i] != '$') {
      out += in[i++];
      continue;
    }
    auto try_token = [&](std::string_view token, const std::string& value) {
      std::string_view rest = std::string_view(in).substr(i + 1);
      size_t len = 0;
      if (rest.starts_with(token)) {
        len = token.size();
        // A plain token ends where an identifier character cannot follow.
        if (len < rest.size() &&
            (std::isalnum(static_cast<unsigned char>(rest[len])) || rest[len] == '_'))
          return false;
      } else if (rest.size() >= token.size() + 2 && rest[0] == '{' &&
                 rest.substr(1, token.size()) == token && rest[token.size() + 1] == '}') {
        len = token.size() + 2;
      } else {
        return false;
      }
      out += value;
      i += 1 + len;
      return true;
    };
    if (try_token("ORIGIN", origin) || try_token("LIB", dst_lib()) ||
        try_token("PLATFORM", dst_platform()))
      continue;
    out += in[i++];
  }
  return out;
}

class Resolver {
 public:
  explicit Resolver(Closure& closure) : c_(closure) {}

  // The object `name` (from DT_NEEDED or dlopen of `requester`) is, loading
  // it when it is new. `added` collects new objects.
  Result<size_t> load(std::optional<size_t> requester, const std::string& raw_name,
                      std::vector<size_t>& added) {
    if (auto i = match_name(raw_name)) return *i;
    // The interpreter is in the load order where it is first needed.
    if (pending_interp_ && std::find(pending_interp_->names.begin(), pending_interp_->names.end(),
                                     raw_name) != pending_interp_->names.end())
      return place_interpreter(added);
    std::string name = raw_name;
    if (name.find('$') != std::string::npos)
      name = expand_dst(name, requester ? origin_of(*requester) : std::string("."));
    std::vector<std::string> tried;
    std::optional<std::string> found;
    if (name.find('/') != std::string::npos) {
      tried.push_back(name);
      auto ok = try_candidate(name);
      if (!ok) return std::move(ok).error();
      if (*ok) found = name;
    } else {
      auto r = search(requester, name, tried);
      if (!r) return std::move(r).error();
      found = *r;
    }
    if (!found) {
      std::string who = requester ? c_.objects[*requester].path : std::string("the program");
      std::string list;
      for (const std::string& t : tried) list += (list.empty() ? "" : ", ") + t;
      return make_error(ErrorKind::kNotFound, "library " + raw_name + ", needed by " + who +
                                                  ", not found (tried " + list + ")");
    }
    auto real = real_path_of(*found);
    if (!real) return sys_error("realpath " + *found, errno);
    // The same file under another name (ld.so compares st_dev/st_ino).
    for (size_t i = 0; i < c_.objects.size(); ++i) {
      if (c_.objects[i].real_path == *real) {
        c_.objects[i].names.push_back(raw_name);
        return i;
      }
    }
    if (pending_interp_ && pending_interp_->real_path == *real) {
      pending_interp_->names.push_back(raw_name);
      return place_interpreter(added);
    }
    auto info = read_dynamic_info(*found);
    if (!info)
      return with_context(std::move(info).error(), raw_name + " needed by " +
                                                       (requester ? c_.objects[*requester].path
                                                                  : std::string("the program")));
    LoadedObject o;
    o.path = *found;
    o.real_path = *real;
    o.soname = info->soname;
    o.info = std::move(*info);
    o.loader = requester;
    o.names = {raw_name, o.path};
    if (!o.soname.empty()) o.names.push_back(o.soname);
    c_.objects.push_back(std::move(o));
    added.push_back(c_.objects.size() - 1);
    return c_.objects.size() - 1;
  }

  // Breadth-first over DT_NEEDED from `queue`, as _dl_map_object_deps.
  Status load_dependencies(std::deque<size_t> queue, std::vector<size_t>& added) {
    while (!queue.empty()) {
      size_t at = queue.front();
      queue.pop_front();
      if (!c_.objects[at].needed.empty()) continue;  // already walked
      std::vector<size_t> needed;
      for (const std::string& name : c_.objects[at].info.needed) {
        size_t before = added.size();
        auto r = load(at, name, added);
        if (!r) return std::move(r).error();
        needed.push_back(*r);
        for (size_t k = before; k < added.size(); ++k) queue.push_back(added[k]);
      }
      c_.objects[at].needed = std::move(needed);
    }
    return ok_status();
  }

  std::optional<LoadedObject> pending_interp_;

  size_t place_interpreter(std::vector<size_t>& added) {
    c_.objects.push_back(std::move(*pending_interp_));
    pending_interp_.reset();
    c_.interpreter = c_.objects.size() - 1;
    added.push_back(c_.objects.size() - 1);
    return c_.objects.size() - 1;
  }

 private:
  std::optional<size_t> match_name(const std::string& name) {
    for (size_t i = 0; i < c_.objects.size(); ++i) {
      const auto& n = c_.objects[i].names;
      if (std::find(n.begin(), n.end(), name) != n.end()) return i;
    }
    return std::nullopt;
  }

  std::string origin_of(size_t i) const { return dirname_of(c_.objects[i].real_path); }

  // Whether ld.so would take the file at `path`: absent or unopenable -> no,
  // another class or machine -> no (open_verify skips it), not ELF -> an
  // error (ld.so stops with "invalid ELF header").
  Result<bool> try_candidate(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
    auto check = check_elf_header(path);
    if (!check) return false;  // unreadable: ld.so goes on with the next directory
    if (*check == ElfHeaderCheck::kNotElf)
      return make_error(ErrorKind::kCannotExec, path + ": invalid ELF header");
    return *check == ElfHeaderCheck::kLoadable;
  }

  // One directory of a search path: its glibc-hwcaps subdirectories this CPU
  // supports first, then the directory itself (ld.so's r_search_path_elem
  // with the capstr list). Legacy hwcap subdirectories (tls/, haswell/, ...)
  // are not searched: Debian 12 installs nothing there and glibc 2.37
  // removed them.
  Result<std::optional<std::string>> in_dir(std::string dir, const std::string& name,
                                            std::vector<std::string>& tried) {
    while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
    std::string prefix = dir.empty() ? "" : (dir == "/" ? "/" : dir + "/");
    tried.push_back(dir.empty() ? "." : dir);
    for (const std::string& sub : active_glibc_hwcaps()) {
      std::string candidate = prefix + "glibc-hwcaps/" + sub + "/" + name;
      auto ok = try_candidate(candidate);
      if (!ok) return std::move(ok).error();
      if (*ok) return std::optional<std::string>(candidate);
    }
    auto ok = try_candidate(prefix + name);
    if (!ok) return std::move(ok).error();
    if (*ok) return std::optional<std::string>(prefix + name);
    return std::optional<std::string>();
  }

  Result<std::optional<std::string>> in_dirs(const std::vector<std::string>& dirs,
                                             const std::string& origin, const std::string& name,
                                             std::vector<std::string>& tried) {
    for (const std::string& d : dirs) {
      auto r = in_dir(expand_dst(d, origin), name, tried);
      if (!r || *r) return r;
    }
    return std::optional<std::string>();
  }

  // _dl_map_object's search for a name without '/'.
  Result<std::optional<std::string>> search(std::optional<size_t> requester,
                                            const std::string& name,
                                            std::vector<std::string>& tried) {
    const LoadedObject* req = requester ? &c_.objects[*requester] : nullptr;
    // DT_RPATH of the requester and up its loaders, then of the program;
    // all skipped when the requester has DT_RUNPATH. An object with both
    // has no DT_RPATH for ld.so (get-dynamic-info.h).
    if (!req || !req->info.has_runpath) {
      bool did_main = false;
      for (std::optional<size_t> l = requester; l; l = c_.objects[*l].loader) {
        const DynamicInfo& info = c_.objects[*l].info;
        if (!info.has_rpath || info.has_runpath) continue;
        auto r = in_dirs(info.rpath, origin_of(*l), name, tried);
        if (!r || *r) return r;
        did_main |= *l == 0;
      }
      if (!did_main && !c_.objects.empty() && c_.objects[0].info.has_rpath &&
          !c_.objects[0].info.has_runpath) {
        auto r = in_dirs(c_.objects[0].info.rpath, origin_of(0), name, tried);
        if (!r || *r) return r;
      }
    }
    if (req && req->info.has_runpath) {
      auto r = in_dirs(req->info.runpath, origin_of(*requester), name, tried);
      if (!r || *r) return r;
    }
    // The loader's flags decide for the cache and the default directories;
    // without a requester, the program's.
    const LoadedObject* flags_of = req ? req : (c_.objects.empty() ? nullptr : &c_.objects[0]);
    bool nodeflib = flags_of && flags_of->info.nodeflib;
    tried.push_back("/etc/ld.so.cache");
    if (c_.cache) {
      if (auto cached = c_.cache->lookup(name)) {
        bool in_system_dir = false;
        for (const char* d : kSystemDirs)
          in_system_dir |= cached->starts_with(std::string(d) + "/");
        // DF_1_NODEFLIB refuses cache entries in the system directories.
        if (!(nodeflib && in_system_dir)) {
          auto ok = try_candidate(*cached);
          if (!ok) return std::move(ok).error();
          if (*ok) return std::optional<std::string>(*cached);
        }
      }
    }
    if (!nodeflib) {
      for (const char* d : kSystemDirs) {
        auto r = in_dir(d, name, tried);
        if (!r || *r) return r;
      }
    }
    return std::optional<std::string>();
  }

  Closure& c_;
};

}  // namespace

std::string dst_lib() {
  // Debian's multiarch glibc expands $LIB to lib/<triplet>.
  return "lib/x86_64-linux-gnu";
}

std::string dst_platform() {
  // GLRO(dl_platform): AT_PLATFORM, which glibc 2.36 (init_cpu_features)
  // replaces on Intel CPUs by "xeon_phi" or "haswell" after their features.
  static const std::string platform = [] {
    __builtin_cpu_init();
    if (__builtin_cpu_is("intel")) {
      if (__builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512er") &&
          __builtin_cpu_supports("avx512pf"))
        return std::string("xeon_phi");
      if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
          __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2") &&
          __builtin_cpu_supports("lzcnt") && __builtin_cpu_supports("movbe") &&
          __builtin_cpu_supports("popcnt") && !__builtin_cpu_supports("avx512er"))
        return std::string("haswell");
    }
    const char* at = reinterpret_cast<const char*>(::getauxval(AT_PLATFORM));
    return std::string(at ? at : "x86_64");
  }();
  return platform;
}

Result<Closure> resolve_closure(const std::string& program,
                                std::shared_ptr<const LdSoCache> cache) {
  Closure c;
  c.cache = std::move(cache);
  auto real = real_path_of(program);
  if (!real) return sys_error("realpath " + program, errno);
  auto info = read_dynamic_info(program);
  if (!info) return std::move(info).error();
  LoadedObject main;
  main.path = program;
  main.real_path = *real;
  main.soname = info->soname;
  main.info = std::move(*info);
  if (!main.soname.empty()) main.names.push_back(main.soname);
  std::string interp = main.info.interpreter;
  c.objects.push_back(std::move(main));

  Resolver r(c);
  if (!interp.empty()) {
    auto ireal = real_path_of(interp);
    if (!ireal) return sys_error("realpath " + interp + " (PT_INTERP of " + program + ")", errno);
    auto iinfo = read_dynamic_info(interp);
    if (!iinfo) return with_context(std::move(iinfo).error(), "PT_INTERP of " + program);
    LoadedObject o;
    o.path = interp;
    o.real_path = *ireal;
    o.soname = iinfo->soname;
    o.info = std::move(*iinfo);
    o.is_interpreter = true;
    o.names = {interp};
    if (!o.soname.empty()) o.names.push_back(o.soname);
    r.pending_interp_ = std::move(o);
  }
  std::vector<size_t> added;
  auto deps = r.load_dependencies({0}, added);
  if (!deps) return std::move(deps).error();
  if (r.pending_interp_) r.place_interpreter(added);
  return c;
}

Result<Closure> resolve_closure(const std::string& program) {
  std::shared_ptr<const LdSoCache> cache;
  std::string note;
  auto parsed = read_ld_so_cache();
  if (parsed) {
    cache = std::make_shared<const LdSoCache>(std::move(*parsed));
  } else {
    note = "no usable /etc/ld.so.cache (" + parsed.error().str() + "): searched without it";
  }
  auto c = resolve_closure(program, std::move(cache));
  if (c && !note.empty()) c->notes.push_back(note);
  return c;
}

Result<std::vector<size_t>> resolve_dlopen(Closure& closure, size_t requester,
                                           const std::string& name) {
  if (requester >= closure.objects.size())
    return make_error(ErrorKind::kUsage, "dlopen of " + name + " from object " +
                                             std::to_string(requester) + ", not in the closure");
  Resolver r(closure);
  std::vector<size_t> added;
  auto l = r.load(requester, name, added);
  if (!l)
    return with_context(std::move(l).error(), "dlopen from " + closure.objects[requester].path);
  if (!added.empty()) closure.objects[*l].dlopened = true;
  auto deps = r.load_dependencies(std::deque<size_t>(added.begin(), added.end()), added);
  if (!deps) return with_context(std::move(deps).error(), "dlopen " + name);
  std::vector<size_t> out{*l};
  for (size_t i : added)
    if (i != *l) out.push_back(i);
  return out;
}

}  // namespace least::analyze
