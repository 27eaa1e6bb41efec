/* peak_rss: runs a command and prints its peak resident set size in KiB,
 * like GNU `time -f %M` (both read ru_maxrss from wait4). The value is the
 * peak of the largest single process in the command's tree (the kernel keeps
 * the maximum over waited-for descendants), not the sum of the tree.
 *
 *   peak_rss [-o FILE] COMMAND [ARGS...]
 *
 * Prints to FILE with -o (so the command's own output cannot mix in), else to
 * stdout. Exits with the command's status (128+N if killed by signal N). */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char** argv) {
  const char* out_path = NULL;
  int first = 1;
  if (argc > 2 && strcmp(argv[1], "-o") == 0) {
    out_path = argv[2];
    first = 3;
  }
  if (first >= argc) {
    fprintf(stderr, "usage: peak_rss [-o FILE] COMMAND [ARGS...]\n");
    return 2;
  }
  pid_t pid = fork();
  if (pid < 0) {
    perror("fork");
    return 125;
  }
  if (pid == 0) {
    execvp(argv[first], argv + first);
    perror(argv[first]);
    _exit(127);
  }
  int status;
  struct rusage usage;
  if (wait4(pid, &status, 0, &usage) < 0) {
    perror("wait4");
    return 125;
  }
  FILE* out = out_path ? fopen(out_path, "w") : stdout;
  if (out == NULL) {
    perror(out_path);
    return 125;
  }
  fprintf(out, "%ld\n", usage.ru_maxrss);
  if (out != stdout) fclose(out);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}
