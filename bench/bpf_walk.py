#!/usr/bin/env python3
"""Walks a seccomp BPF program for given syscalls the way the kernel's filter
cache does (kernel/seccomp.c, seccomp_is_const_allow): with only the syscall
number and the architecture known. Says, per syscall, whether the kernel can
cache the allow (then the BPF never runs for it) or how many instructions run
before the program first reads an argument.

    bench/bpf_walk.py FILTER [SYSCALL_NR...]

FILTER is raw BPF (bench/docker_to_bpf's output, 8 bytes per instruction) or
the output of `strace -f -v -s 1000000 -e trace=seccomp least run -- true`,
from which the installed program is read. Default syscalls: read, write,
getppid, personality, fcntl, openat, newfstatat (x86_64 numbers).
"""

import re
import struct
import sys

AUDIT_ARCH_X86_64 = 0xC000003E
SECCOMP_RET_ALLOW = 0x7FFF0000
DEFAULT_SYSCALLS = {0: "read", 1: "write", 110: "getppid", 135: "personality", 72: "fcntl",
                    257: "openat", 262: "newfstatat"}

# classic BPF opcodes, as strace prints them
CODES = {"BPF_LD": 0x00, "BPF_W": 0x00, "BPF_ABS": 0x20, "BPF_JMP": 0x05, "BPF_K": 0x00, "BPF_JA": 0x00,
         "BPF_JEQ": 0x10, "BPF_JGT": 0x20, "BPF_JGE": 0x30, "BPF_JSET": 0x40, "BPF_RET": 0x06,
         "BPF_ALU": 0x04, "BPF_AND": 0x50}
RETURNS = {"SECCOMP_RET_ALLOW": SECCOMP_RET_ALLOW, "SECCOMP_RET_KILL_PROCESS": 0x80000000,
           "SECCOMP_RET_KILL_THREAD": 0, "SECCOMP_RET_ERRNO": 0x00050000, "SECCOMP_RET_USER_NOTIF": 0x7FC00000,
           "SECCOMP_RET_TRAP": 0x00030000, "SECCOMP_RET_LOG": 0x7FFC0000, "SECCOMP_RET_TRACE": 0x7FF00000}


def from_raw(data):
    return [struct.unpack("<HBBI", data[i:i + 8]) for i in range(0, len(data), 8)]


def number(text):
    text = text.strip()
    if text.startswith("SECCOMP_RET"):
        return RETURNS.get(text.split("|")[0].strip(), 0)
    return int(text, 0)


def from_strace(text):
    match = re.search(r"SECCOMP_SET_MODE_FILTER, [^,]+, \{len=\d+, filter=\[(.*?)\]\}", text)
    if not match:
        sys.exit("bpf_walk: no seccomp(SECCOMP_SET_MODE_FILTER, ...) with a decoded filter in this strace output")
    program = []
    for insn in re.finditer(r"BPF_(?:STMT|JUMP)\(([^)]*)\)", match.group(1)):
        parts = insn.group(1).split(",")
        code = sum(CODES[c.strip()] for c in parts[0].split("|"))
        k = number(parts[1]) if len(parts) > 1 else 0
        jt = number(parts[2]) if len(parts) > 2 else 0
        jf = number(parts[3]) if len(parts) > 3 else 0
        program.append((code, jt, jf, k))
    return program


def walk(program, nr, arch=AUDIT_ARCH_X86_64):
    """(cacheable, instructions run, why it stopped)"""
    pc, reg, steps = 0, 0, 0
    while pc < len(program):
        code, jt, jf, k = program[pc]
        steps += 1
        if code == 0x20:  # BPF_LD | BPF_W | BPF_ABS
            if k == 0:
                reg = nr
            elif k == 4:
                reg = arch
            else:
                return False, steps, f"reads argument data at offset {k}"
        elif code == 0x06:  # BPF_RET | BPF_K
            return k == SECCOMP_RET_ALLOW, steps, f"returns {k:#x}"
        elif code == 0x05:  # BPF_JMP | BPF_JA
            pc += k
        elif code & 0x07 == 0x05:
            taken = {0x10: reg == k, 0x20: reg > k, 0x30: reg >= k, 0x40: bool(reg & k)}[code & 0xF0]
            pc += jt if taken else jf
        elif code == 0x54:  # BPF_ALU | BPF_AND | BPF_K
            reg &= k
        else:
            return False, steps, f"instruction {code:#x} the cache cannot follow"
        pc += 1
    return False, steps, "fell off the end"


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    data = open(sys.argv[1], "rb").read()
    try:
        program = from_strace(data.decode())
    except UnicodeDecodeError:
        program = from_raw(data)
    numbers = [int(a) for a in sys.argv[2:]] or list(DEFAULT_SYSCALLS)
    cached = sum(walk(program, nr)[0] for nr in range(512))
    print(f"{sys.argv[1]}: {len(program)} instructions; {cached} of syscalls 0-511 cached as always allowed")
    for nr in numbers:
        ok, steps, why = walk(program, nr)
        name = DEFAULT_SYSCALLS.get(nr, str(nr))
        verdict = "cached allow (BPF skipped)" if ok else "runs the BPF"
        print(f"  {name:12} {verdict:27} {steps:4} instructions, then {why}")


if __name__ == "__main__":
    main()
