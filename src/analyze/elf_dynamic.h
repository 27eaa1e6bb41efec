// The load-time view of one ELF file: what the dynamic loader reads from it
// (interpreter, DT_NEEDED, search paths, soname, flags) and its build-id,
// the key of the summary cache.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/error.h"

namespace least::analyze {

struct DynamicInfo {
  uint16_t type = 0;                 // e_type: ET_EXEC, ET_DYN, ...
  std::string interpreter;           // PT_INTERP, "" when none
  std::vector<std::string> needed;   // DT_NEEDED, in order
  std::vector<std::string> rpath;    // DT_RPATH split at ':', unexpanded
  std::vector<std::string> runpath;  // DT_RUNPATH split at ':', unexpanded
  bool has_rpath = false;            // DT_RPATH present (even if empty)
  bool has_runpath = false;          // DT_RUNPATH present (even if empty)
  std::string soname;                // DT_SONAME, "" when none
  bool nodeflib = false;             // DT_FLAGS_1 & DF_1_NODEFLIB
  std::string build_id;              // NT_GNU_BUILD_ID, lowercase hex, "" when none
  bool operator==(const DynamicInfo&) const = default;
};

// Reads `path` (an x86-64 ELFCLASS64 file; anything else is an error saying
// what it is instead).
Result<DynamicInfo> read_dynamic_info(const std::string& path);

// What ld.so's open_verify decides from the ELF header alone.
enum class ElfHeaderCheck {
  kLoadable,   // ELFCLASS64, little-endian, EM_X86_64
  kOtherArch,  // an ELF file of another class or machine: ld.so skips it
  kNotElf,     // not ELF at all (or too short): ld.so stops with an error
};
// Errors only when `path` cannot be opened or read (ENOENT included).
Result<ElfHeaderCheck> check_elf_header(const std::string& path);

}  // namespace least::analyze
