#include "analyze/elf_dynamic.h"

#include <elf.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>

#include "base/unique_fd.h"

namespace least::analyze {

namespace {

struct ElfEnd {
  void operator()(Elf* e) const { elf_end(e); }
};
using UniqueElf = std::unique_ptr<Elf, ElfEnd>;

std::vector<std::string> split_path_list(const std::string& s) {
  // ld.so splits with strsep(":"), so an empty element stays: fillin_rpath
  // makes it the directory "", i.e. the name relative to the working directory.
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t end = s.find(':', start);
    if (end == std::string::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
}

// The file offset of virtual address `vaddr`, through the PT_LOAD segments,
// as ld.so sees the file (section headers may be stripped).
std::optional<uint64_t> vaddr_to_offset(const std::vector<GElf_Phdr>& phdrs, uint64_t vaddr) {
  for (const GElf_Phdr& p : phdrs) {
    if (p.p_type == PT_LOAD && vaddr >= p.p_vaddr && vaddr - p.p_vaddr < p.p_filesz)
      return p.p_offset + (vaddr - p.p_vaddr);
  }
  return std::nullopt;
}

std::string to_hex(const unsigned char* bytes, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    out += kDigits[bytes[i] >> 4];
    out += kDigits[bytes[i] & 0xf];
  }
  return out;
}

Error elf_error(const std::string& path, const std::string& what) {
  return make_error(ErrorKind::kSystem, path + ": " + what + ": " + elf_errmsg(-1));
}

}  // namespace

Result<ElfHeaderCheck> check_elf_header(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return sys_error("open " + path, errno);
  unsigned char ident[EI_NIDENT + 4] = {};
  ssize_t n = ::pread(fd.get(), ident, sizeof ident, 0);
  if (n < 0) return sys_error("read " + path, errno);
  if (static_cast<size_t>(n) < sizeof ident || std::memcmp(ident, ELFMAG, SELFMAG) != 0)
    return ElfHeaderCheck::kNotElf;
  uint16_t machine = 0;
  if (ident[EI_DATA] == ELFDATA2LSB) {
    machine = static_cast<uint16_t>(ident[EI_NIDENT + 2] | (ident[EI_NIDENT + 3] << 8));
  } else {
    machine = static_cast<uint16_t>((ident[EI_NIDENT + 2] << 8) | ident[EI_NIDENT + 3]);
  }
  if (ident[EI_CLASS] != ELFCLASS64 || ident[EI_DATA] != ELFDATA2LSB || machine != EM_X86_64)
    return ElfHeaderCheck::kOtherArch;
  return ElfHeaderCheck::kLoadable;
}

Result<DynamicInfo> read_dynamic_info(const std::string& path) {
  static const bool initialised = elf_version(EV_CURRENT) != EV_NONE;
  if (!initialised) return make_error(ErrorKind::kSystem, "libelf: " + std::string(elf_errmsg(-1)));

  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return sys_error("open " + path, errno);
  UniqueElf elf(elf_begin(fd.get(), ELF_C_READ_MMAP, nullptr));
  if (!elf) return elf_error(path, "not readable as ELF");
  if (elf_kind(elf.get()) != ELF_K_ELF)
    return make_error(ErrorKind::kUnsupported, path + ": not an ELF file");
  if (gelf_getclass(elf.get()) != ELFCLASS64)
    return make_error(ErrorKind::kUnsupported,
                      path + ": a 32-bit ELF file; only x86-64 (ELFCLASS64) is analysed");
  GElf_Ehdr ehdr;
  if (!gelf_getehdr(elf.get(), &ehdr)) return elf_error(path, "no ELF header");
  if (ehdr.e_machine != EM_X86_64)
    return make_error(
        ErrorKind::kUnsupported,
        path + ": ELF machine " + std::to_string(ehdr.e_machine) + ", not x86-64 (EM_X86_64)");

  DynamicInfo info;
  info.type = ehdr.e_type;

  size_t phnum = 0;
  if (elf_getphdrnum(elf.get(), &phnum) != 0) return elf_error(path, "no program headers");
  std::vector<GElf_Phdr> phdrs;
  phdrs.reserve(phnum);
  for (size_t i = 0; i < phnum; ++i) {
    GElf_Phdr p;
    if (!gelf_getphdr(elf.get(), static_cast<int>(i), &p)) return elf_error(path, "bad phdr");
    phdrs.push_back(p);
  }

  size_t file_size = 0;
  const char* raw = elf_rawfile(elf.get(), &file_size);
  if (!raw) return elf_error(path, "cannot map");
  // A NUL-terminated string at a file offset, bounded by `limit`.
  auto string_at = [&](uint64_t offset, uint64_t limit) -> std::optional<std::string> {
    limit = std::min<uint64_t>(limit, file_size);
    if (offset >= limit) return std::nullopt;
    const char* begin = raw + offset;
    const void* nul = std::memchr(begin, '\0', limit - offset);
    if (!nul) return std::nullopt;
    return std::string(begin, static_cast<const char*>(nul));
  };

  const GElf_Phdr* dynamic = nullptr;
  for (const GElf_Phdr& p : phdrs) {
    if (p.p_type == PT_INTERP) {
      auto s = string_at(p.p_offset, p.p_offset + p.p_filesz);
      if (!s) return make_error(ErrorKind::kUnsupported, path + ": PT_INTERP out of the file");
      info.interpreter = *s;
    } else if (p.p_type == PT_DYNAMIC) {
      dynamic = &p;
    } else if (p.p_type == PT_NOTE && info.build_id.empty()) {
      Elf_Data* data =
          elf_getdata_rawchunk(elf.get(), static_cast<int64_t>(p.p_offset), p.p_filesz, ELF_T_NHDR);
      if (!data) continue;  // a note segment we cannot read has no build-id for us
      GElf_Nhdr nhdr;
      size_t name_off = 0, desc_off = 0;
      for (size_t off = 0; (off = gelf_getnote(data, off, &nhdr, &name_off, &desc_off)) > 0;) {
        if (nhdr.n_type == NT_GNU_BUILD_ID && nhdr.n_namesz == 4 &&
            std::memcmp(static_cast<const char*>(data->d_buf) + name_off, "GNU", 4) == 0) {
          info.build_id =
              to_hex(static_cast<const unsigned char*>(data->d_buf) + desc_off, nhdr.n_descsz);
          break;
        }
      }
    }
  }
  if (!dynamic) return info;  // static: no loader work

  Elf_Data* dyn = elf_getdata_rawchunk(elf.get(), static_cast<int64_t>(dynamic->p_offset),
                                       dynamic->p_filesz, ELF_T_DYN);
  if (!dyn) return elf_error(path, "PT_DYNAMIC out of the file");
  size_t count = dynamic->p_filesz / sizeof(Elf64_Dyn);
  std::optional<uint64_t> strtab, strsz;
  std::vector<std::pair<int64_t, uint64_t>> string_entries;  // tag, offset in strtab
  for (size_t i = 0; i < count; ++i) {
    GElf_Dyn d;
    if (!gelf_getdyn(dyn, static_cast<int>(i), &d) || d.d_tag == DT_NULL) break;
    switch (d.d_tag) {
      case DT_STRTAB:
        strtab = d.d_un.d_ptr;
        break;
      case DT_STRSZ:
        strsz = d.d_un.d_val;
        break;
      case DT_NEEDED:
      case DT_RPATH:
      case DT_RUNPATH:
      case DT_SONAME:
        string_entries.emplace_back(d.d_tag, d.d_un.d_val);
        break;
      case DT_FLAGS_1:
        info.nodeflib = (d.d_un.d_val & DF_1_NODEFLIB) != 0;
        break;
      default:
        break;
    }
  }
  if (string_entries.empty()) return info;
  if (!strtab || !strsz)
    return make_error(ErrorKind::kUnsupported, path + ": PT_DYNAMIC has no DT_STRTAB/DT_STRSZ");
  auto strtab_off = vaddr_to_offset(phdrs, *strtab);
  if (!strtab_off)
    return make_error(ErrorKind::kUnsupported, path + ": DT_STRTAB outside every PT_LOAD");
  for (const auto& [tag, offset] : string_entries) {
    auto s = offset < *strsz ? string_at(*strtab_off + offset, *strtab_off + *strsz) : std::nullopt;
    if (!s)
      return make_error(ErrorKind::kUnsupported, path + ": a dynamic string (tag " +
                                                     std::to_string(tag) + ") outside DT_STRTAB");
    switch (tag) {
      case DT_NEEDED:
        info.needed.push_back(*s);
        break;
      case DT_RPATH:
        info.has_rpath = true;
        info.rpath = split_path_list(*s);
        break;
      case DT_RUNPATH:
        info.has_runpath = true;
        info.runpath = split_path_list(*s);
        break;
      case DT_SONAME:
        info.soname = *s;
        break;
    }
  }
  return info;
}

}  // namespace least::analyze
