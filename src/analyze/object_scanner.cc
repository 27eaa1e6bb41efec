#include "analyze/object_scanner.h"

#include <Zydis/Zydis.h>
#include <elf.h>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>

#include "analyze/elf_file.h"
#include "analyze/register_flow.h"

namespace least::analyze {

namespace {

constexpr uint8_t kNoGpr = 0xff;

uint8_t gpr_index(ZydisRegister r) {
  ZydisRegisterClass c = ZydisRegisterGetClass(r);
  if (c != ZYDIS_REGCLASS_GPR8 && c != ZYDIS_REGCLASS_GPR16 && c != ZYDIS_REGCLASS_GPR32 &&
      c != ZYDIS_REGCLASS_GPR64)
    return kNoGpr;
  ZydisRegister big = ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, r);
  if (big < ZYDIS_REGISTER_RAX || big > ZYDIS_REGISTER_R15) return kNoGpr;
  return static_cast<uint8_t>(big - ZYDIS_REGISTER_RAX);  // Zydis order is the Gpr order
}

bool is_plt_name(std::string_view name) {
  return name == ".plt" || name == ".plt.sec" || name == ".plt.got" || name == ".iplt";
}

// Sections whose words are not pointers the program can call through.
bool is_metadata_section(std::string_view n) {
  return n == ".eh_frame" || n == ".eh_frame_hdr" || n == ".gcc_except_table" || n == ".dynsym" ||
         n == ".dynstr" || n == ".symtab" || n == ".strtab" || n == ".gnu.hash" || n == ".hash" ||
         n == ".gnu.version" || n == ".gnu.version_d" || n == ".gnu.version_r" || n == ".dynamic" ||
         n == ".interp" || n.starts_with(".note") || n.starts_with(".rela") ||
         n.starts_with(".relr") || n == ".got" || n == ".got.plt";
}

// Runs fn(0) .. fn(n - 1) on every core, in chunks, in any order.
template <class Fn>
void parallel_for(size_t n, const Fn& fn) {
  constexpr size_t kChunk = 64;
  const size_t chunks = (n + kChunk - 1) / kChunk;
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t c; (c = next.fetch_add(1)) < chunks;)
      for (size_t k = c * kChunk; k < std::min(n, (c + 1) * kChunk); ++k) fn(k);
  };
  const size_t threads =
      std::min<size_t>(std::max(1u, std::thread::hardware_concurrency()), chunks);
  std::vector<std::jthread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
}

// Where a GOT slot (or a PLT stub through its slot) leads.
struct SlotTarget {
  std::optional<uint64_t> local;
  std::optional<uint32_t> import;
};

// What the flow of one function yields besides its Function, kept apart so
// that functions can run on several threads and be merged in address order,
// exactly as one thread would have written them.
struct FlowOutput {
  std::vector<std::string> notes;
  std::vector<uint64_t> pending;  // call targets that are not starts yet
  std::vector<uint64_t> strings;  // constant arguments that may be strings
  // Dynamic symbols used as imports that were not imports yet, in the order
  // first used: their provisional index is kProvisional + symbol.
  std::vector<uint32_t> new_imports;
};
constexpr uint32_t kProvisional = 0x80000000u;

class Scanner {
 public:
  explicit Scanner(const ElfFile& elf) : elf_(elf) {
    ZydisDecoderInit(&decoder_, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
  }
  ObjectSummary run();

 private:
  struct Start {
    uint64_t size = 0;
    std::string name;
  };

  const ElfSection* code_section(uint64_t a) const {
    for (const ElfSection* s : exec_)
      if (s->contains(a)) return s;
    return nullptr;
  }
  bool in_plt(uint64_t a) const {
    for (const ElfSection* s : plt_)
      if (s->contains(a)) return true;
    return false;
  }
  bool is_start(uint64_t a) const { return std::binary_search(sorted_.begin(), sorted_.end(), a); }
  uint64_t end_of(std::map<uint64_t, Start>::const_iterator it) const;
  // Where the code after a start ends at the latest: the next start, or the
  // end of its section.
  uint64_t next_start(std::map<uint64_t, Start>::const_iterator it) const;
  std::optional<uint64_t> containing_start(uint64_t a) const;
  void seed(uint64_t a, uint64_t size = 0, const std::string& name = {});
  uint32_t import_of(const ElfSymbol& s);
  // With `flow` (the flow of one function, maybe on another thread) an import
  // not made yet gets a provisional index, made in analyze_all's merge.
  uint32_t import_in(uint32_t symbol, FlowOutput* flow);
  std::optional<SlotTarget> slot_target(uint64_t slot, FlowOutput* flow = nullptr);
  std::optional<SlotTarget> stub_target(uint64_t stub, FlowOutput* flow = nullptr);
  // One function's decoded code (phase 1), reused by the flow (phase 2).
  struct Code {
    uint64_t end = 0;
    std::vector<Insn> insns;
    std::vector<uint64_t> undecodable;  // bytes skipped
    // From the local call graph: whether some path returns to the caller, and
    // the registers a return may have changed (System V caller-saved only
    // are trusted to the callee's own code; callee-saved are preserved).
    bool returns = true;
    uint16_t writes = kCallClobber;
  };
  // A `jmp reg` or `jmp [table+idx*8]` decoded as a jump table.
  struct TableJump {
    uint32_t jump = 0;              // index of the jmp
    uint32_t load = 0;              // index of the table load (the jmp itself for jmp [T+i*8])
    uint32_t add = 0;               // index of the add of the base (PIC)
    uint8_t base = kNoGpr;          // register of the load's base; kNoGpr: absolute
    uint8_t added = kNoGpr;         // register added to the entry (PIC); kNoGpr: absolute entries
    uint8_t scale = 4;              // 4: rel32 entries, 8: absolute 64-bit entries
    int64_t disp = 0;               // of the load
    std::optional<uint64_t> count;  // from the dominating cmp/ja
    uint32_t guard = 0;             // first instruction the bound guards
    std::optional<std::vector<uint64_t>> targets;
    InsnKind judged = InsnKind::jmp_indirect;  // what the jmp is taken for unread
    bool failed = false;                       // unreadable for good: the fallback
  };

  void collect_roots();
  void analyze_all();
  void discover();
  void local_effects();
  void decode(uint64_t begin, uint64_t end, Code& out);
  // Decodes and lowers the instruction at `a` (`bytes` are its bytes, `left`
  // how many may be read); false when the bytes do not decode.
  bool lower(uint64_t a, const uint8_t* bytes, uint64_t left, Insn& x);
  bool decode_at(uint64_t a, ZydisDecodedInstruction& ins, ZydisDecodedOperand* ops);
  std::optional<uint64_t> word_at(uint64_t a) const;
  std::optional<SlotTarget> callee_of(const Insn& x, uint64_t begin, uint64_t end);
  std::vector<TableJump> table_jumps(const std::vector<Insn>& insns);
  std::optional<std::vector<uint64_t>> table_targets(const TableJump& t, const RegState& at_load,
                                                     const RegState& at_add,
                                                     const std::vector<Insn>& insns, uint64_t begin,
                                                     uint64_t end);
  // The flow over one function: its summary in `f`, what it could not
  // follow in `notes`.
  void analyze(uint64_t begin, Code& code, Function& f, FlowOutput& out);
  void data_references();
  void add_string(uint64_t a);
  void decode_failure(uint64_t at);

  const ElfFile& elf_;
  ZydisDecoder decoder_;
  ObjectSummary out_;
  std::vector<const ElfSection*> exec_;
  std::vector<const ElfSection*> plt_;
  std::vector<const ElfSection*> got_;
  std::unordered_map<uint64_t, const ElfRelocation*> reloc_at_;
  std::map<Import, uint32_t> import_index_;
  // PLT stub → its GOT slot; shared by the threads of the flow.
  std::unordered_map<uint64_t, std::optional<uint64_t>> stubs_;
  std::mutex stubs_mutex_;
  std::map<uint64_t, Start> starts_;
  std::vector<uint64_t> sorted_;   // the final starts, once all are known
  std::vector<uint64_t> pending_;  // direct targets found that are not starts yet
  std::map<uint64_t, Code> code_;  // start → its decoded code
  // Every instruction decoded so far, by address: functions overlap and are
  // decoded again when a start splits them or their code runs on, and Zydis
  // was most of a cold analysis. Per executable section (exec_), per byte:
  // 0, or 1 + the index of the instruction starting there in `lowered_`.
  std::vector<std::vector<uint32_t>> lowered_at_;
  std::vector<Insn> lowered_;
  // Code::returns and Code::writes by start, for the lookups of the flow.
  struct Effect {
    uint64_t start;
    bool returns;
    uint16_t writes;
  };
  std::vector<Effect> effects_;
  std::vector<uint64_t> decoded_;  // the starts discover() decoded (again)
  std::map<std::string, std::pair<size_t, uint64_t>> decode_failures_;  // section → count, first
};

uint64_t Scanner::end_of(std::map<uint64_t, Start>::const_iterator it) const {
  const ElfSection* s = code_section(it->first);
  uint64_t end = s ? s->addr + s->size : it->first;
  if (it->second.size) return std::min(end, it->first + it->second.size);
  if (auto next = std::next(it); next != starts_.end()) end = std::min(end, next->first);
  return end;
}

namespace {
bool falls_through(const Insn& x) {
  switch (x.kind) {
    case InsnKind::jmp:
    case InsnKind::jmp_memory:
    case InsnKind::jmp_indirect:
    case InsnKind::jump_table:
    case InsnKind::ret:
    case InsnKind::stop:
      return false;
    default:
      return true;
  }
}
}  // namespace

uint64_t Scanner::next_start(std::map<uint64_t, Start>::const_iterator it) const {
  const ElfSection* s = code_section(it->first);
  uint64_t end = s ? s->addr + s->size : it->first;
  if (auto next = std::next(it); next != starts_.end()) end = std::min(end, next->first);
  return end;
}

// The function whose code holds `a`: a pointer into a function (not at its
// start) still runs that function's code.
std::optional<uint64_t> Scanner::containing_start(uint64_t a) const {
  if (!code_section(a)) return std::nullopt;
  auto it = std::upper_bound(sorted_.begin(), sorted_.end(), a);
  if (it == sorted_.begin()) return std::nullopt;
  uint64_t start = *std::prev(it);
  if (code_section(start) != code_section(a)) return std::nullopt;
  return start;
}

void Scanner::seed(uint64_t a, uint64_t size, const std::string& name) {
  if (!code_section(a)) return;
  Start& s = starts_[a];
  s.size = std::max(s.size, size);
  if (s.name.empty()) s.name = name;
}

uint32_t Scanner::import_of(const ElfSymbol& s) {
  Import imp{s.name, s.version, s.bind == STB_WEAK};
  auto [it, fresh] = import_index_.try_emplace(imp, static_cast<uint32_t>(out_.imports.size()));
  if (fresh) out_.imports.push_back(std::move(imp));
  return it->second;
}

uint32_t Scanner::import_in(uint32_t symbol, FlowOutput* flow) {
  const ElfSymbol& s = elf_.dynamic_symbols()[symbol];
  if (!flow) return import_of(s);
  // Read only while the flow runs on several threads.
  if (auto it = import_index_.find(Import{s.name, s.version, s.bind == STB_WEAK});
      it != import_index_.end())
    return it->second;
  if (std::find(flow->new_imports.begin(), flow->new_imports.end(), symbol) ==
      flow->new_imports.end())
    flow->new_imports.push_back(symbol);
  return kProvisional + symbol;
}

// Only GOT slots: they are read-only once relocated, where a function
// pointer in .data with a RELATIVE relocation may be changed at run time.
std::optional<SlotTarget> Scanner::slot_target(uint64_t slot, FlowOutput* flow) {
  if (std::none_of(got_.begin(), got_.end(), [&](auto* s) { return s->contains(slot); }))
    return std::nullopt;
  auto it = reloc_at_.find(slot);
  if (it == reloc_at_.end()) {
    // A GOT slot the static linker filled (non-PIE): its word is the target.
    if (auto w = elf_.read_u64(slot); w && code_section(*w)) return SlotTarget{*w, std::nullopt};
    return std::nullopt;
  }
  const ElfRelocation& r = *it->second;
  switch (r.type) {
    case R_X86_64_RELATIVE:
    case R_X86_64_IRELATIVE:
      return SlotTarget{static_cast<uint64_t>(r.addend), std::nullopt};
    case R_X86_64_JUMP_SLOT:
    case R_X86_64_GLOB_DAT:
    case R_X86_64_64: {
      if (!r.symbol) return std::nullopt;
      const ElfSymbol& sym = elf_.dynamic_symbols()[r.symbol];
      // Through the GOT even a symbol defined here is interposable: an import.
      if (sym.function() || (!sym.defined() && sym.type == STT_NOTYPE))
        return SlotTarget{std::nullopt, import_in(static_cast<uint32_t>(r.symbol), flow)};
      return std::nullopt;
    }
    default:
      return std::nullopt;
  }
}

std::optional<SlotTarget> Scanner::stub_target(uint64_t stub, FlowOutput* flow) {
  std::optional<uint64_t> found;
  {
    std::lock_guard lock(stubs_mutex_);
    if (auto it = stubs_.find(stub); it != stubs_.end())
      return it->second ? slot_target(*it->second, flow) : std::nullopt;
  }
  uint64_t a = stub;
  for (int n = 0; n < 3; ++n) {
    auto bytes = elf_.bytes_at(a);
    ZydisDecodedInstruction ins;
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
    if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&decoder_, bytes.data(), bytes.size(), &ins, ops)))
      break;
    if (ins.mnemonic == ZYDIS_MNEMONIC_ENDBR64 || ins.mnemonic == ZYDIS_MNEMONIC_NOP) {
      a += ins.length;
      continue;
    }
    if (ins.mnemonic == ZYDIS_MNEMONIC_JMP && ops[0].type == ZYDIS_OPERAND_TYPE_MEMORY &&
        ops[0].mem.base == ZYDIS_REGISTER_RIP) {
      ZyanU64 slot = 0;
      if (ZYAN_SUCCESS(ZydisCalcAbsoluteAddress(&ins, &ops[0], a, &slot))) found = slot;
    }
    break;
  }
  {
    std::lock_guard lock(stubs_mutex_);
    stubs_.emplace(stub, found);
  }
  return found ? slot_target(*found, flow) : std::nullopt;
}

// The pointer-sized word at `a` once relocated, when this object alone says.
std::optional<uint64_t> Scanner::word_at(uint64_t a) const {
  if (auto it = reloc_at_.find(a); it != reloc_at_.end()) {
    const ElfRelocation& r = *it->second;
    if (r.type == R_X86_64_RELATIVE) return static_cast<uint64_t>(r.addend);
    if (r.type == R_X86_64_64 && r.symbol && elf_.dynamic_symbols()[r.symbol].defined())
      return elf_.dynamic_symbols()[r.symbol].value + r.addend;
    return std::nullopt;
  }
  return elf_.read_u64(a);
}

void Scanner::collect_roots() {
  std::vector<uint64_t> roots;
  auto array = [&](uint64_t a, uint64_t size) {
    for (uint64_t i = 0; i + 8 <= size; i += 8)
      if (auto w = word_at(a + i); w && *w && *w != ~uint64_t{0}) roots.push_back(*w);
  };
  if (auto v = elf_.dynamic_value(DT_INIT)) roots.push_back(*v);
  if (auto v = elf_.dynamic_value(DT_FINI)) roots.push_back(*v);
  const std::pair<int64_t, int64_t> arrays[] = {{DT_INIT_ARRAY, DT_INIT_ARRAYSZ},
                                                {DT_FINI_ARRAY, DT_FINI_ARRAYSZ},
                                                {DT_PREINIT_ARRAY, DT_PREINIT_ARRAYSZ}};
  for (auto [tag, size_tag] : arrays)
    if (auto a = elf_.dynamic_value(tag)) array(*a, elf_.dynamic_value(size_tag).value_or(0));
  // Objects without a dynamic section (static executables) still have them.
  for (const char* name : {".init_array", ".fini_array", ".preinit_array"})
    if (const ElfSection* s = elf_.section(name)) array(s->addr, s->size);
  for (const ElfRelocation& r : elf_.relocations())
    if (r.type == R_X86_64_IRELATIVE) roots.push_back(static_cast<uint64_t>(r.addend));
  for (uint64_t r : roots) {
    if (code_section(r)) {
      seed(r);
      out_.roots.push_back(r);
    } else {
      out_.notes.push_back(fmt::format("root {:#x} is not in an executable section", r));
    }
  }
}

void Scanner::decode_failure(uint64_t at) {
  const ElfSection* s = code_section(at);
  auto& [count, first] = decode_failures_[s ? s->name : "?"];
  if (count++ == 0) first = at;
}

bool Scanner::decode_at(uint64_t a, ZydisDecodedInstruction& ins, ZydisDecodedOperand* ops) {
  auto bytes = elf_.bytes_at(a);
  return ZYAN_SUCCESS(ZydisDecoderDecodeFull(&decoder_, bytes.data(), bytes.size(), &ins, ops));
}

void Scanner::decode(uint64_t begin, uint64_t end, Code& code) {
  code.end = end;
  code.undecodable.clear();
  // Decoded into a scratch vector, then copied at its exact size: growing
  // each function's own vector cost reallocations and a slower teardown.
  static thread_local std::vector<Insn> out;
  out.clear();
  auto si = std::find_if(exec_.begin(), exec_.end(), [&](auto* s) { return s->contains(begin); });
  if (si == exec_.end()) {
    code.insns.clear();
    return;
  }
  const ElfSection* s = *si;
  std::vector<uint32_t>& at = lowered_at_[static_cast<size_t>(si - exec_.begin())];
  if (at.empty()) at.assign(s->size, 0);
  const uint8_t* base = s->data + (begin - s->addr);
  for (uint64_t a = begin; a < end;) {
    // An instruction decoded before is the same here when it fits before
    // `end` (one that does not fit fails to decode, as Zydis would).
    if (uint32_t k = at[a - s->addr]; k && a + lowered_[k - 1].length <= end) {
      out.push_back(lowered_[k - 1]);
      a += lowered_[k - 1].length;
      continue;
    }
    Insn x;
    if (!lower(a, base + (a - begin), end - a, x)) {
      code.undecodable.push_back(a);
      ++a;
      continue;
    }
    lowered_.push_back(x);
    at[a - s->addr] = static_cast<uint32_t>(lowered_.size());
    out.push_back(x);
    a += x.length;
  }
  code.insns.assign(out.begin(), out.end());
}

bool Scanner::lower(uint64_t a, const uint8_t* bytes, uint64_t left, Insn& x) {
  const bool exec_type = elf_.type() == ET_EXEC;
  ZydisDecodedInstruction ins;
  ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
  if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&decoder_, bytes, left, &ins, ops))) return false;
  x.address = a;
  x.length = ins.length;
  for (uint8_t i = 0; i < ins.operand_count; ++i) {
    const ZydisDecodedOperand& op = ops[i];
    if (op.type == ZYDIS_OPERAND_TYPE_REGISTER && (op.actions & ZYDIS_OPERAND_ACTION_MASK_WRITE)) {
      if (uint8_t g = gpr_index(op.reg.value); g != kNoGpr) x.clobber |= uint16_t(1u << g);
    } else if (op.type == ZYDIS_OPERAND_TYPE_MEMORY) {
      if (op.mem.base == ZYDIS_REGISTER_RIP) {
        ZyanU64 abs = 0;
        if (ZYAN_SUCCESS(ZydisCalcAbsoluteAddress(&ins, &op, a, &abs))) x.memory = abs;
      } else if (exec_type && op.mem.base == ZYDIS_REGISTER_NONE &&
                 op.mem.index == ZYDIS_REGISTER_NONE && op.mem.disp.has_displacement &&
                 op.mem.segment != ZYDIS_REGISTER_FS && op.mem.segment != ZYDIS_REGISTER_GS) {
        x.memory = static_cast<uint64_t>(op.mem.disp.value);
      }
      if (op.mem.index != ZYDIS_REGISTER_NONE && (op.mem.scale == 4 || op.mem.scale == 8) &&
          op.mem.type == ZYDIS_MEMOP_TYPE_MEM)
        x.scaled_load = true;
      if (op.mem.type == ZYDIS_MEMOP_TYPE_AGEN) x.lea = true;
    } else if (op.type == ZYDIS_OPERAND_TYPE_IMMEDIATE && !op.imm.is_relative &&
               op.visibility == ZYDIS_OPERAND_VISIBILITY_EXPLICIT) {
      x.has_immediate = true;
      x.immediate = op.imm.value.u;
    }
  }
  auto branch_target = [&]() -> std::optional<uint64_t> {
    ZyanU64 t = 0;
    if (ops[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE &&
        ZYAN_SUCCESS(ZydisCalcAbsoluteAddress(&ins, &ops[0], a, &t)))
      return t;
    return std::nullopt;
  };
  auto memory_slot = [&]() {
    return ops[0].type == ZYDIS_OPERAND_TYPE_MEMORY && x.memory &&
           ops[0].mem.index == ZYDIS_REGISTER_NONE;
  };
  const auto cat = ins.meta.category;
  switch (ins.mnemonic) {
    case ZYDIS_MNEMONIC_CALL:
      x.clobber |= kCallClobber | gpr_bit(Gpr::rsp);
      if (auto t = branch_target())
        x.kind = InsnKind::call, x.target = *t;
      else
        x.kind = memory_slot() ? InsnKind::call_memory : InsnKind::call_indirect;
      break;
    case ZYDIS_MNEMONIC_JMP:
      if (auto t = branch_target())
        x.kind = InsnKind::jmp, x.target = *t;
      else
        x.kind = memory_slot() ? InsnKind::jmp_memory : InsnKind::jmp_indirect;
      x.notrack = ins.attributes & ZYDIS_ATTRIB_HAS_NOTRACK;
      break;
    case ZYDIS_MNEMONIC_SYSCALL:
      // The kernel's result and the return address and flags it keeps.
      x.clobber |= gpr_bit(Gpr::rax) | gpr_bit(Gpr::rcx) | gpr_bit(Gpr::r11);
      x.kind = InsnKind::syscall;
      break;
    case ZYDIS_MNEMONIC_SYSENTER:
      x.clobber |= kCallClobber;
      x.kind = InsnKind::legacy_syscall;
      break;
    case ZYDIS_MNEMONIC_INT:
      if (x.immediate == 0x80) x.clobber |= gpr_bit(Gpr::rax), x.kind = InsnKind::legacy_syscall;
      break;
    case ZYDIS_MNEMONIC_HLT:
    case ZYDIS_MNEMONIC_UD0:
    case ZYDIS_MNEMONIC_UD1:
    case ZYDIS_MNEMONIC_UD2:
    case ZYDIS_MNEMONIC_INT3:
    case ZYDIS_MNEMONIC_IRETQ:
    case ZYDIS_MNEMONIC_SYSRET:
      x.kind = InsnKind::stop;
      break;
    case ZYDIS_MNEMONIC_MOV:
      if (ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER && (ops[0].size == 64 || ops[0].size == 32) &&
          gpr_index(ops[0].reg.value) != kNoGpr) {
        const bool wide = ops[0].size == 64;
        if (ops[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
          x.def_kind = DefKind::constant;
          x.value = wide ? ops[1].imm.value.u : (ops[1].imm.value.u & 0xffffffffu);
        } else if (ops[1].type == ZYDIS_OPERAND_TYPE_REGISTER && ops[1].size == ops[0].size &&
                   gpr_index(ops[1].reg.value) != kNoGpr) {
          x.def_kind = wide ? DefKind::copy64 : DefKind::copy32;
          x.src = gpr_index(ops[1].reg.value);
        }
        x.def = gpr_index(ops[0].reg.value);
      }
      break;
    case ZYDIS_MNEMONIC_LEA:
      if ((ops[0].size == 64 || ops[0].size == 32) && ops[1].mem.base == ZYDIS_REGISTER_RIP &&
          x.memory) {
        x.def_kind = DefKind::constant;
        x.value = ops[0].size == 64 ? x.memory : (x.memory & 0xffffffffu);
        x.def = gpr_index(ops[0].reg.value);
      }
      break;
    case ZYDIS_MNEMONIC_XOR:
    case ZYDIS_MNEMONIC_SUB:
      if (ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER &&
          ops[1].type == ZYDIS_OPERAND_TYPE_REGISTER && ops[0].reg.value == ops[1].reg.value &&
          (ops[0].size == 64 || ops[0].size == 32) && gpr_index(ops[0].reg.value) != kNoGpr) {
        x.def_kind = DefKind::constant;
        x.value = 0;
        x.def = gpr_index(ops[0].reg.value);
      }
      break;
    default:
      if (cat == ZYDIS_CATEGORY_COND_BR) {
        if (auto t = branch_target()) x.kind = InsnKind::jcc, x.target = *t;
      } else if (cat == ZYDIS_CATEGORY_RET) {
        x.kind = InsnKind::ret;
      }
  }
  if (x.def_kind == DefKind::none) x.def = 0;
  // A jmp through memory that is not an import slot is an indirect jmp.
  if (x.kind == InsnKind::jmp_memory && !slot_target(x.memory)) x.kind = InsnKind::jmp_indirect;
  return true;
}

void Scanner::add_string(uint64_t a) {
  if (out_.strings.contains(a)) return;
  const ElfSection* s = elf_.section_at(a);
  if (!s || s->exec() || !s->data || is_metadata_section(s->name)) return;
  auto bytes = elf_.bytes_at(a);
  std::string text;
  for (size_t i = 0; i < bytes.size() && i <= 4096; ++i) {
    unsigned char c = bytes[i];
    if (c == 0) {
      if (!text.empty()) out_.strings.emplace(a, std::move(text));
      return;
    }
    if (!std::isprint(c) && c != '\t' && c != '\n' && c != '\r') return;
    text.push_back(static_cast<char>(c));
  }
}

// The function a call, an outward jump or a jump through a GOT slot leads to
// (a local function or an import), without notes: callee_of is asked again.
std::optional<SlotTarget> Scanner::callee_of(const Insn& x, uint64_t begin, uint64_t end) {
  switch (x.kind) {
    case InsnKind::call:
    case InsnKind::jmp:
    case InsnKind::jcc:
      if (x.kind != InsnKind::call && x.target >= begin && x.target < end) return std::nullopt;
      if (in_plt(x.target)) return stub_target(x.target);
      return SlotTarget{x.target, std::nullopt};
    case InsnKind::call_memory:
    case InsnKind::jmp_memory:
      return slot_target(x.memory);
    default:
      return std::nullopt;
  }
}

// Recognises the jump tables GCC and Clang emit (the table itself is read
// once the flow knows the base, in analyze):
//   PIC:     movslq d(%rA,%rI,4),%rB; add %rA,%rB; jmp *%rB  (or add %rB,%rA;
//            jmp *%rA), with %rA from an earlier lea T(%rip),%rA
//   non-PIC: jmp *T(,%rI,8), or mov T(,%rI,8),%rB; jmp *%rB
// and the bound from `cmp $N,%rI; ja default` right before the load.
std::vector<Scanner::TableJump> Scanner::table_jumps(const std::vector<Insn>& insns) {
  std::vector<TableJump> out;
  ZydisDecodedInstruction ins;
  ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
  auto reg64 = [](const ZydisDecodedOperand& op) {
    return op.type == ZYDIS_OPERAND_TYPE_REGISTER && op.size == 64 ? gpr_index(op.reg.value)
                                                                   : kNoGpr;
  };
  auto writes = [](const Insn& x, uint8_t r) {
    return r != kNoGpr && (((x.clobber >> r) & 1) || (x.def_kind != DefKind::none && x.def == r));
  };
  // The table load: `index` register, scale, base (or none), displacement.
  struct Load {
    uint8_t base = kNoGpr, index = kNoGpr, scale = 0;
    int64_t disp = 0;
  };
  auto table_load = [&](const ZydisDecodedOperand& m) -> std::optional<Load> {
    if (m.type != ZYDIS_OPERAND_TYPE_MEMORY || m.mem.type != ZYDIS_MEMOP_TYPE_MEM ||
        m.mem.segment == ZYDIS_REGISTER_FS || m.mem.segment == ZYDIS_REGISTER_GS)
      return std::nullopt;
    Load l;
    l.index = gpr_index(m.mem.index);
    l.scale = m.mem.scale;
    l.disp = m.mem.disp.has_displacement ? m.mem.disp.value : 0;
    if (m.mem.base != ZYDIS_REGISTER_NONE) {
      l.base = gpr_index(m.mem.base);
      if (l.base == kNoGpr) return std::nullopt;
    }
    if (l.index == kNoGpr || l.index == l.base) return std::nullopt;
    return l;
  };
  // The last instruction before `i` (within `window`) writing `r`, if it
  // is a plain instruction and nothing between branches.
  auto last_write = [&](size_t i, uint8_t r, size_t window) -> std::optional<size_t> {
    for (size_t k = i; k-- > 0 && k + window >= i;) {
      if (insns[k].kind != InsnKind::other) return std::nullopt;
      if (writes(insns[k], r)) return k;
    }
    return std::nullopt;
  };
  for (size_t j = 0; j < insns.size(); ++j) {
    const Insn& x = insns[j];
    if (x.kind != InsnKind::jmp_indirect || !decode_at(x.address, ins, ops)) continue;
    TableJump t;
    t.jump = static_cast<uint32_t>(j);
    std::optional<Load> load;
    if (ops[0].type == ZYDIS_OPERAND_TYPE_MEMORY) {
      load = table_load(ops[0]);  // jmp *T(,%rI,8)
      if (!load || load->base != kNoGpr || load->scale != 8) continue;
      t.load = t.jump;
      t.scale = 8;
    } else {
      const uint8_t target = reg64(ops[0]);
      auto w = last_write(j, target, 4);
      if (!w || !decode_at(insns[*w].address, ins, ops)) continue;
      if (ins.mnemonic == ZYDIS_MNEMONIC_MOV && reg64(ops[0]) == target) {
        load = table_load(ops[1]);  // mov T(,%rI,8),%rB; jmp *%rB
        if (!load || load->base != kNoGpr || load->scale != 8) continue;
        t.load = static_cast<uint32_t>(*w);
        t.scale = 8;
      } else if (ins.mnemonic == ZYDIS_MNEMONIC_ADD && reg64(ops[0]) == target &&
                 reg64(ops[1]) != kNoGpr) {
        const uint8_t other = reg64(ops[1]);
        t.add = static_cast<uint32_t>(*w);
        // Which side of the add is the entry: the one a movslq loaded last.
        for (uint8_t entry : {target, other}) {
          auto l = last_write(t.add, entry, 4);
          if (!l || !decode_at(insns[*l].address, ins, ops) ||
              ins.mnemonic != ZYDIS_MNEMONIC_MOVSXD || reg64(ops[0]) != entry)
            continue;
          load = table_load(ops[1]);
          if (!load || load->scale != 4 || load->base == kNoGpr) {
            load.reset();
            continue;
          }
          t.load = static_cast<uint32_t>(*l);
          t.added = entry == target ? other : target;
          // The added register must hold the same value at the add as it
          // is read there: nothing between the load and the add writes it
          // but the load itself (when it is the entry, it is not added).
          bool clean = true;
          for (uint32_t k = t.load + 1; k < t.add; ++k) clean = clean && !writes(insns[k], t.added);
          if (!clean) load.reset();
          break;
        }
        if (!load) continue;
        t.scale = 4;
      } else {
        continue;
      }
    }
    t.base = load->base;
    t.disp = load->disp;
    // The bound: `cmp $N,%eI/%rI; ja default` (or jae), then only
    // instructions that leave the index alone (or zero-extend it).
    for (size_t k = t.load; k-- > 0 && k + 6 >= t.load;) {
      const Insn& y = insns[k];
      if (y.kind == InsnKind::jcc) {
        ZydisDecodedInstruction jins;
        ZydisDecodedOperand jops[ZYDIS_MAX_OPERAND_COUNT];
        if (k == 0 || !decode_at(y.address, jins, jops) ||
            (jins.mnemonic != ZYDIS_MNEMONIC_JNBE && jins.mnemonic != ZYDIS_MNEMONIC_JNB) ||
            !decode_at(insns[k - 1].address, ins, ops) || ins.mnemonic != ZYDIS_MNEMONIC_CMP ||
            ops[0].type != ZYDIS_OPERAND_TYPE_REGISTER ||
            (ops[0].size != 32 && ops[0].size != 64) ||
            gpr_index(ops[0].reg.value) != load->index ||
            ops[1].type != ZYDIS_OPERAND_TYPE_IMMEDIATE)
          break;
        const uint64_t n =
            ops[0].size == 32 ? ops[1].imm.value.u & 0xffffffffu : ops[1].imm.value.u;
        if (n >= 65536) break;
        t.count = jins.mnemonic == ZYDIS_MNEMONIC_JNBE ? n + 1 : n;
        t.guard = static_cast<uint32_t>(k + 1);
        break;
      }
      if (y.kind != InsnKind::other) break;
      if (writes(y, load->index)) {
        // mov %eI,%eI zero-extends what the 32-bit cmp bounded.
        if (!(y.def_kind == DefKind::copy32 && y.def == load->index && y.src == load->index)) break;
      }
    }
    out.push_back(std::move(t));
  }
  return out;
}

// The targets of table `t` given the states at its load and add: every
// combination of the base's and the added register's constants; nullopt
// when they are not constants or an entry is not code.
std::optional<std::vector<uint64_t>> Scanner::table_targets(const TableJump& t,
                                                            const RegState& at_load,
                                                            const RegState& at_add,
                                                            const std::vector<Insn>& insns,
                                                            uint64_t begin, uint64_t end) {
  auto constants_of = [](const AbsValue& v) -> std::optional<std::vector<uint64_t>> {
    if (v.kind != AbsValue::constants) return std::nullopt;
    return std::vector<uint64_t>(v.c.begin(), v.c.begin() + v.count);
  };
  std::vector<uint64_t> bases{0}, addends{0};
  if (t.base != kNoGpr) {
    auto b = constants_of(at_load[t.base]);
    if (!b) return std::nullopt;
    bases = *b;
  }
  if (t.added != kNoGpr) {
    auto a = constants_of(at_add[t.added]);
    if (!a) return std::nullopt;
    addends = *a;
  }
  auto insn_start = [&](uint64_t a) {
    auto it = std::lower_bound(insns.begin(), insns.end(), a,
                               [](const Insn& i, uint64_t v) { return i.address < v; });
    return it != insns.end() && it->address == a;
  };
  // Past this many entries an unbounded table is not trusted to have ended.
  constexpr uint64_t kMaxUnbounded = 4096;
  // Absolute entries without a bound may as well be an array of function
  // pointers (an indirect tail call): not read.
  if (!t.count && t.scale != 4) return std::nullopt;
  std::vector<uint64_t> out;
  for (uint64_t base : bases)
    for (uint64_t addend : addends) {
      const uint64_t table = base + static_cast<uint64_t>(t.disp);
      for (uint64_t i = 0; t.count ? i < *t.count : true; ++i) {
        if (!t.count && i == kMaxUnbounded) return std::nullopt;
        const uint64_t slot = table + i * t.scale;
        // Entries the program may rewrite are no table of this function.
        const ElfSection* s = elf_.section_at(slot);
        if (!s || !s->alloc() || (s->flags & SHF_WRITE) || !s->data ||
            slot + t.scale > s->addr + s->size) {
          if (t.count) return std::nullopt;
          break;
        }
        std::optional<uint64_t> target;
        if (t.scale == 4) {
          int32_t rel;
          std::memcpy(&rel, s->data + (slot - s->addr), 4);
          target = addend + static_cast<uint64_t>(static_cast<int64_t>(rel));
        } else {
          target = word_at(slot);
        }
        const bool inside = target && *target >= begin && *target < end;
        if (!t.count) {
          // Unbounded: the real entries all lead to instructions of this
          // function, so reading stops at the first that does not.
          if (!inside || !insn_start(*target)) break;
        } else if (!target || !code_section(*target)) {
          return std::nullopt;  // not a table of code after all
        }
        out.push_back(*target);
      }
    }
  if (out.empty()) return std::nullopt;
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void Scanner::analyze(uint64_t begin, Code& code, Function& f, FlowOutput& out) {
  static thread_local std::vector<Insn> insns;
  static thread_local RegisterFlow flow;
  const uint64_t end = code.end;
  insns = code.insns;  // kinds and clobbers change below; the code is kept
  if (insns.empty()) return;

  // Direct calls to local functions clobber what the callee may write
  // (GCC's -fipa-ra keeps values in the others), and a callee that never
  // returns ends the block.
  for (Insn& x : insns) {
    if (x.kind != InsnKind::call || in_plt(x.target)) continue;
    auto it = std::lower_bound(effects_.begin(), effects_.end(), x.target,
                               [](const Effect& e, uint64_t a) { return e.start < a; });
    if (it == effects_.end() || it->start != x.target) continue;
    x.clobber = uint16_t((it->writes & kCallClobber) | gpr_bit(Gpr::rsp));
    x.no_return = !it->returns;
  }

  // Indirect jmps: jump tables are decoded (below); the others are judged
  // as before: GCC's notrack jmp or a scaled load right before is a table
  // we cannot read (every instruction a possible target), anything else an
  // indirect tail call that still may be a table.
  std::vector<TableJump> tables = table_jumps(insns);
  bool unrecognised = false;  // an indirect jmp that no decoded table explains
  for (size_t i = 0, t = 0; i < insns.size(); ++i) {
    Insn& x = insns[i];
    if (x.kind != InsnKind::jmp_indirect) continue;
    while (t < tables.size() && tables[t].jump < i) ++t;
    if (t == tables.size() || tables[t].jump != i) unrecognised = true;
    bool table = x.notrack;
    if (x.scaled_load && x.memory) {
      auto first = elf_.read_u64(x.memory);
      table = table || (first && *first >= begin && *first < end);
    }
    for (size_t k = i; k-- > 0 && k + 6 >= i && !table;) {
      if (insns[k].kind != InsnKind::other) break;
      table = insns[k].scaled_load && !insns[k].lea;
    }
    if (table) x.kind = InsnKind::jump_table;
    if (t < tables.size() && tables[t].jump == i) tables[t].judged = x.kind;
  }
  // With an indirect jmp no table explains, every instruction is a possible
  // target anyway: reading the tables would cost rounds of the flow (in
  // interpreters' huge computed-goto functions) for little.
  if (unrecognised) tables.clear();

  // A bound holds only if the guarded instructions are entered from the
  // cmp/ja alone: no branch into them.
  auto drop_entered_bounds = [&](uint64_t target) {
    bool dropped = false;
    for (TableJump& t : tables)
      if (t.count && target > insns[t.guard].address && target <= insns[t.load].address) {
        t.count.reset();
        t.targets.reset();
        dropped = true;
      }
    return dropped;
  };
  for (const Insn& x : insns)
    if ((x.kind == InsnKind::jmp || x.kind == InsnKind::jcc) && x.target >= begin && x.target < end)
      drop_entered_bounds(x.target);

  // Tables are read with the base the flow finds, and the flow needs their
  // edges: solve, read, solve again until the edges cover what is read. The
  // first rounds leave unread tables without successors (so their bases are
  // not diluted); a table still unread then gets today's fallback.
  std::vector<TableTargets> edges;
  bool optimistic = true;
  auto solve = [&] {
    edges.clear();
    bool fallback = unrecognised;
    for (const TableJump& t : tables) {
      insns[t.jump].kind = t.targets ? InsnKind::jump_table : t.judged;
      if (t.targets) {
        TableTargets e{t.jump, {}};
        for (uint64_t a : *t.targets)
          if (a >= begin && a < end) e.targets.push_back(a);
        edges.push_back(std::move(e));
      } else if (!optimistic) {
        fallback = true;
      }
    }
    flow.solve(insns, begin, end, edges, fallback);
  };
  constexpr int kMaxRounds = 8;
  int round = 0;
  for (;; ++round) {
    solve();
    if (tables.empty()) break;
    if (round == kMaxRounds) {
      // Did not settle: today's fallback for all of them.
      for (TableJump& t : tables) t.targets.reset(), t.failed = true;
      optimistic = false;
      solve();
      break;
    }
    bool changed = false;
    for (TableJump& t : tables) {
      if (t.failed) continue;
      auto read =
          table_targets(t, flow.state_before(insns, t.load),
                        flow.state_before(insns, t.add ? t.add : t.load), insns, begin, end);
      if (!read) {
        // A table read before and unreadable now lost its base: give up on
        // it for good, so that the rounds end.
        if (t.targets) t.targets.reset(), t.failed = true, changed = true;
        continue;
      }
      if (!t.targets) {
        t.targets = std::move(read);
        changed = true;
      } else if (!std::includes(t.targets->begin(), t.targets->end(), read->begin(), read->end())) {
        std::vector<uint64_t> both;
        std::set_union(t.targets->begin(), t.targets->end(), read->begin(), read->end(),
                       std::back_inserter(both));
        *t.targets = std::move(both);
        changed = true;
      }
    }
    std::vector<uint64_t> entered;
    for (const TableJump& t : tables)
      if (t.targets)
        for (uint64_t a : *t.targets)
          if (a >= begin && a < end) entered.push_back(a);
    for (uint64_t a : entered) changed = drop_entered_bounds(a) || changed;
    if (!changed) {
      const bool unread =
          std::any_of(tables.begin(), tables.end(), [](const TableJump& t) { return !t.targets; });
      if (!optimistic || !unread) break;
      optimistic = false;
    }
  }
  std::vector<const TableJump*> table_at(insns.size(), nullptr);
  for (const TableJump& t : tables)
    if (t.targets) table_at[t.jump] = &t;
  for (size_t i = 0; i < insns.size(); ++i)
    if (insns[i].kind == InsnKind::jmp_indirect && !table_at[i]) f.indirect_calls = true;

  // Empty when every register is unknown (most calls): no memory spent.
  auto args_of = [](const RegState& s, std::initializer_list<Gpr> regs) {
    std::vector<Value> v;
    bool known = false;
    for (Gpr r : regs) known = known || s[gpr(r)].kind != AbsValue::unknown;
    if (!known) return v;
    v.reserve(regs.size());
    for (Gpr r : regs) v.push_back(s[gpr(r)].to_value());
    return v;
  };
  // Strings are read in the merge: out_.strings is shared.
  auto strings_of = [&](const std::vector<Value>& args) {
    for (const Value& v : args)
      if (v.kind == Value::Kind::constants && v.constants.size() == 1)
        out.strings.push_back(v.constants[0]);
  };
  auto call_site = [&](const Insn& x, const RegState& s, const std::optional<SlotTarget>& t) {
    if (!t) {
      f.indirect_calls = true;
      return;
    }
    CallSite c;
    c.address = x.address;
    c.local = t->local;
    c.import = t->import;
    if (c.local && code_section(*c.local) && !starts_.contains(*c.local))
      out.pending.push_back(*c.local);
    c.args = args_of(s, {Gpr::rdi, Gpr::rsi, Gpr::rdx, Gpr::rcx, Gpr::r8, Gpr::r9});
    strings_of(c.args);
    f.calls.push_back(std::move(c));
  };
  auto direct = [&](uint64_t t) -> std::optional<SlotTarget> {
    if (in_plt(t)) {
      auto r = stub_target(t, &out);
      if (!r) out.notes.push_back(fmt::format("call to {:#x} in a PLT without a known slot", t));
      return r;
    }
    return SlotTarget{t, std::nullopt};
  };
  // Not all starts are known yet: code addresses are kept here and filtered
  // once they are (analyze_all).
  auto refer = [&](uint64_t a) {
    if (code_section(a))
      f.takes_address.push_back(a);
    else if (in_plt(a))
      if (auto t = stub_target(a, &out)) {
        if (t->import) f.takes_import.push_back(*t->import);
        if (t->local && code_section(*t->local)) f.takes_address.push_back(*t->local);
      }
  };
  const bool exec_type = elf_.type() == ET_EXEC;

  flow.visit(std::span<const Insn>(insns), [&](uint32_t i, const RegState& s) {
    const Insn& x = insns[i];
    switch (x.kind) {
      case InsnKind::jump_table:
        // Entries outside the function: tail jumps (a .cold part, say).
        if (const TableJump* t = table_at[i])
          for (uint64_t a : *t->targets)
            if (a < begin || a >= end) call_site(x, s, direct(a));
        break;
      case InsnKind::syscall: {
        SyscallSite site;
        site.address = x.address;
        site.number = s[gpr(Gpr::rax)].to_value();
        site.args = args_of(s, {Gpr::rdi, Gpr::rsi, Gpr::rdx, Gpr::r10, Gpr::r8, Gpr::r9});
        strings_of(site.args);
        f.syscalls.push_back(std::move(site));
        break;
      }
      case InsnKind::legacy_syscall:
        f.syscalls.push_back({x.address, Value{}, {}});
        out.notes.push_back(fmt::format(
            "{:#x}: int 0x80/sysenter (32-bit system call ABI), number unknown", x.address));
        break;
      case InsnKind::call:
        call_site(x, s, direct(x.target));
        break;
      case InsnKind::jmp:
      case InsnKind::jcc:
        if (x.target < begin || x.target >= end) call_site(x, s, direct(x.target));
        break;
      case InsnKind::call_memory:
      case InsnKind::jmp_memory:
        call_site(x, s, slot_target(x.memory, &out));
        break;
      case InsnKind::call_indirect:
        f.indirect_calls = true;
        break;
      default:
        break;
    }
  });
  for (uint64_t a : flow.misaligned_targets())
    out.notes.push_back(fmt::format(
        "{:#x}: jump into the middle of an instruction, followed as the whole instruction", a));

  // Addresses formed: lea (and, in non-PIE code, immediates and absolute
  // operands); loads of GOT slots are the slot's target.
  for (const Insn& x : insns) {
    if (x.memory && x.kind != InsnKind::call_memory && x.kind != InsnKind::jmp_memory) {
      if (x.lea || exec_type) refer(x.memory);
      if (!x.lea)
        if (auto t = slot_target(x.memory, &out)) {
          if (t->import) f.takes_import.push_back(*t->import);
          if (t->local && code_section(*t->local)) f.takes_address.push_back(*t->local);
        }
    }
    if (exec_type && x.has_immediate) refer(x.immediate);
  }
  auto unique = [](auto& v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
  };
  unique(f.takes_address);
  unique(f.takes_import);  // again in the merge when an index was provisional
}

// Finds every function: each start is decoded once; a direct call, an
// outward jump or a GOT slot to an address that is not yet a start makes
// it one, and an unsized function before it that ran past it is decoded
// again over its shorter range.
void Scanner::discover() {
  std::vector<uint64_t> work;
  // New starts, and the unsized function before each if it ran past it.
  auto take_pending = [&] {
    std::sort(pending_.begin(), pending_.end());
    pending_.erase(std::unique(pending_.begin(), pending_.end()), pending_.end());
    for (uint64_t t : pending_) {
      auto [it, fresh] = starts_.try_emplace(t);
      if (!fresh) continue;
      work.push_back(t);
      if (it == starts_.begin()) continue;
      auto prev = std::prev(it);
      if (auto c = code_.find(prev->first); c != code_.end() && c->second.end > t)
        work.push_back(prev->first);
    }
    pending_.clear();
    std::sort(work.begin(), work.end());
    work.erase(std::unique(work.begin(), work.end()), work.end());
  };
  if (code_.empty())
    for (auto& [a, s] : starts_) work.push_back(a);
  take_pending();
  while (!work.empty()) {
    for (uint64_t a : work) {
      decoded_.push_back(a);
      Code& code = code_[a];
      auto it = starts_.find(a);
      decode(a, end_of(it), code);
      // A sized function whose last instruction falls through runs on to the
      // next start: hand-written code runs past its FDE (glibc's clone3
      // makes its syscall after cfi_endproc), and that code must be seen.
      if (!code.insns.empty() && code.end < next_start(it) && falls_through(code.insns.back()))
        decode(a, next_start(it), code);
      for (const Insn& x : code.insns) {
        if (auto t = callee_of(x, a, code.end); t && t->local && code_section(*t->local))
          pending_.push_back(*t->local);  // take_pending drops the known ones
        // Code entered at an address another function forms (glibc's
        // __restore_rt, one byte into its FDE) is decoded from there: a
        // start. Not for ET_EXEC immediates, which may be any number.
        if (x.lea && elf_.type() != ET_EXEC && code_section(x.memory) &&
            (x.memory < a || x.memory >= code.end))
          pending_.push_back(x.memory);
      }
    }
    work.clear();
    take_pending();
  }
}

// Per function, over the local call graph: whether it may return (a path
// from its entry reaches a ret, or a tail jump or fall-through into a
// function that may) and which registers a return may have changed (what
// its reachable instructions write, plus what its returning local callees
// may). Least fixpoints: "returns" starts false and only becomes true as
// callees do, so a function is noreturn only if no path can return.
// Anything not followed (an indirect jmp, a call or jump through a PLT or a
// GOT slot, bytes not decoded, a jump into an instruction) is taken as "may
// return, may write every caller-saved register".
void Scanner::local_effects() {
  const size_t n = code_.size();
  std::vector<Code*> fn;
  std::vector<uint64_t> starts;
  fn.reserve(n);
  starts.reserve(n);
  for (auto& [a, c] : code_) fn.push_back(&c), starts.push_back(a);
  auto function_at = [&](uint64_t a) -> std::optional<uint32_t> {
    auto it = std::lower_bound(starts.begin(), starts.end(), a);
    if (it == starts.end() || *it != a) return std::nullopt;
    return static_cast<uint32_t>(it - starts.begin());
  };
  struct Walk {
    size_t seen = 0;  // offset of its instructions' marks in `seen`
    uint16_t writes = 0;
    std::vector<uint32_t> callees;  // local functions called or jumped to
    bool returns = false, everything = false;
  };
  std::vector<Walk> walk(n);
  std::vector<uint8_t> seen;    // per instruction of every function: reached
  std::vector<uint32_t> stack;  // of the walk running; empty between walks
  // Calls (index, insn) and tail jumps (index, ~0) held until the callee returns.
  std::vector<std::vector<std::pair<uint32_t, uint32_t>>> waiting(n);
  std::vector<uint32_t> returned;  // functions found to return, to wake their waiters
  auto set_returns = [&](uint32_t f) {
    if (!walk[f].returns) walk[f].returns = true, returned.push_back(f);
  };
  auto give_up = [&](uint32_t f) {
    walk[f].everything = true;
    stack.clear();
    set_returns(f);
  };
  constexpr uint32_t kTail = ~uint32_t{0};
  // A jump out of the function (or off its end) to `t`.
  auto tail = [&](uint32_t f, uint64_t t) {
    auto g = in_plt(t) ? std::nullopt : function_at(t);
    if (!g) return give_up(f);
    walk[f].callees.push_back(*g);
    if (walk[*g].returns)
      set_returns(f);
    else
      waiting[*g].push_back({f, kTail});
  };
  auto run = [&](uint32_t f) {
    Walk& w = walk[f];
    const Code& c = *fn[f];
    const uint64_t begin = starts[f];
    const auto& insns = c.insns;
    auto push = [&](uint64_t a) {
      auto it = std::lower_bound(insns.begin(), insns.end(), a,
                                 [](const Insn& i, uint64_t v) { return i.address < v; });
      if (it == insns.end() || it->address != a) return give_up(f);
      stack.push_back(static_cast<uint32_t>(it - insns.begin()));
    };
    auto next = [&](uint32_t i) {
      if (i + 1 < insns.size())
        stack.push_back(i + 1);
      else
        tail(f, insns[i].address + insns[i].length);  // falls off the end
    };
    uint8_t* mark = seen.data() + w.seen;
    while (!stack.empty() && !w.everything) {
      const uint32_t i = stack.back();
      stack.pop_back();
      if (mark[i]) continue;
      mark[i] = 1;
      const Insn& x = insns[i];
      const bool inside = x.target >= begin && x.target < c.end;
      switch (x.kind) {
        case InsnKind::call:
          w.writes |= gpr_bit(Gpr::rsp);
          if (auto g = in_plt(x.target) ? std::nullopt : function_at(x.target)) {
            w.callees.push_back(*g);
            if (walk[*g].returns)
              next(i);
            else
              waiting[*g].push_back({f, i});
          } else {
            w.writes |= kCallClobber;
            next(i);
          }
          break;
        case InsnKind::call_memory:
        case InsnKind::call_indirect:
          w.writes |= kCallClobber | gpr_bit(Gpr::rsp);
          next(i);
          break;
        case InsnKind::jcc:
          inside ? push(x.target) : tail(f, x.target);
          next(i);
          break;
        case InsnKind::jmp:
          inside ? push(x.target) : tail(f, x.target);
          break;
        case InsnKind::jmp_memory:
        case InsnKind::jmp_indirect:
        case InsnKind::jump_table:
          give_up(f);
          break;
        case InsnKind::ret:
          set_returns(f);
          break;
        case InsnKind::stop:
          break;
        default:
          w.writes |= x.clobber;
          if (x.def_kind != DefKind::none) w.writes |= uint16_t(1u << x.def);
          next(i);
      }
    }
    // A give_up mid-instruction (a jcc whose target is not followed) may be
    // followed by next(i): nothing of this walk may reach the next one.
    stack.clear();
  };
  for (uint32_t f = 0; f < n; ++f) {
    walk[f].seen = seen.size();
    seen.resize(seen.size() + fn[f]->insns.size());
  }
  for (uint32_t f = 0; f < n; ++f) {
    if (fn[f]->insns.empty() || !fn[f]->undecodable.empty())
      give_up(f);
    else
      stack.push_back(0);
    run(f);
  }
  while (!returned.empty()) {
    const uint32_t g = returned.back();
    returned.pop_back();
    for (auto [f, i] : std::exchange(waiting[g], {})) {
      if (i == kTail) {
        set_returns(f);
      } else if (!walk[f].everything) {
        const auto& insns = fn[f]->insns;
        if (i + 1 < insns.size())
          stack.push_back(i + 1);
        else
          tail(f, insns[i].address + insns[i].length);
        run(f);
      }
    }
  }
  // Writes: the callees' that return, to a fixpoint (16-bit masks settle fast).
  std::vector<uint16_t> writes(n);
  for (uint32_t f = 0; f < n; ++f) {
    Walk& w = walk[f];
    writes[f] = w.everything ? uint16_t(0xffff) : uint16_t(w.writes | gpr_bit(Gpr::rax));
    std::sort(w.callees.begin(), w.callees.end());
    w.callees.erase(std::unique(w.callees.begin(), w.callees.end()), w.callees.end());
  }
  for (bool changed = true; changed;) {
    changed = false;
    for (uint32_t f = 0; f < n; ++f) {
      uint16_t m = writes[f];
      for (uint32_t g : walk[f].callees)
        if (walk[g].returns) m |= writes[g];
      if (m != writes[f]) writes[f] = m, changed = true;
    }
  }
  effects_.clear();
  effects_.reserve(n);
  for (uint32_t f = 0; f < n; ++f) {
    fn[f]->returns = walk[f].returns;
    fn[f]->writes = writes[f];
    effects_.push_back({starts[f], walk[f].returns, writes[f]});
  }
}

// Two phases: every function is found and decoded, and what each may write
// is known, before the flow runs in any; a jump table's entry out of its
// function that is not yet a start (rare) starts the phases again. Then only
// the functions whose result may differ run the flow again: those decoded
// again and those calling a function whose effect changed (or that is new):
// python3.11 needs a second round, and its 71 000 functions the flow once.
void Scanner::analyze_all() {
  std::map<uint64_t, Function> done;
  std::map<uint64_t, std::vector<std::string>> notes;  // by function, from its flow
  std::vector<Effect> before;
  for (;;) {
    decoded_.clear();
    discover();
    local_effects();
    // The starts whose effect a call sees differently now (sorted).
    std::vector<uint64_t> changed;
    auto b = before.begin();
    for (const Effect& e : effects_) {
      for (; b != before.end() && b->start < e.start; ++b) changed.push_back(b->start);
      if (b != before.end() && b->start == e.start) {
        if (b->returns != e.returns || b->writes != e.writes) changed.push_back(e.start);
        ++b;
      } else {
        changed.push_back(e.start);
      }
    }
    for (; b != before.end(); ++b) changed.push_back(b->start);
    std::sort(decoded_.begin(), decoded_.end());
    auto calls_changed = [&](const Code& code) {
      for (const Insn& x : code.insns)
        if (x.kind == InsnKind::call &&
            std::binary_search(changed.begin(), changed.end(), x.target))
          return true;
      return false;
    };
    std::vector<std::pair<uint64_t, Code*>> todo;
    for (auto& [a, code] : code_)
      if (!done.contains(a) || std::binary_search(decoded_.begin(), decoded_.end(), a) ||
          calls_changed(code))
        todo.emplace_back(a, &code);  // else the same code and callees: the same result
    // The flow of each function on its own, on every core (python3.11 is one
    // object of 71 000 functions); then merged in address order.
    std::vector<std::pair<Function, FlowOutput>> flows(todo.size());
    parallel_for(todo.size(), [&](size_t k) {
      auto& [f, out] = flows[k];
      const auto [a, code] = todo[k];
      f.address = a;
      const Start& s = starts_.at(a);
      f.size = s.size;
      f.name = s.name;
      analyze(a, *code, f, out);
    });
    for (size_t k = 0; k < todo.size(); ++k) {
      auto& [f, out] = flows[k];
      if (!out.new_imports.empty()) {
        std::map<uint32_t, uint32_t> made;  // provisional → index
        for (uint32_t symbol : out.new_imports)
          made[kProvisional + symbol] = import_of(elf_.dynamic_symbols()[symbol]);
        auto index = [&](uint32_t i) { return i >= kProvisional ? made.at(i) : i; };
        for (CallSite& c : f.calls)
          if (c.import) c.import = index(*c.import);
        for (uint32_t& i : f.takes_import) i = index(i);
        std::sort(f.takes_import.begin(), f.takes_import.end());
        f.takes_import.erase(std::unique(f.takes_import.begin(), f.takes_import.end()),
                             f.takes_import.end());
      }
      pending_.insert(pending_.end(), out.pending.begin(), out.pending.end());
      for (uint64_t a : out.strings) add_string(a);
      notes[todo[k].first] = std::move(out.notes);
      done[todo[k].first] = std::move(f);
    }
    std::erase_if(pending_, [&](uint64_t t) { return starts_.contains(t); });
    if (pending_.empty()) break;
    before = effects_;
  }
  // What the last round would have said, function by function.
  for (auto& [a, code] : code_)
    for (uint64_t u : code.undecodable) decode_failure(u);
  for (auto& [a, n] : notes)
    for (std::string& note : n) out_.notes.push_back(std::move(note));
  lowered_ = {};
  lowered_at_ = {};
  sorted_.reserve(starts_.size());
  for (auto& [a, s] : starts_) sorted_.push_back(a);
  out_.functions.reserve(done.size());
  for (auto& [a, f] : done) {
    for (uint64_t& x : f.takes_address) x = containing_start(x).value_or(0);
    std::erase_if(f.takes_address, [](uint64_t x) { return x == 0; });
    std::sort(f.takes_address.begin(), f.takes_address.end());
    f.takes_address.erase(std::unique(f.takes_address.begin(), f.takes_address.end()),
                          f.takes_address.end());
    out_.functions.push_back(std::move(f));
  }
}

void Scanner::data_references() {
  auto in_metadata = [&](uint64_t a) {
    const ElfSection* s = elf_.section_at(a);
    return !s || is_metadata_section(s->name);
  };
  auto code_pointer = [&](uint64_t a) {
    if (auto start = containing_start(a))
      out_.data_address_taken.push_back(*start);
    else if (in_plt(a))
      if (auto t = stub_target(a)) {
        if (t->import) out_.data_address_taken_imports.push_back(*t->import);
        if (t->local && is_start(*t->local)) out_.data_address_taken.push_back(*t->local);
      }
  };
  for (const ElfRelocation& r : elf_.relocations()) {
    const ElfSymbol* sym = r.symbol ? &elf_.dynamic_symbols()[r.symbol] : nullptr;
    switch (r.type) {
      case R_X86_64_RELATIVE:
      case R_X86_64_IRELATIVE:
        if (!in_metadata(r.offset)) code_pointer(static_cast<uint64_t>(r.addend));
        break;
      case R_X86_64_64:
      case R_X86_64_GLOB_DAT:
        if (!sym || (r.type == R_X86_64_GLOB_DAT && in_metadata(r.offset))) break;
        if (sym->defined() && sym->function())
          code_pointer(sym->value + r.addend);
        else if (!sym->defined() && (sym->function() || sym->type == STT_NOTYPE))
          out_.data_address_taken_imports.push_back(import_of(*sym));
        break;
      default:
        break;
    }
  }
  // Non-PIE data holds absolute addresses without relocations.
  if (elf_.type() == ET_EXEC) {
    const auto& sections = elf_.sections();
    for (size_t i = 0; i < sections.size(); ++i) {
      const ElfSection& s = sections[i];
      if (!s.alloc() || s.exec() || !s.data || is_metadata_section(s.name)) continue;
      // The words are read from `s` itself unless a section before it
      // overlaps it (.tbss): ElfFile::read_u64 would find that one first.
      // Looking the section up for every word was 8% of python3's scan.
      const bool own = std::none_of(
          sections.begin(), sections.begin() + static_cast<ptrdiff_t>(i), [&](const ElfSection& o) {
            return o.alloc() && o.addr < s.addr + s.size && s.addr < o.addr + o.size;
          });
      for (uint64_t a = (s.addr + 7) & ~uint64_t{7}; a + 8 <= s.addr + s.size; a += 8) {
        std::optional<uint64_t> w;
        if (own) {
          uint64_t v;
          std::memcpy(&v, s.data + (a - s.addr), 8);
          w = v;
        } else {
          w = elf_.read_u64(a);
        }
        if (w && (is_start(*w) || in_plt(*w))) code_pointer(*w);
      }
    }
  }
}

ObjectSummary Scanner::run() {
  for (const ElfSection& s : elf_.sections()) {
    if (s.alloc() && s.name.starts_with(".got")) got_.push_back(&s);
    if (!s.exec()) continue;
    (is_plt_name(s.name) ? plt_ : exec_).push_back(&s);
  }
  lowered_at_.resize(exec_.size());
  // Room for an instruction every 2 bytes: more than code has, so the table
  // never moves; the pages are touched only as it fills.
  uint64_t exec_bytes = 0;
  for (const ElfSection* s : exec_) exec_bytes += s->size;
  lowered_.reserve(exec_bytes / 2);
  for (const ElfRelocation& r : elf_.relocations()) reloc_at_.emplace(r.offset, &r);
  out_.build_id = elf_.build_id();
  out_.entry = elf_.entry();
  if (auto v = elf_.dynamic_value(DT_SONAME)) {
    if (const ElfSection* dynstr = elf_.section(".dynstr"); dynstr && *v < dynstr->size) {
      const char* p = reinterpret_cast<const char*>(dynstr->data) + *v;
      out_.soname.assign(p, strnlen(p, dynstr->size - *v));
    }
  }
  out_.notes = elf_.notes();

  const auto& dynsym = elf_.dynamic_symbols();
  for (size_t i = 1; i < dynsym.size(); ++i) {
    const ElfSymbol& s = dynsym[i];
    if (s.name.empty() || s.bind == STB_LOCAL) continue;
    if (!s.defined()) {
      import_of(s);
      continue;
    }
    if (s.visibility == STV_HIDDEN || s.visibility == STV_INTERNAL) continue;
    if (s.shndx == SHN_ABS && s.value == 0) continue;  // version definition markers
    out_.exports.push_back(
        {s.name, s.version, !s.hidden_version, s.value, s.type == STT_GNU_IFUNC, s.function()});
  }
  for (const auto* table : {&dynsym, &elf_.symbols()})
    for (const ElfSymbol& s : *table)
      if (s.function() && s.defined()) seed(s.value, s.size, s.name);
  for (const ElfFde& fde : elf_.fdes()) seed(fde.start, fde.size);
  if (elf_.entry()) seed(elf_.entry());
  collect_roots();
  // A code address in a relocation that no symbol or FDE names: a function.
  for (const ElfRelocation& r : elf_.relocations())
    if ((r.type == R_X86_64_RELATIVE || r.type == R_X86_64_IRELATIVE) &&
        !is_metadata_section(elf_.section_at(r.offset) ? elf_.section_at(r.offset)->name : ""))
      seed(static_cast<uint64_t>(r.addend));
  analyze_all();
  data_references();

  for (auto& [section, failure] : decode_failures_)
    out_.notes.push_back(fmt::format("{} bytes of {} could not be decoded (first at {:#x})",
                                     failure.first, section, failure.second));
  auto unique = [](auto& v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
  };
  unique(out_.roots);
  unique(out_.data_address_taken);
  unique(out_.data_address_taken_imports);
  return std::move(out_);
}

}  // namespace

Result<ObjectSummary> summarize_object(const std::string& path) {
  auto elf = ElfFile::open(path);
  if (!elf) return std::move(elf).error();
  return Scanner(*elf).run();
}

}  // namespace least::analyze
