// What least-probe (probe.c) and least-escape-probe (escape_probe.c) share:
// reading a constant from the command line and printing the one-line answer
// the tests parse. Each probe defines PROBE_NAME before including this, and
// its own table of names (struct name, N()) for value_of().
#ifndef LEAST_TESTS_PROBE_COMMON_H
#define LEAST_TESTS_PROBE_COMMON_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct name {
  const char* name;
  unsigned long value;
};
// clang-format off
#define N(x) {#x, (unsigned long)(x)}
// clang-format on

static int usage(const char* why) {
  fprintf(stderr, "%s: %s\n", PROBE_NAME, why);
  exit(2);
}

// "A|B|0x10|42": each part a name from `names` or a number (any base).
static unsigned long value_in(const struct name* names, size_t count, const char* text) {
  unsigned long v = 0;
  char* copy = strdup(text);
  for (char *save = NULL, *part = strtok_r(copy, "|", &save); part;
       part = strtok_r(NULL, "|", &save)) {
    char* end;
    unsigned long n = strtoul(part, &end, 0);
    if (*end != '\0') {
      size_t i = 0;
      for (; i < count; i++)
        if (strcmp(names[i].name, part) == 0) break;
      if (i == count) usage("unknown constant");
      n = names[i].value;
    }
    v |= n;
  }
  free(copy);
  return v;
}
#define value_of(text) value_in(kNames, sizeof kNames / sizeof kNames[0], (text))

static void say(const char* line) {
  size_t len = strlen(line);
  while (len > 0) {
    ssize_t n = write(STDOUT_FILENO, line, len);
    if (n <= 0) return;
    line += n;
    len -= (size_t)n;
  }
}

// The answer: `OK [value]` or `ERRNO <NAME>` on one line, the errno as exit
// status.
static int answer_value(long rc, int err, const char* value) {
  char line[256];
  if (rc < 0)
    snprintf(line, sizeof line, "ERRNO %s\n", strerrorname_np(err) ? strerrorname_np(err) : "?");
  else if (value)
    snprintf(line, sizeof line, "OK %s\n", value);
  else
    snprintf(line, sizeof line, "OK\n");
  say(line);
  return rc < 0 ? (err & 0xff) : 0;
}
static int answer(long rc, int err) {
  return answer_value(rc, err, NULL);
}
// errno is read after the call: `report(socket(...))`.
#define report(rc)     \
  ({                   \
    long r_ = (rc);    \
    answer(r_, errno); \
  })
static int fail(int err) {
  return answer(-1, err);
}
#define CHECK(expr)                  \
  ({                                 \
    long rc_ = (expr);               \
    if (rc_ < 0) return fail(errno); \
    rc_;                             \
  })

#endif
