// A read-only view of one x86-64 ELF object through libelf: its sections,
// symbols (with GNU versions), dynamic relocations, dynamic entries, build-id
// and unwind table. Everything is parsed once at open; the bytes stay mapped
// (ELF_C_READ_MMAP) for as long as the ElfFile lives.
#pragma once

#include <libelf.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "base/unique_fd.h"

namespace least::analyze {

struct ElfSection {
  std::string name;
  uint32_t type = 0;
  uint64_t flags = 0;
  uint64_t addr = 0;
  uint64_t size = 0;
  uint64_t entsize = 0;
  uint32_t link = 0;
  const uint8_t* data = nullptr;  // nullptr for SHT_NOBITS
  bool alloc() const;
  bool exec() const;
  bool contains(uint64_t vaddr) const { return vaddr >= addr && vaddr - addr < size; }
};

struct ElfSymbol {
  std::string name;
  std::string version;          // from .gnu.version_d (defined) or _r (undefined)
  bool hidden_version = false;  // versym bit 0x8000: foo@V rather than foo@@V
  uint64_t value = 0;
  uint64_t size = 0;
  uint8_t type = 0;        // STT_*
  uint8_t bind = 0;        // STB_*
  uint8_t visibility = 0;  // STV_*
  uint16_t shndx = 0;
  bool defined() const { return shndx != 0; }
  bool function() const;  // STT_FUNC or STT_GNU_IFUNC
};

// One entry of SHT_RELA (or SHT_RELR, as R_X86_64_RELATIVE) in an allocated
// section; `symbol` indexes dynamic_symbols().
struct ElfRelocation {
  uint64_t offset = 0;
  uint32_t type = 0;
  uint32_t symbol = 0;
  int64_t addend = 0;
};

struct ElfFde {
  uint64_t start = 0;
  uint64_t size = 0;  // 0 when only .eh_frame_hdr said
};

class ElfFile {
 public:
  // Opens and parses `path`; fails unless it is an ELFCLASS64 little-endian
  // EM_X86_64 executable or shared object.
  static Result<ElfFile> open(const std::string& path);

  const std::string& path() const { return path_; }
  uint16_t type() const { return type_; }  // ET_EXEC or ET_DYN
  uint64_t entry() const { return entry_; }

  const std::vector<ElfSection>& sections() const { return sections_; }
  const ElfSection* section(std::string_view name) const;
  // The allocated section holding `vaddr`, file-backed or not.
  const ElfSection* section_at(uint64_t vaddr) const;
  // The file bytes from `vaddr` to the end of its section (empty for none or
  // SHT_NOBITS).
  std::span<const uint8_t> bytes_at(uint64_t vaddr) const;
  std::optional<uint64_t> read_u64(uint64_t vaddr) const;

  const std::vector<ElfSymbol>& symbols() const { return symbols_; }  // .symtab
  const std::vector<ElfSymbol>& dynamic_symbols() const { return dynamic_symbols_; }
  const std::vector<ElfRelocation>& relocations() const { return relocations_; }
  const std::vector<std::pair<int64_t, uint64_t>>& dynamic() const { return dynamic_; }
  std::optional<uint64_t> dynamic_value(int64_t tag) const;
  const std::string& build_id() const { return build_id_; }  // hex, "" for none
  // Function extents from .eh_frame, plus starts from .eh_frame_hdr.
  const std::vector<ElfFde>& fdes() const { return fdes_; }
  // Things that could not be read (a malformed .eh_frame, ...), in words.
  const std::vector<std::string>& notes() const { return notes_; }

 private:
  struct ElfEnd {
    void operator()(Elf* e) const { elf_end(e); }
  };
  ElfFile() = default;
  Status parse();
  Status read_symbols(const ElfSection& table, bool dynamic, std::vector<ElfSymbol>& out);
  Status read_versions();
  Status read_relocations();
  void read_dynamic();
  void read_build_id();
  void read_fdes();

  std::string path_;
  UniqueFd fd_;
  std::unique_ptr<Elf, ElfEnd> elf_;
  const uint8_t* image_ = nullptr;
  size_t image_size_ = 0;
  uint16_t type_ = 0;
  uint64_t entry_ = 0;
  std::vector<ElfSection> sections_;
  std::vector<ElfSymbol> symbols_;
  std::vector<ElfSymbol> dynamic_symbols_;
  std::vector<ElfRelocation> relocations_;
  std::vector<std::pair<int64_t, uint64_t>> dynamic_;
  std::string build_id_;
  std::vector<ElfFde> fdes_;
  std::vector<std::string> notes_;
};

}  // namespace least::analyze
