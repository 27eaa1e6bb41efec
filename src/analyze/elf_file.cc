#include "analyze/elf_file.h"

#include <elf.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <gelf.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace least::analyze {

namespace {

// Bounded little-endian reader over a byte range, for the GNU tables and
// the unwind info libelf does not decode.
class Reader {
 public:
  Reader(const uint8_t* begin, const uint8_t* end) : p_(begin), end_(end) {}
  bool ok() const { return ok_; }
  size_t left() const { return ok_ ? static_cast<size_t>(end_ - p_) : 0; }
  const uint8_t* pos() const { return p_; }
  template <class T>
  T get() {
    T v{};
    if (!ok_ || left() < sizeof(T)) {
      ok_ = false;
      return v;
    }
    std::memcpy(&v, p_, sizeof(T));
    p_ += sizeof(T);
    return v;
  }
  uint64_t uleb() {
    uint64_t v = 0;
    for (unsigned shift = 0; ok_; shift += 7) {
      auto b = get<uint8_t>();
      if (shift < 64) v |= uint64_t{b & 0x7fu} << shift;
      if (!(b & 0x80)) break;
    }
    return v;
  }
  int64_t sleb() {
    uint64_t v = 0;
    unsigned shift = 0;
    uint8_t b = 0;
    do {
      b = get<uint8_t>();
      if (shift < 64) v |= uint64_t{b & 0x7fu} << shift;
      shift += 7;
    } while (ok_ && (b & 0x80));
    if (shift < 64 && (b & 0x40)) v |= ~uint64_t{0} << shift;
    return static_cast<int64_t>(v);
  }
  void skip(size_t n) {
    if (left() < n)
      ok_ = false;
    else
      p_ += n;
  }
  std::string_view cstr() {
    const uint8_t* start = p_;
    while (ok_ && p_ < end_ && *p_) ++p_;
    if (p_ >= end_) {
      ok_ = false;
      return {};
    }
    return {reinterpret_cast<const char*>(start), static_cast<size_t>(p_++ - start)};
  }
  // A DW_EH_PE_* encoded pointer; `vaddr` is where the reader stands.
  uint64_t pointer(uint8_t enc, uint64_t vaddr, uint64_t data_base) {
    uint64_t v = 0;
    switch (enc & 0x0f) {
      case 0x00:
        v = get<uint64_t>();
        break;
      case 0x01:
        v = uleb();
        break;
      case 0x02:
        v = get<uint16_t>();
        break;
      case 0x03:
        v = get<uint32_t>();
        break;
      case 0x04:
        v = get<uint64_t>();
        break;
      case 0x09:
        v = static_cast<uint64_t>(sleb());
        break;
      case 0x0a:
        v = static_cast<uint64_t>(int64_t{get<int16_t>()});
        break;
      case 0x0b:
        v = static_cast<uint64_t>(int64_t{get<int32_t>()});
        break;
      case 0x0c:
        v = get<uint64_t>();
        break;
      default:
        ok_ = false;
        return 0;
    }
    switch (enc & 0x70) {
      case 0x00:
        break;
      case 0x10:
        v += vaddr;
        break;
      case 0x30:
        v += data_base;
        break;
      default:
        ok_ = false;
        return 0;
    }
    return v;
  }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
  bool ok_ = true;
};

Error elf_error(const std::string& path, const std::string& why) {
  return make_error(ErrorKind::kSystem, fmt::format("{}: {}", path, why));
}

}  // namespace

bool ElfSection::alloc() const {
  return flags & SHF_ALLOC;
}
bool ElfSection::exec() const {
  return (flags & SHF_ALLOC) && (flags & SHF_EXECINSTR) && data;
}
bool ElfSymbol::function() const {
  return type == STT_FUNC || type == STT_GNU_IFUNC;
}

Result<ElfFile> ElfFile::open(const std::string& path) {
  // Once per process: objects are opened on several threads at a time.
  static const bool usable = elf_version(EV_CURRENT) != EV_NONE;
  if (!usable) return elf_error(path, "libelf is too old");
  ElfFile f;
  f.path_ = path;
  f.fd_.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!f.fd_.valid()) return sys_error(fmt::format("open {}", path), errno);
  f.elf_.reset(elf_begin(f.fd_.get(), ELF_C_READ_MMAP, nullptr));
  if (!f.elf_ || elf_kind(f.elf_.get()) != ELF_K_ELF) return elf_error(path, "not an ELF object");
  LEAST_TRY(f.parse());
  return f;
}

Status ElfFile::parse() {
  Elf* e = elf_.get();
  image_ = reinterpret_cast<const uint8_t*>(elf_rawfile(e, &image_size_));
  GElf_Ehdr eh;
  if (!image_ || !gelf_getehdr(e, &eh)) return elf_error(path_, "truncated ELF header");
  if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
      eh.e_machine != EM_X86_64)
    return elf_error(path_, "not an x86-64 ELF object (ELFCLASS64, EM_X86_64)");
  if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN)
    return elf_error(path_, "not an executable or shared object");
  type_ = eh.e_type;
  entry_ = eh.e_entry;

  size_t shstrndx = 0;
  if (elf_getshdrstrndx(e, &shstrndx) != 0) return elf_error(path_, "no section name table");
  for (Elf_Scn* scn = elf_nextscn(e, nullptr); scn; scn = elf_nextscn(e, scn)) {
    GElf_Shdr sh;
    if (!gelf_getshdr(scn, &sh)) return elf_error(path_, "truncated section header");
    ElfSection s;
    const char* name = elf_strptr(e, shstrndx, sh.sh_name);
    s.name = name ? name : "";
    s.type = sh.sh_type;
    s.flags = sh.sh_flags;
    s.addr = sh.sh_addr;
    s.size = sh.sh_size;
    s.entsize = sh.sh_entsize;
    s.link = sh.sh_link;
    if (sh.sh_type != SHT_NOBITS && sh.sh_size) {
      if (sh.sh_offset > image_size_ || sh.sh_size > image_size_ - sh.sh_offset)
        return elf_error(path_, fmt::format("truncated {}", s.name));
      s.data = image_ + sh.sh_offset;
    }
    sections_.push_back(std::move(s));
  }
  // Section indexes in symbols count the null section 0.
  for (const ElfSection& s : sections_) {
    if (s.type == SHT_SYMTAB) LEAST_TRY(read_symbols(s, false, symbols_));
    if (s.type == SHT_DYNSYM) LEAST_TRY(read_symbols(s, true, dynamic_symbols_));
  }
  LEAST_TRY(read_versions());
  LEAST_TRY(read_relocations());
  read_dynamic();
  read_build_id();
  read_fdes();
  return ok_status();
}

const ElfSection* ElfFile::section(std::string_view name) const {
  for (const ElfSection& s : sections_)
    if (s.name == name) return &s;
  return nullptr;
}

const ElfSection* ElfFile::section_at(uint64_t vaddr) const {
  for (const ElfSection& s : sections_)
    if (s.alloc() && s.contains(vaddr)) return &s;
  return nullptr;
}

std::span<const uint8_t> ElfFile::bytes_at(uint64_t vaddr) const {
  const ElfSection* s = section_at(vaddr);
  if (!s || !s->data) return {};
  return {s->data + (vaddr - s->addr), s->size - (vaddr - s->addr)};
}

std::optional<uint64_t> ElfFile::read_u64(uint64_t vaddr) const {
  auto b = bytes_at(vaddr);
  if (b.size() < 8) return std::nullopt;
  uint64_t v;
  std::memcpy(&v, b.data(), 8);
  return v;
}

std::optional<uint64_t> ElfFile::dynamic_value(int64_t tag) const {
  for (auto [t, v] : dynamic_)
    if (t == tag) return v;
  return std::nullopt;
}

Status ElfFile::read_symbols(const ElfSection& table, bool dynamic, std::vector<ElfSymbol>& out) {
  if (!table.data) return ok_status();
  if (table.link == 0 || table.link > sections_.size())
    return elf_error(path_, fmt::format("{} has no string table", table.name));
  const ElfSection& strtab = sections_[table.link - 1];
  if (!strtab.data) return elf_error(path_, fmt::format("truncated {}", strtab.name));
  if (table.size % sizeof(Elf64_Sym))
    return elf_error(path_, fmt::format("truncated {}", table.name));
  size_t n = table.size / sizeof(Elf64_Sym);
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    Elf64_Sym raw;
    std::memcpy(&raw, table.data + i * sizeof raw, sizeof raw);
    ElfSymbol s;
    if (raw.st_name < strtab.size) {
      const char* p = reinterpret_cast<const char*>(strtab.data) + raw.st_name;
      s.name.assign(p, strnlen(p, strtab.size - raw.st_name));
    }
    s.value = raw.st_value;
    s.size = raw.st_size;
    s.type = ELF64_ST_TYPE(raw.st_info);
    s.bind = ELF64_ST_BIND(raw.st_info);
    s.visibility = ELF64_ST_VISIBILITY(raw.st_other);
    s.shndx = raw.st_shndx;
    out.push_back(std::move(s));
  }
  (void)dynamic;
  return ok_status();
}

Status ElfFile::read_versions() {
  const ElfSection* versym = nullptr;
  std::vector<std::string> names;  // by version index
  auto name_at = [&](const ElfSection& sec, uint32_t off) -> std::string {
    if (sec.link == 0 || sec.link > sections_.size()) return {};
    const ElfSection& str = sections_[sec.link - 1];
    if (!str.data || off >= str.size) return {};
    const char* p = reinterpret_cast<const char*>(str.data) + off;
    return std::string(p, strnlen(p, str.size - off));
  };
  auto set_name = [&](uint16_t index, std::string name) {
    index &= 0x7fff;
    if (names.size() <= index) names.resize(index + 1);
    names[index] = std::move(name);
  };
  for (const ElfSection& s : sections_) {
    if (!s.data) continue;
    if (s.type == SHT_GNU_versym) versym = &s;
    if (s.type == SHT_GNU_verdef) {
      for (size_t off = 0, guard = 0; guard < 65536; ++guard) {
        Reader v(s.data + off, s.data + s.size);
        auto d = v.get<Elf64_Verdef>();
        if (!v.ok()) return elf_error(path_, "truncated .gnu.version_d");
        // The base entry names the file itself, not a version of symbols.
        if (!(d.vd_flags & VER_FLG_BASE) && d.vd_aux &&
            off + d.vd_aux + sizeof(Elf64_Verdaux) <= s.size) {
          Elf64_Verdaux aux;
          std::memcpy(&aux, s.data + off + d.vd_aux, sizeof aux);
          set_name(d.vd_ndx, name_at(s, aux.vda_name));
        }
        if (!d.vd_next) break;
        off += d.vd_next;
      }
    }
    if (s.type == SHT_GNU_verneed) {
      for (size_t off = 0, guard = 0; guard < 65536; ++guard) {
        Reader v(s.data + off, s.data + s.size);
        auto need = v.get<Elf64_Verneed>();
        if (!v.ok()) return elf_error(path_, "truncated .gnu.version_r");
        size_t aoff = off + need.vn_aux;
        for (unsigned i = 0; i < need.vn_cnt; ++i) {
          if (aoff + sizeof(Elf64_Vernaux) > s.size)
            return elf_error(path_, "truncated .gnu.version_r");
          Elf64_Vernaux aux;
          std::memcpy(&aux, s.data + aoff, sizeof aux);
          set_name(aux.vna_other, name_at(s, aux.vna_name));
          if (!aux.vna_next) break;
          aoff += aux.vna_next;
        }
        if (!need.vn_next) break;
        off += need.vn_next;
      }
    }
  }
  if (!versym) return ok_status();
  if (versym->size / 2 < dynamic_symbols_.size()) return elf_error(path_, "truncated .gnu.version");
  for (size_t i = 0; i < dynamic_symbols_.size(); ++i) {
    uint16_t v;
    std::memcpy(&v, versym->data + 2 * i, 2);
    uint16_t index = v & 0x7fff;
    ElfSymbol& s = dynamic_symbols_[i];
    if (index >= 2 && index < names.size()) s.version = names[index];
    s.hidden_version = (v & 0x8000) != 0;
  }
  return ok_status();
}

Status ElfFile::read_relocations() {
  for (const ElfSection& s : sections_) {
    if (!s.alloc() || !s.data) continue;
    if (s.type == SHT_RELA) {
      if (s.size % sizeof(Elf64_Rela)) return elf_error(path_, fmt::format("truncated {}", s.name));
      for (size_t i = 0; i < s.size / sizeof(Elf64_Rela); ++i) {
        Elf64_Rela raw;
        std::memcpy(&raw, s.data + i * sizeof raw, sizeof raw);
        uint32_t sym = ELF64_R_SYM(raw.r_info);
        if (sym >= dynamic_symbols_.size() && sym != 0)
          return elf_error(path_, fmt::format("{} names symbol {} beyond .dynsym", s.name, sym));
        relocations_.push_back(
            {raw.r_offset, static_cast<uint32_t>(ELF64_R_TYPE(raw.r_info)), sym, raw.r_addend});
      }
    } else if (s.type == 19 /* SHT_RELR */) {
      // Packed relative relocations: an address, then bitmaps of the words
      // after it; the addend is the word in the file.
      uint64_t where = 0;
      for (size_t i = 0; i + 8 <= s.size; i += 8) {
        uint64_t entry;
        std::memcpy(&entry, s.data + i, 8);
        auto add = [&](uint64_t at) {
          auto word = read_u64(at);
          relocations_.push_back(
              {at, R_X86_64_RELATIVE, 0, static_cast<int64_t>(word.value_or(0))});
        };
        if (!(entry & 1)) {
          add(entry);
          where = entry + 8;
        } else {
          for (unsigned bit = 1; bit < 64; ++bit)
            if (entry >> bit & 1) add(where + (bit - 1) * 8);
          where += 63 * 8;
        }
      }
    }
  }
  return ok_status();
}

void ElfFile::read_dynamic() {
  for (const ElfSection& s : sections_) {
    if (s.type != SHT_DYNAMIC || !s.data) continue;
    for (size_t i = 0; i + sizeof(Elf64_Dyn) <= s.size; i += sizeof(Elf64_Dyn)) {
      Elf64_Dyn d;
      std::memcpy(&d, s.data + i, sizeof d);
      if (d.d_tag == DT_NULL) break;
      dynamic_.emplace_back(d.d_tag, d.d_un.d_val);
    }
  }
}

void ElfFile::read_build_id() {
  for (const ElfSection& s : sections_) {
    if (s.type != SHT_NOTE || !s.data) continue;
    Reader r(s.data, s.data + s.size);
    while (r.left() >= 12) {
      auto namesz = r.get<uint32_t>(), descsz = r.get<uint32_t>(), type = r.get<uint32_t>();
      const uint8_t* name = r.pos();
      r.skip((namesz + 3) & ~3u);
      const uint8_t* desc = r.pos();
      r.skip((descsz + 3) & ~3u);
      if (!r.ok()) break;
      if (type == NT_GNU_BUILD_ID && namesz == 4 && std::memcmp(name, "GNU", 4) == 0) {
        for (uint32_t i = 0; i < descsz; ++i) build_id_ += fmt::format("{:02x}", desc[i]);
        return;
      }
    }
  }
}

void ElfFile::read_fdes() {
  if (const ElfSection* eh = section(".eh_frame"); eh && eh->data) {
    struct Cie {
      size_t offset;
      uint8_t fde_encoding;
    };
    std::vector<Cie> cies;
    auto cie_at = [&](size_t offset) -> const Cie* {
      for (const Cie& c : cies)
        if (c.offset == offset) return &c;
      return nullptr;
    };
    bool bad = false;
    for (size_t off = 0; off + 4 <= eh->size;) {
      Reader r(eh->data + off, eh->data + eh->size);
      uint64_t length = r.get<uint32_t>();
      if (length == 0) break;
      if (length == 0xffffffff) length = r.get<uint64_t>();
      size_t body = static_cast<size_t>(r.pos() - eh->data);
      if (!r.ok() || length > eh->size - body) {
        bad = true;
        break;
      }
      Reader e(eh->data + body, eh->data + body + length);
      uint32_t id = e.get<uint32_t>();
      if (id == 0) {
        Cie c{off, 0};
        uint8_t version = e.get<uint8_t>();
        std::string_view aug = e.cstr();
        if (aug.find("eh") != std::string_view::npos) e.skip(8);
        e.uleb();
        e.sleb();
        if (version == 1)
          e.get<uint8_t>();
        else
          e.uleb();
        if (!aug.empty() && aug[0] == 'z') {
          e.uleb();
          for (char ch : aug.substr(1)) {
            if (ch == 'L')
              e.get<uint8_t>();
            else if (ch == 'R')
              c.fde_encoding = e.get<uint8_t>();
            else if (ch == 'P') {
              uint8_t enc = e.get<uint8_t>();
              e.pointer(enc & 0x7f, 0, 0);
            }
          }
        }
        if (e.ok())
          cies.push_back(c);
        else
          bad = true;
      } else {
        size_t cie_off = body - id;
        const Cie* c = id <= body ? cie_at(cie_off) : nullptr;
        if (!c) {
          bad = true;
        } else {
          uint64_t field = eh->addr + (e.pos() - eh->data);
          uint64_t start = e.pointer(c->fde_encoding, field, 0);
          uint64_t size = e.pointer(c->fde_encoding & 0x0f, 0, 0);
          if (e.ok() && start)
            fdes_.push_back({start, size});
          else if (!e.ok())
            bad = true;
        }
      }
      off = body + length;
    }
    if (bad)
      notes_.push_back(fmt::format("malformed .eh_frame at {:#x}: some FDEs skipped", eh->addr));
  }
  // The binary-search table gives the same starts; it covers an .eh_frame
  // this parser could not walk.
  if (const ElfSection* hdr = section(".eh_frame_hdr"); hdr && hdr->data) {
    Reader r(hdr->data, hdr->data + hdr->size);
    uint8_t version = r.get<uint8_t>(), ptr_enc = r.get<uint8_t>(), count_enc = r.get<uint8_t>(),
            table_enc = r.get<uint8_t>();
    if (version == 1 && r.ok() && count_enc != 0xff && table_enc != 0xff) {
      r.pointer(ptr_enc, hdr->addr + 4, hdr->addr);
      uint64_t count = r.pointer(count_enc, hdr->addr + (r.pos() - hdr->data), hdr->addr);
      for (uint64_t i = 0; i < count && r.ok(); ++i) {
        uint64_t start = r.pointer(table_enc, hdr->addr + (r.pos() - hdr->data), hdr->addr);
        r.pointer(table_enc, hdr->addr + (r.pos() - hdr->data), hdr->addr);
        if (r.ok()) fdes_.push_back({start, 0});
      }
      if (!r.ok()) notes_.push_back("truncated .eh_frame_hdr");
    }
  }
}

}  // namespace least::analyze
