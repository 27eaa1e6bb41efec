/* The layouts shared by learn.bpf.c and the user-space side (ebpf_session.cc):
 * the per-syscall capture table, the events of the ring buffer and the loss
 * counters. C, since the BPF program includes it too. */
#ifndef LEAST_LEARN_EBPF_LEARN_ABI_H
#define LEAST_LEARN_EBPF_LEARN_ABI_H

#include <linux/types.h>

#define LEARN_MAX_SYSCALLS 512
#define LEARN_MAX_STRING 4096  /* PATH_MAX, as kMaxCapturedString */
#define LEARN_MAX_SOCKADDR 128 /* as kMaxCapturedSockaddr */
/* Room for the data that follows an event's header: paths, the directories
 * they are relative to, a sockaddr. A per-CPU value must stay under the
 * allocator's 32 KiB unit; a power of two, so offsets can be masked for the
 * verifier. */
#define LEARN_DATA_SIZE 16384
#define LEARN_UNREADABLE 0xffff
#define LEARN_CWD (-1)      /* dirfd_arg: a relative path is relative to the cwd */
#define LEARN_VERBATIM (-2) /* dirfd_arg: not a path to resolve (a symlink's target) */

/* What to copy for one syscall (from capture_spec), and for each path
 * argument which argument is its directory descriptor (-1: the cwd). */
struct learn_spec {
  __u8 capture; /* paths or a sockaddr to copy: send an event */
  __u8 string_args;
  __s8 sockaddr_arg;
  __s8 sockaddr_len_arg;
  __s8 dirfd_arg[6];
  __u8 value_args; /* bit i: argument i's value matters (kept in `values`) */
  __u8 pad[5];
};

/* A value an argument was seen with, for calls that send no event. */
struct learn_value_key {
  __s32 nr;
  __u32 arg;
  __u64 value;
};
#define LEARN_MAX_VALUES 16384

/* One event: this header, then for each argument i in order dir_len[i]
 * bytes of the directory a relative path was resolved against (components
 * leaf first, each NUL-terminated; LEARN_UNREADABLE: not resolved), then
 * len[i] bytes of the path (with its NUL) or sockaddr (LEARN_UNREADABLE:
 * could not be read). */
struct learn_event {
  __u32 tid;
  __s32 nr;
  __u64 args[6];
  __u16 len[6];
  __u16 dir_len[6];
};

/* The tracked map: two bits per thread id, for ids up to the kernel's
 * PID_MAX_LIMIT on 64-bit machines. */
#define LEARN_MAX_TIDS 4194304
#define LEARN_TIDS_PER_WORD 32
#define LEARN_TRACKED_WORDS (LEARN_MAX_TIDS / LEARN_TIDS_PER_WORD)
#define LEARN_BIT_TRACKED 1
#define LEARN_BIT_RECORDING 2

/* Thread states in the tracked map. */
enum learn_state {
  LEARN_PENDING = 0,   /* the launcher's own code, until the program's execve */
  LEARN_RECORDING = 1, /* the program */
};

/* Indices of the loss counters (a per-CPU array). */
enum learn_loss {
  LEARN_LOST_RINGBUF = 0,   /* an event did not fit in the ring buffer */
  LEARN_LOST_TOO_LONG = 1,  /* an event's data did not fit in the scratch area */
  LEARN_LOST_UNTRACKED = 2, /* unused: every thread id has its bits */
  LEARN_LOST_RETRY = 3,     /* no room to retry a read at the syscall's exit */
  LEARN_LOST_VALUES = 4,    /* an argument value did not fit in the values map */
  LEARN_LOST_COUNT = 5,
};

#endif
