// N refused calls in a row (socket(AF_PACKET), refused by least's default
// policy and answered by its supervisor): prints denials per second. Outside
// least the call fails fast with EPERM or succeeds (as root); the number to
// read is the rate under `least run`.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char** argv) {
  long n = argc > 1 ? atol(argv[1]) : 20000;
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  long refused = 0;
  for (long i = 0; i < n; ++i) {
    int fd = socket(AF_PACKET, SOCK_RAW, 0);
    if (fd >= 0)
      close(fd);
    else if (errno == EPERM)
      ++refused;
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
  printf("%ld calls, %ld refused, %.3f s, %.0f calls/s, %.1f us per call\n", n, refused, s,
         (double)n / s, s * 1e6 / (double)n);
  return 0;
}
