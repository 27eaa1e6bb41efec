// One program's call graph over all its objects: imports bound to the
// objects that export them (ld.so's global scope, in load order), IFUNC
// calls to every candidate of the resolver, indirect calls to every function
// whose address is taken, then reachability from the roots and syscall
// numbers resolved through the callers' arguments (the libc `syscall()`
// wrapper, thin wrappers, `socket(AF_INET, ...)` through libc's socket).
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "analyze/object_summary.h"

namespace least::analyze {

struct ProgramObject {
  std::string path;
  const ObjectSummary* summary = nullptr;
  // Loaded by dlopen: its exported functions are what dlsym hands out, so
  // all of them are roots.
  bool dlopened = false;
};

struct FunctionRef {
  uint32_t object = 0;
  uint32_t function = 0;  // index into that summary's functions
  auto operator<=>(const FunctionRef&) const = default;
};

// A value as the whole program can pass it: the constants known to reach
// it, and whether other values may too (`any`). A syscall number with `any`
// is flagged, and its known constants are still counted.
struct Resolved {
  bool any = true;
  std::set<uint64_t> constants;
};

// How a function was first reached (for provenance).
struct Reach {
  enum class How : uint8_t { root, call, indirect };
  How how = How::root;
  std::optional<FunctionRef> from;  // the caller, for call
  const char* root = "";            // "entry", "init, fini or IFUNC resolver", ...
};

// A call of an import by name (execve, dlopen, ...) from reachable code.
struct NamedCall {
  FunctionRef caller;
  FunctionRef callee;
  uint64_t site = 0;
  std::vector<Resolved> args;  // rdi, rsi, rdx, rcx, r8, r9
};

struct SiteRef {
  FunctionRef function;
  uint64_t address = 0;
};

class ProgramGraph {
 public:
  // `objects` in load order: [0] is the program. `interpreter` indexes ld.so
  // when the program has one. `looked_up` are names the program passes to
  // dlsym as constants: the exports of that name are roots.
  ProgramGraph(std::vector<ProgramObject> objects, std::optional<uint32_t> interpreter,
               std::set<std::string> looked_up = {});

  const std::vector<ProgramObject>& objects() const { return objects_; }
  const Function& function(FunctionRef f) const;
  bool reached(FunctionRef f) const { return reach_[id(f)].has_value(); }
  size_t reached_count() const { return reached_order_.size(); }
  size_t function_count() const;
  bool indirect_calls_reached() const { return indirect_reached_; }

  // The chain from a root to `f`, root first.
  std::vector<std::pair<FunctionRef, Reach>> path_to(FunctionRef f) const;

  // Every syscall number a reachable site can make, each with the sites and
  // the values of the argument registers rdi, rsi, rdx, r10, r8, r9 there.
  struct SyscallFinding {
    std::vector<SiteRef> sites;
    std::vector<Resolved> args;  // size 6, joined over the sites
  };
  const std::map<uint64_t, SyscallFinding>& syscalls() const { return syscalls_; }
  // Reachable sites whose number is not a constant (with the reason).
  const std::vector<std::pair<SiteRef, std::string>>& unknown_numbers() const {
    return unknown_numbers_;
  }

  // Reachable calls of the exported functions named `name` (in any object).
  // (Not const: argument resolution is memoised.)
  std::vector<NamedCall> calls_of(const std::string& name);

  // Imports nothing in the program exports (weak ones are fine).
  const std::vector<std::string>& unbound() const { return unbound_; }

  std::string describe(FunctionRef f) const;  // "libc.so.6:socket"

 private:
  struct Edge {
    FunctionRef caller;
    const CallSite* site = nullptr;  // null: an indirect call (args unknown)
  };
  void bind_imports();
  void reach_all();
  void reach(FunctionRef f, Reach why, std::vector<FunctionRef>& work);
  // Functions are numbered densely across objects for the tables below.
  uint32_t id(FunctionRef f) const { return base_[f.object] + f.function; }
  FunctionRef ref(uint32_t id) const;
  std::optional<FunctionRef> function_at(uint32_t object, uint64_t address) const;
  Resolved resolve(const Value& v, FunctionRef in);
  Resolved argument_of(FunctionRef f, uint8_t k);
  void collect_syscalls();

  std::vector<ProgramObject> objects_;
  std::optional<uint32_t> interpreter_;
  std::set<std::string> looked_up_;
  // Per object, per import: the functions a call to it can enter.
  std::vector<std::vector<std::vector<FunctionRef>>> bound_;
  std::vector<std::string> unbound_;
  std::vector<uint32_t> base_;               // per object: the id of its first function
  std::vector<std::optional<Reach>> reach_;  // by id
  std::vector<uint32_t> reached_order_;      // ids, in the order reached
  // Who calls each function, as one flat table (built once reach_all is
  // done): the calls into function `id` are callers_[caller_index_[id] ..
  // caller_index_[id + 1]). One vector per function cost a heap block each.
  std::vector<std::pair<uint32_t, Edge>> calls_found_;  // (callee id, call)
  std::vector<Edge> callers_;
  std::vector<uint32_t> caller_index_;
  std::span<const Edge> callers_of(FunctionRef f) const {
    return {callers_.data() + caller_index_[id(f)], callers_.data() + caller_index_[id(f) + 1]};
  }
  std::vector<uint8_t> taken_;  // by id: a target of any indirect call
  std::vector<FunctionRef> taken_list_;
  std::vector<uint8_t> any_arguments_;  // by id: roots and indirect targets
  bool indirect_reached_ = false;
  // (id * 6 + argument) -> its values; nullopt while being computed.
  std::unordered_map<uint64_t, std::optional<Resolved>> argument_memo_;
  std::map<uint64_t, SyscallFinding> syscalls_;
  std::vector<std::pair<SiteRef, std::string>> unknown_numbers_;
};

}  // namespace least::analyze
