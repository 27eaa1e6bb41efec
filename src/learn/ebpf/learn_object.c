/* learn.bpf.o, compiled by CMake, embedded in least so that no file has to
 * be found at run time. */
#define LEAST_STR2(x) #x
#define LEAST_STR(x) LEAST_STR2(x)
__asm__(".section .rodata\n"
        ".balign 8\n"
        ".global least_learn_bpf_start\n"
        "least_learn_bpf_start:\n"
        ".incbin \"" LEAST_STR(LEAST_LEARN_BPF_OBJECT) "\"\n"
        ".global least_learn_bpf_end\n"
        "least_learn_bpf_end:\n"
        ".previous\n");
