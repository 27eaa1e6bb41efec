// A classic-BPF interpreter for seccomp filters, so lowering and compiling
// can be tested without the kernel (libseccomp's own tests do the same).
#pragma once

#include <linux/filter.h>
#include <linux/seccomp.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace least::test {

inline uint32_t run_bpf(const std::vector<sock_filter>& prog, const seccomp_data& data) {
  uint32_t a = 0, x = 0;
  std::array<uint32_t, BPF_MEMWORDS> mem{};
  auto load = [&](uint32_t offset) {
    if (offset + 4 > sizeof data) throw std::runtime_error("load out of seccomp_data");
    uint32_t v;
    std::memcpy(&v, reinterpret_cast<const char*>(&data) + offset, 4);
    return v;
  };
  for (size_t pc = 0; pc < prog.size(); ++pc) {
    const sock_filter& i = prog[pc];
    uint32_t src = BPF_SRC(i.code) == BPF_X ? x : i.k;
    switch (BPF_CLASS(i.code)) {
      case BPF_LD:
        if (BPF_MODE(i.code) == BPF_ABS)
          a = load(i.k);
        else if (BPF_MODE(i.code) == BPF_IMM)
          a = i.k;
        else if (BPF_MODE(i.code) == BPF_MEM)
          a = mem.at(i.k);
        else
          throw std::runtime_error("unsupported load");
        break;
      case BPF_LDX:
        if (BPF_MODE(i.code) == BPF_IMM)
          x = i.k;
        else if (BPF_MODE(i.code) == BPF_MEM)
          x = mem.at(i.k);
        else
          throw std::runtime_error("unsupported ldx");
        break;
      case BPF_ST:
        mem.at(i.k) = a;
        break;
      case BPF_STX:
        mem.at(i.k) = x;
        break;
      case BPF_ALU:
        switch (BPF_OP(i.code)) {
          case BPF_ADD:
            a += src;
            break;
          case BPF_SUB:
            a -= src;
            break;
          case BPF_MUL:
            a *= src;
            break;
          case BPF_DIV:
            a = src ? a / src : 0;
            break;
          case BPF_OR:
            a |= src;
            break;
          case BPF_AND:
            a &= src;
            break;
          case BPF_LSH:
            a <<= src;
            break;
          case BPF_RSH:
            a >>= src;
            break;
          case BPF_NEG:
            a = -a;
            break;
          case BPF_XOR:
            a ^= src;
            break;
          default:
            throw std::runtime_error("unsupported alu");
        }
        break;
      case BPF_JMP: {
        if (BPF_OP(i.code) == BPF_JA) {
          pc += i.k;
          break;
        }
        bool taken = false;
        switch (BPF_OP(i.code)) {
          case BPF_JEQ:
            taken = a == src;
            break;
          case BPF_JGT:
            taken = a > src;
            break;
          case BPF_JGE:
            taken = a >= src;
            break;
          case BPF_JSET:
            taken = (a & src) != 0;
            break;
          default:
            throw std::runtime_error("unsupported jump");
        }
        pc += taken ? i.jt : i.jf;
        break;
      }
      case BPF_RET:
        return BPF_RVAL(i.code) == BPF_A ? a : i.k;
      case BPF_MISC:
        if (BPF_MISCOP(i.code) == BPF_TAX)
          x = a;
        else
          a = x;
        break;
      default:
        throw std::runtime_error("unsupported instruction class");
    }
  }
  throw std::runtime_error("fell off the end of the filter");
}

}  // namespace least::test
