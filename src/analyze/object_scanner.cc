#include "analyze/object_scanner.h"

#include <Zydis/Zydis.h>
#include <elf.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <unordered_map>

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

// Where a GOT slot (or a PLT stub through its slot) leads.
struct SlotTarget {
  std::optional<uint64_t> local;
  std::optional<uint32_t> import;
};

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
    for (const ElfSection* s : code_)
      if (s->contains(a)) return s;
    return nullptr;
  }
  bool in_plt(uint64_t a) const {
    for (const ElfSection* s : plt_)
      if (s->contains(a)) return true;
    return false;
  }
  bool is_start(uint64_t a) const { return std::binary_search(sorted_.begin(), sorted_.end(), a); }
  std::optional<uint64_t> containing_start(uint64_t a) const;
  uint64_t next_start(std::map<uint64_t, Start>::const_iterator it) const;
  uint64_t end_of(std::map<uint64_t, Start>::const_iterator it) const;
  void seed(uint64_t a, uint64_t size = 0, const std::string& name = {});
  uint32_t import_of(const ElfSymbol& s);
  std::optional<SlotTarget> slot_target(uint64_t slot);
  std::optional<SlotTarget> stub_target(uint64_t stub);
  void collect_roots();
  void analyze_all();
  size_t decode(uint64_t begin, uint64_t end, std::vector<Insn>& out);
  // False when the last instruction falls through past `end`.
  bool analyze(uint64_t begin, uint64_t end, Function& f);
  void data_references();
  void add_string(const Value& v);
  void decode_failure(uint64_t at);

  const ElfFile& elf_;
  ZydisDecoder decoder_;
  ObjectSummary out_;
  std::vector<const ElfSection*> code_;
  std::vector<const ElfSection*> plt_;
  std::vector<const ElfSection*> got_;
  std::unordered_map<uint64_t, const ElfRelocation*> reloc_at_;
  std::map<Import, uint32_t> import_index_;
  std::unordered_map<uint64_t, std::optional<SlotTarget>> stubs_;
  std::map<uint64_t, Start> starts_;
  std::vector<uint64_t> sorted_;   // the final starts, once all are known
  std::vector<uint64_t> pending_;  // direct targets found that are not starts yet
  std::map<std::string, std::pair<size_t, uint64_t>> decode_failures_;  // section → count, first
};

uint64_t Scanner::end_of(std::map<uint64_t, Start>::const_iterator it) const {
  const ElfSection* s = code_section(it->first);
  uint64_t end = s ? s->addr + s->size : it->first;
  if (it->second.size) return std::min(end, it->first + it->second.size);
  if (auto next = std::next(it); next != starts_.end()) end = std::min(end, next->first);
  return end;
}

uint64_t Scanner::next_start(std::map<uint64_t, Start>::const_iterator it) const {
  const ElfSection* s = code_section(it->first);
  uint64_t end = s ? s->addr + s->size : it->first;
  if (auto next = std::next(it); next != starts_.end()) end = std::min(end, next->first);
  return end;
}

// The function whose code holds `a`: an address formed inside a function
// (glibc's __restore_rt, one byte into its FDE) runs that function's code.
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

// Only GOT slots: they are read-only once relocated, where a function
// pointer in .data with a RELATIVE relocation may be changed at run time.
std::optional<SlotTarget> Scanner::slot_target(uint64_t slot) {
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
        return SlotTarget{std::nullopt, import_of(sym)};
      return std::nullopt;
    }
    default:
      return std::nullopt;
  }
}

std::optional<SlotTarget> Scanner::stub_target(uint64_t stub) {
  if (auto it = stubs_.find(stub); it != stubs_.end()) return it->second;
  std::optional<SlotTarget> result;
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
      if (ZYAN_SUCCESS(ZydisCalcAbsoluteAddress(&ins, &ops[0], a, &slot)))
        result = slot_target(slot);
    }
    break;
  }
  stubs_.emplace(stub, result);
  return result;
}

void Scanner::collect_roots() {
  std::vector<uint64_t> roots;
  auto word_at = [&](uint64_t a) -> std::optional<uint64_t> {
    if (auto it = reloc_at_.find(a); it != reloc_at_.end()) {
      const ElfRelocation& r = *it->second;
      if (r.type == R_X86_64_RELATIVE) return static_cast<uint64_t>(r.addend);
      if (r.type == R_X86_64_64 && r.symbol && elf_.dynamic_symbols()[r.symbol].defined())
        return elf_.dynamic_symbols()[r.symbol].value + r.addend;
      return std::nullopt;
    }
    return elf_.read_u64(a);
  };
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

size_t Scanner::decode(uint64_t begin, uint64_t end, std::vector<Insn>& out) {
  out.clear();
  const ElfSection* s = code_section(begin);
  if (!s) return 0;
  const uint8_t* base = s->data + (begin - s->addr);
  const bool exec_type = elf_.type() == ET_EXEC;
  ZydisDecodedInstruction ins;
  ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
  for (uint64_t a = begin; a < end;) {
    if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&decoder_, base + (a - begin), end - a, &ins, ops))) {
      decode_failure(a);
      ++a;
      continue;
    }
    Insn x;
    x.address = a;
    x.length = ins.length;
    for (uint8_t i = 0; i < ins.operand_count; ++i) {
      const ZydisDecodedOperand& op = ops[i];
      if (op.type == ZYDIS_OPERAND_TYPE_REGISTER &&
          (op.actions & ZYDIS_OPERAND_ACTION_MASK_WRITE)) {
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
        x.kind = InsnKind::syscall;
        break;
      case ZYDIS_MNEMONIC_SYSENTER:
        x.kind = InsnKind::legacy_syscall;
        break;
      case ZYDIS_MNEMONIC_INT:
        if (x.immediate == 0x80) x.kind = InsnKind::legacy_syscall;
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
        if (ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER &&
            (ops[0].size == 64 || ops[0].size == 32) && gpr_index(ops[0].reg.value) != kNoGpr) {
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
    out.push_back(x);
    a += ins.length;
  }
  return out.size();
}

void Scanner::add_string(const Value& v) {
  if (v.kind != Value::Kind::constants || v.constants.size() != 1) return;
  uint64_t a = v.constants[0];
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

bool Scanner::analyze(uint64_t begin, uint64_t end, Function& f) {
  static thread_local std::vector<Insn> insns;
  static thread_local RegisterFlow flow;
  decode(begin, end, insns);
  if (insns.empty()) return true;
  bool ends = false;
  switch (insns.back().kind) {
    case InsnKind::jmp:
    case InsnKind::jmp_memory:
    case InsnKind::jmp_indirect:
    case InsnKind::ret:
    case InsnKind::stop:
      ends = true;
      break;
    default:
      break;
  }

  // Jump tables: GCC's `movsxd r, [base+idx*4]; add r, base; jmp r` (PIC),
  // `jmp [idx*8+table]` into this function (non-PIC), or notrack jmp. Any
  // other indirect jmp is an indirect tail call, and still may be a table.
  bool any_target = false;
  for (size_t i = 0; i < insns.size(); ++i) {
    Insn& x = insns[i];
    if (x.kind == InsnKind::jmp_memory && !slot_target(x.memory)) x.kind = InsnKind::jmp_indirect;
    if (x.kind != InsnKind::jmp_indirect) continue;
    any_target = true;
    bool table = x.notrack;
    if (x.scaled_load && x.memory) {
      auto first = elf_.read_u64(x.memory);
      table = table || (first && *first >= begin && *first < end);
    }
    for (size_t k = i; k-- > 0 && k + 6 >= i && !table;) {
      if (insns[k].kind != InsnKind::other) break;
      table = insns[k].scaled_load && !insns[k].lea;
    }
    if (table)
      x.kind = InsnKind::jump_table;
    else
      f.indirect_calls = true;
  }

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
      pending_.push_back(*c.local);
    c.args = args_of(s, {Gpr::rdi, Gpr::rsi, Gpr::rdx, Gpr::rcx, Gpr::r8, Gpr::r9});
    for (const Value& v : c.args) add_string(v);
    f.calls.push_back(std::move(c));
  };
  auto direct = [&](uint64_t t) -> std::optional<SlotTarget> {
    if (in_plt(t)) {
      auto r = stub_target(t);
      if (!r) out_.notes.push_back(fmt::format("call to {:#x} in a PLT without a known slot", t));
      return r;
    }
    return SlotTarget{t, std::nullopt};
  };
  // Not all starts are known yet: code addresses are kept here and filtered
  // once they are (analyze_all).
  const bool exec_type = elf_.type() == ET_EXEC;
  auto refer = [&](uint64_t a) {
    if (code_section(a)) {
      f.takes_address.push_back(a);
      // Code entered at an address another function forms (glibc's
      // __restore_rt, one byte into its FDE) is decoded from there: a start.
      // Not for ET_EXEC immediates, which may be any number.
      if (!exec_type && (a < begin || a >= end) && !starts_.contains(a)) pending_.push_back(a);
    } else if (in_plt(a)) {
      if (auto t = stub_target(a)) {
        if (t->import) f.takes_import.push_back(*t->import);
        if (t->local && code_section(*t->local)) f.takes_address.push_back(*t->local);
      }
    }
  };

  flow.run(insns, begin, end, any_target, [&](uint32_t i, const RegState& s) {
    const Insn& x = insns[i];
    switch (x.kind) {
      case InsnKind::syscall: {
        SyscallSite site;
        site.address = x.address;
        site.number = s[gpr(Gpr::rax)].to_value();
        site.args = args_of(s, {Gpr::rdi, Gpr::rsi, Gpr::rdx, Gpr::r10, Gpr::r8, Gpr::r9});
        for (const Value& v : site.args) add_string(v);
        f.syscalls.push_back(std::move(site));
        break;
      }
      case InsnKind::legacy_syscall:
        f.syscalls.push_back({x.address, Value{}, {}});
        out_.notes.push_back(fmt::format(
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
        call_site(x, s, slot_target(x.memory));
        break;
      case InsnKind::call_indirect:
        f.indirect_calls = true;
        break;
      default:
        break;
    }
  });
  for (uint64_t a : flow.misaligned_targets())
    out_.notes.push_back(fmt::format(
        "{:#x}: jump into the middle of an instruction, followed as the whole instruction", a));

  // Addresses formed: lea (and, in non-PIE code, immediates and absolute
  // operands); loads of GOT slots are the slot's target.
  for (const Insn& x : insns) {
    if (x.memory && x.kind != InsnKind::call_memory && x.kind != InsnKind::jmp_memory) {
      if (x.lea || exec_type) refer(x.memory);
      if (!x.lea)
        if (auto t = slot_target(x.memory)) {
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
  unique(f.takes_import);
  return ends;
}

// Each function is decoded once; a direct call or outward jump to an
// address that is not yet a start makes it one, and an unsized function
// before it that ran past it is analysed again over its shorter range.
void Scanner::analyze_all() {
  std::map<uint64_t, std::pair<Function, uint64_t>> done;  // start → function, end used
  std::vector<uint64_t> work;
  for (auto& [a, s] : starts_) work.push_back(a);
  while (!work.empty()) {
    for (uint64_t a : work) {
      auto it = starts_.find(a);
      Function f;
      f.address = a;
      f.size = it->second.size;
      f.name = it->second.name;
      uint64_t end = end_of(it);
      // A sized function whose last instruction falls through runs on to the
      // next start: hand-written code runs past its FDE (glibc's clone3
      // makes its syscall after cfi_endproc), and that code must be seen.
      if (!analyze(a, end, f) && end < next_start(it)) {
        end = next_start(it);
        f = Function{};
        f.address = a;
        f.size = it->second.size;
        f.name = it->second.name;
        analyze(a, end, f);
      }
      done[a] = {std::move(f), end};
    }
    work.clear();
    std::sort(pending_.begin(), pending_.end());
    pending_.erase(std::unique(pending_.begin(), pending_.end()), pending_.end());
    for (uint64_t t : pending_) {
      if (starts_.contains(t)) continue;
      auto it = starts_.emplace(t, Start{}).first;
      work.push_back(t);
      if (it == starts_.begin()) continue;
      auto prev = std::prev(it);
      if (auto d = done.find(prev->first); d != done.end() && d->second.second > t)
        work.push_back(prev->first);
    }
    pending_.clear();
    std::sort(work.begin(), work.end());
    work.erase(std::unique(work.begin(), work.end()), work.end());
  }
  sorted_.reserve(starts_.size());
  for (auto& [a, s] : starts_) sorted_.push_back(a);
  out_.functions.reserve(done.size());
  for (auto& [a, entry] : done) {
    Function& f = entry.first;
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
  if (elf_.type() == ET_EXEC)
    for (const ElfSection& s : elf_.sections()) {
      if (!s.alloc() || s.exec() || !s.data || is_metadata_section(s.name)) continue;
      for (uint64_t a = (s.addr + 7) & ~uint64_t{7}; a + 8 <= s.addr + s.size; a += 8)
        if (auto w = elf_.read_u64(a); w && (is_start(*w) || in_plt(*w))) code_pointer(*w);
    }
}

ObjectSummary Scanner::run() {
  for (const ElfSection& s : elf_.sections()) {
    if (s.alloc() && s.name.starts_with(".got")) got_.push_back(&s);
    if (!s.exec()) continue;
    (is_plt_name(s.name) ? plt_ : code_).push_back(&s);
  }
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
