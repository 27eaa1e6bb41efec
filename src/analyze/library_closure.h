// The objects the dynamic loader (glibc 2.36's ld.so, Debian 12) loads for a
// program, found the way ld.so finds them, in its load order; and the
// objects a dlopen() from one of them adds.
//
// LD_LIBRARY_PATH and LD_PRELOAD are deliberately not used: the analysis is
// of the program as installed, not of one environment it may run in. Nor is
// secure (setuid) mode's narrowing of $ORIGIN modelled.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "analyze/elf_dynamic.h"
#include "analyze/ld_so_cache.h"
#include "base/error.h"

namespace least::analyze {

struct LoadedObject {
  std::string path;       // as found: the candidate ld.so opened (PT_INTERP for the loader)
  std::string real_path;  // symlinks resolved
  std::string soname;     // DT_SONAME, "" when none
  DynamicInfo info;
  // The objects its DT_NEEDED entries resolved to, in DT_NEEDED order
  // (indexes into Closure::objects).
  std::vector<size_t> needed;
  // The object whose DT_NEEDED (or dlopen) loaded it first: its DT_RPATH
  // chain is searched for this object's own dependencies.
  std::optional<size_t> loader;
  // Every name a later request matches without searching: the names it was
  // requested by, `path` and the soname (ld.so's _dl_name_match_p).
  std::vector<std::string> names;
  bool is_interpreter = false;
  bool dlopened = false;
};

struct Closure {
  // [0] is the program, then ld.so's load order (breadth-first over
  // DT_NEEDED); the interpreter where it is first needed, else last.
  std::vector<LoadedObject> objects;
  std::optional<size_t> interpreter;
  // The ld.so.cache in force (empty when the file is absent or malformed,
  // which ld.so also takes as no cache), kept for resolve_dlopen.
  std::shared_ptr<const LdSoCache> cache;
  std::vector<std::string> notes;  // e.g. "no usable /etc/ld.so.cache: ..."
};

Result<Closure> resolve_closure(const std::string& program);
// Same with a given cache (tests; several programs sharing one parse).
Result<Closure> resolve_closure(const std::string& program, std::shared_ptr<const LdSoCache> cache);

// Adds what dlopen(name) from closure.objects[requester] loads: the object
// (searched as ld.so searches for that caller: the RPATH chain, RUNPATH,
// the cache, the default directories) and its dependencies. Returns the
// object for `name` first, then the objects it newly added; an object
// already in the closure is found, not added again.
Result<std::vector<size_t>> resolve_dlopen(Closure& closure, size_t requester,
                                           const std::string& name);

// Debian 12's ld.so expansion of $LIB and $PLATFORM on this machine.
std::string dst_lib();
std::string dst_platform();

}  // namespace least::analyze
