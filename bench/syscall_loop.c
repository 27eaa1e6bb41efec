/* syscall_loop: makes one system call N times, as fast as it can.
 *
 *   syscall_loop [ITERATIONS] [getppid|personality]
 *
 * Timing the whole process (hyperfine) under different seccomp filters and
 * dividing the difference by ITERATIONS gives the cost the filter adds to
 * each call. getppid is allowed by every filter without looking at its
 * arguments, so the kernel may answer it from its per-filter cache of
 * always-allowed syscalls; personality(0xffffffff) (a query) is allowed only
 * through an argument check, so the BPF program runs on every call.
 * Exits 1 if a call fails (the filter refused it), so a broken setup cannot
 * pass for a fast one. Default: 5000000 calls of getppid. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char** argv) {
  long iterations = argc > 1 ? strtol(argv[1], NULL, 10) : 5000000;
  const char* which = argc > 2 ? argv[2] : "getppid";
  long nr;
  unsigned long arg;
  if (strcmp(which, "getppid") == 0) {
    nr = SYS_getppid;
    arg = 0;
  } else if (strcmp(which, "personality") == 0) {
    nr = SYS_personality;
    arg = 0xffffffffUL; /* query the persona, change nothing */
  } else {
    fprintf(stderr, "syscall_loop: unknown syscall %s (getppid or personality)\n", which);
    return 2;
  }
  if (iterations <= 0) {
    fprintf(stderr, "syscall_loop: ITERATIONS must be positive\n");
    return 2;
  }
  for (long i = 0; i < iterations; i++) {
    if (syscall(nr, arg) == -1) {
      perror(which);
      return 1;
    }
  }
  return 0;
}
