// SPDX-License-Identifier: GPL-2.0
/* The eBPF recording backend of `least learn`: raw syscall tracepoints
 * filtered to the traced tree (a hash map of thread ids, grown at fork,
 * shrunk at exit), calls counted per number in the kernel, and for the calls
 * whose arguments matter an event with the copied paths and addresses
 * through a ring buffer. Relative paths get the directory they are relative
 * to (cwd or dirfd) resolved here, at the call, since user space reads the
 * events later, when that directory may have changed or the process may be
 * gone. */
// The kernel's types first: libbpf's headers use them.
// clang-format off
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
// clang-format on

#include "learn_abi.h"

char LICENSE[] SEC("license") = "GPL";

/* The kernel's structures, only the fields read here; CO-RE relocates them
 * against the running kernel's BTF. */
struct pt_regs {
  unsigned long di, si, dx, r10, r8, r9;
} __attribute__((preserve_access_index));
struct qstr {
  const unsigned char* name;
} __attribute__((preserve_access_index));
struct dentry {
  struct dentry* d_parent;
  struct qstr d_name;
} __attribute__((preserve_access_index));
struct vfsmount {
  struct dentry* mnt_root;
} __attribute__((preserve_access_index));
struct mount {
  struct mount* mnt_parent;
  struct dentry* mnt_mountpoint;
  struct vfsmount mnt;
} __attribute__((preserve_access_index));
struct path {
  struct vfsmount* mnt;
  struct dentry* dentry;
} __attribute__((preserve_access_index));
struct fs_struct {
  struct path pwd;
} __attribute__((preserve_access_index));
struct file {
  struct path f_path;
} __attribute__((preserve_access_index));
struct fdtable {
  unsigned int max_fds;
  struct file** fd;
} __attribute__((preserve_access_index));
struct files_struct {
  struct fdtable* fdt;
} __attribute__((preserve_access_index));
struct task_struct {
  int pid;
  struct fs_struct* fs;
  struct files_struct* files;
} __attribute__((preserve_access_index));

#define AT_FDCWD (-100)
#define NR_EXECVE 59
#define NR_EXECVEAT 322
#define MAX_DEPTH 48 /* directory levels resolved; deeper is left to user space */
#define MAX_NAME 256 /* NAME_MAX + 1 */
#define RINGBUF_SIZE (4 << 20)

/* The traced tree: two bits per thread id (tracked, recording), for every
 * id the kernel can hand out. sys_enter runs for every syscall of the
 * machine and starts here: an array lookup the verifier inlines, where a
 * hash map of thread ids cost a hash and a bucket walk per syscall. User
 * space maps it (BPF_F_MMAPABLE) to add the root and to clear it. */
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(map_flags, BPF_F_MMAPABLE);
  __uint(max_entries, LEARN_TRACKED_WORDS);
  __type(key, __u32);
  __type(value, __u64);
} tracked SEC(".maps");

/* -1 when `tid` is not tracked, else its enum learn_state. */
static __always_inline int state_of(__u32 tid) {
  __u32 w = tid / LEARN_TIDS_PER_WORD;
  __u64* word = bpf_map_lookup_elem(&tracked, &w);
  if (!word) return -1;
  __u64 bits = (*word >> ((tid % LEARN_TIDS_PER_WORD) * 2)) & 3;
  if (!(bits & LEARN_BIT_TRACKED)) return -1;
  return (bits & LEARN_BIT_RECORDING) ? LEARN_RECORDING : LEARN_PENDING;
}

/* Only the thread itself, or its parent before it runs, changes a thread's
 * bits, so the two steps never race with a reader of the same thread; the
 * atomics keep the other threads' bits of the word. */
static __always_inline void set_state(__u32 tid, int state) {
  __u32 w = tid / LEARN_TIDS_PER_WORD;
  __u64* word = bpf_map_lookup_elem(&tracked, &w);
  if (!word) return;
  __u64 shift = (tid % LEARN_TIDS_PER_WORD) * 2;
  __sync_fetch_and_and(word, ~(3ull << shift));
  if (state >= 0) {
    __u64 bits = LEARN_BIT_TRACKED | (state == LEARN_RECORDING ? LEARN_BIT_RECORDING : 0);
    __sync_fetch_and_or(word, bits << shift);
  }
}

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, LEARN_MAX_SYSCALLS);
  __type(key, __u32);
  __type(value, struct learn_spec);
} specs SEC(".maps");

/* Calls not sent as events, by number: user space adds them with count(). */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, LEARN_MAX_SYSCALLS);
  __type(key, __u32);
  __type(value, __u64);
} counts SEC(".maps");

/* The argument values seen of calls that send no event (fcntl, mmap,
 * newfstatat...): kept here once each, read by user space at the end, so
 * that the commonest calls cost a lookup instead of an event. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __uint(max_entries, LEARN_MAX_VALUES);
  __type(key, struct learn_value_key);
  __type(value, __u8);
} values SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, LEARN_LOST_COUNT);
  __type(key, __u32);
  __type(value, __u64);
} losses SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  /* 4 MiB: ~30000 path events in flight while user space drains them;
     a bigger buffer costs its allocation at every start. */
  __uint(max_entries, RINGBUF_SIZE);
} events SEC(".maps");

/* An event is built here, then copied into the ring buffer at its size. */
struct scratch {
  struct learn_event hdr;
  char data[LEARN_DATA_SIZE + LEARN_MAX_STRING];
  /* The capture's state, here rather than on the stack: the verifier
   * refuses variable offsets into the stack, not into a map value. */
  __u64 args[8];
  struct learn_spec spec;
  __u32 pos;
  int may_retry;
  int result; /* 0: fine, -1: retry at exit, -2: did not fit */
};
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct scratch);
} scratch_area SEC(".maps");

/* Calls whose strings were not resident at entry (a page not yet faulted
 * in: tracepoints cannot sleep): read again at exit, after the kernel itself
 * has read them. */
struct retry {
  __s32 nr;
  __u64 args[6];
};
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __uint(max_entries, 4096);
  __type(key, __u32);
  __type(value, struct retry);
} retries SEC(".maps");

/* How many entries `retries` holds: sys_exit runs for every syscall of the
 * whole system, and with none pending (nearly always) it stops at this
 * array lookup, which the verifier inlines, instead of hashing a thread id. */
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __s64);
} pending SEC(".maps");

static __always_inline void add_pending(__s64 n) {
  __u32 zero = 0;
  __s64* p = bpf_map_lookup_elem(&pending, &zero);
  if (p) __sync_fetch_and_add(p, n);
}

static __always_inline void add_loss(__u32 which) {
  __u64* n = bpf_map_lookup_elem(&losses, &which);
  if (n) *n += 1;
}

static __always_inline void add_count(__s32 nr) {
  __u32 key = (__u32)nr;
  __u64* n = bpf_map_lookup_elem(&counts, &key);
  if (n) *n += 1;
}

static __always_inline void add_value(__s32 nr, __u32 arg, __u64 value) {
  struct learn_value_key k = {.nr = nr, .arg = arg, .value = value};
  if (bpf_map_lookup_elem(&values, &k)) return;
  __u8 one = 1;
  long err = bpf_map_update_elem(&values, &k, &one, BPF_NOEXIST);
  if (err != 0 && err != -17 /* EEXIST: another CPU was first */) add_loss(LEARN_LOST_VALUES);
}

static __always_inline void add_values(__s32 nr, __u8 mask, struct pt_regs* regs) {
  if (mask & 1) add_value(nr, 0, regs->di);
  if (mask & 2) add_value(nr, 1, regs->si);
  if (mask & 4) add_value(nr, 2, regs->dx);
  if (mask & 8) add_value(nr, 3, regs->r10);
  if (mask & 16) add_value(nr, 4, regs->r8);
  if (mask & 32) add_value(nr, 5, regs->r9);
}

static __always_inline struct scratch* scratch(void) {
  __u32 zero = 0;
  return bpf_map_lookup_elem(&scratch_area, &zero);
}

/* One step of the walk from a directory up to the global root, as d_path
 * walks it (crossing mounts): bpf_loop verifies it once, where an unrolled
 * walk for every argument would exceed the verifier's budget. */
struct walk {
  struct dentry* dentry;
  struct vfsmount* vfsmnt;
  struct mount* mnt;
  __u32 pos;
  int state; /* 0: walking, 1: at the root, -1: failed */
};

static long walk_step(__u32 index, void* ctx) {
  struct walk* w = ctx;
  struct scratch* s = scratch();
  if (!s) {
    w->state = -1;
    return 1;
  }
  /* Locals: CO-RE relocates every access inside BPF_CORE_READ, and struct
   * walk is no kernel type. */
  struct dentry* dentry = w->dentry;
  struct vfsmount* vfsmnt = w->vfsmnt;
  struct mount* mnt = w->mnt;
  struct dentry* mnt_root = BPF_CORE_READ(vfsmnt, mnt_root);
  if (dentry == mnt_root) {
    struct mount* parent = BPF_CORE_READ(mnt, mnt_parent);
    if (parent == mnt) {
      w->state = 1;
      return 1;
    }
    w->dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
    w->mnt = parent;
    w->vfsmnt = (void*)((char*)parent + bpf_core_field_offset(struct mount, mnt));
    return 0;
  }
  struct dentry* up = BPF_CORE_READ(dentry, d_parent);
  if (up == dentry) {
    w->state = 1;
    return 1;
  }
  const unsigned char* name = BPF_CORE_READ(dentry, d_name.name);
  __u32 pos = w->pos;
  if (pos > LEARN_DATA_SIZE - MAX_NAME) {
    w->state = -1;
    return 1;
  }
  long n = bpf_probe_read_kernel_str(&s->data[pos & (LEARN_DATA_SIZE - 1)], MAX_NAME, name);
  if (n <= 0) {
    w->state = -1;
    return 1;
  }
  w->pos = pos + (__u32)n;
  w->dentry = up;
  return 0;
}

/* Writes the directory `p` into data[pos...], components leaf first, each
 * NUL-terminated. Returns the bytes written, or -1 when it did not fit or
 * was deeper than MAX_DEPTH. */
static __always_inline int write_dir(__u32 pos, struct path* p) {
  struct walk w = {.pos = pos};
  w.dentry = BPF_CORE_READ(p, dentry);
  w.vfsmnt = BPF_CORE_READ(p, mnt);
  w.mnt = (void*)((char*)w.vfsmnt - bpf_core_field_offset(struct mount, mnt));
  bpf_loop(MAX_DEPTH, walk_step, &w, 0);
  if (w.state != 1 || w.pos < pos) return -1;
  return (int)(w.pos - pos);
}

/* The directory a relative path is resolved against: the cwd, or the
 * directory descriptor in argument dirfd_arg. */
static __always_inline int resolve_dir(__u32 pos, long dirfd) {
  struct task_struct* task = (void*)bpf_get_current_task();
  struct path p;
  if (dirfd == AT_FDCWD) {
    if (BPF_CORE_READ_INTO(&p, task, fs, pwd)) return -1;
    return write_dir(pos, &p);
  }
  if (dirfd < 0) return -1;
  struct fdtable* fdt = BPF_CORE_READ(task, files, fdt);
  if (!fdt || (unsigned long)dirfd >= BPF_CORE_READ(fdt, max_fds)) return -1;
  struct file** fds = BPF_CORE_READ(fdt, fd);
  struct file* f = 0;
  if (bpf_probe_read_kernel(&f, sizeof f, &fds[dirfd]) || !f) return -1;
  if (BPF_CORE_READ_INTO(&p, f, f_path)) return -1;
  return write_dir(pos, &p);
}

/* The capture of one argument, a bpf_loop step for the same reason. */
static long capture_arg(__u32 index, void* ctx) {
  struct scratch *s = scratch(), *c = s;
  if (!s || index >= 6) return 1;
  /* Masked where the verifier sees it: clang would bound a copy only. */
  __u64 i = index;
  asm volatile("%0 &= 7" : "+r"(i));
  if (c->spec.string_args & (1 << i)) {
    const char* user = (const char*)c->args[i];
    char first = 0;
    if (!user || bpf_probe_read_user(&first, 1, user) != 0) {
      if (user && c->may_retry) {
        c->result = -1;
        return 1;
      }
      s->hdr.len[i & 7] = LEARN_UNREADABLE;
      s->hdr.dir_len[i & 7] = LEARN_UNREADABLE;
      return 0;
    }
    __s8 dirfd_arg = c->spec.dirfd_arg[i & 7];
    s->hdr.dir_len[i & 7] = LEARN_UNREADABLE; /* absolute, empty or verbatim: as it is */
    if (first != '/' && first != 0 && dirfd_arg != LEARN_VERBATIM) {
      long dirfd = AT_FDCWD;
      if (dirfd_arg >= 0) dirfd = (int)c->args[dirfd_arg & 7];
      int d = resolve_dir(c->pos, dirfd);
      if (d >= 0) {
        s->hdr.dir_len[i & 7] = (__u16)d;
        c->pos += (__u32)d;
      }
    }
    __u32 pos = c->pos;
    if (pos > LEARN_DATA_SIZE - 1) {
      c->result = -2;
      return 1;
    }
    long n = bpf_probe_read_user_str(&s->data[pos & (LEARN_DATA_SIZE - 1)], LEARN_MAX_STRING, user);
    if (n <= 0) {
      if (c->may_retry) {
        c->result = -1;
        return 1;
      }
      s->hdr.len[i & 7] = LEARN_UNREADABLE;
      return 0;
    }
    s->hdr.len[i & 7] = (__u16)n;
    c->pos = pos + (__u32)n;
  } else if ((__s8)i == c->spec.sockaddr_arg) {
    __u64 len = 0;
    __s8 len_arg = c->spec.sockaddr_len_arg;
    if (len_arg >= 0) len = c->args[len_arg & 7] & 0xffffffff;
    if (len > LEARN_MAX_SOCKADDR) len = LEARN_MAX_SOCKADDR;
    __u32 pos = c->pos;
    if (pos > LEARN_DATA_SIZE - 1) {
      c->result = -2;
      return 1;
    }
    if (!c->args[i] || len == 0 ||
        bpf_probe_read_user(&s->data[pos & (LEARN_DATA_SIZE - 1)], len & 0xff,
                            (const void*)c->args[i]) != 0) {
      if (c->args[i] && len && c->may_retry) {
        c->result = -1;
        return 1;
      }
      s->hdr.len[i & 7] = LEARN_UNREADABLE;
      return 0;
    }
    s->hdr.len[i & 7] = (__u16)len;
    c->pos = pos + (__u32)len;
  }
  return 0;
}

/* Builds and sends the event of one call. Returns 1 when sent, 0 when it
 * was not (and the call must be counted here), -1 when memory was not
 * resident and the call should be tried again at its exit. */
static __always_inline int capture(__u32 tid, __s32 nr, const __u64 args[6],
                                   const struct learn_spec* spec, int may_retry) {
  struct scratch* s = scratch();
  if (!s) return 0;
  s->hdr.tid = tid;
  s->hdr.nr = nr;
  s->spec = *spec;
  s->may_retry = may_retry;
  s->result = 0;
  s->pos = 0;
  for (int i = 0; i < 6; i++) {
    s->hdr.args[i] = args[i];
    s->args[i] = args[i];
    s->hdr.len[i] = 0;
    s->hdr.dir_len[i] = 0;
  }
  int unused = 0;
  bpf_loop(6, capture_arg, &unused, 0);
  if (s->result == -1) return -1;
  __u32 pos = s->pos;
  if (s->result == -2 || pos > LEARN_DATA_SIZE + LEARN_MAX_STRING) {
    add_loss(LEARN_LOST_TOO_LONG);
    return 0;
  }
  __u64 size = sizeof(struct learn_event) + pos;
  if (size > sizeof(struct learn_event) + LEARN_DATA_SIZE + LEARN_MAX_STRING) {
    add_loss(LEARN_LOST_TOO_LONG);
    return 0;
  }
  /* No wake-up per event: user space reads at its 20 ms tick, and is woken
   * early only when half the buffer is taken. */
  __u64 flags = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) > RINGBUF_SIZE / 2
                    ? BPF_RB_FORCE_WAKEUP
                    : BPF_RB_NO_WAKEUP;
  if (bpf_ringbuf_output(&events, s, size, flags) != 0) {
    add_loss(LEARN_LOST_RINGBUF);
    return 0;
  }
  return 1;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(on_sys_enter, struct pt_regs* regs, long id) {
  __u32 tid = (__u32)bpf_get_current_pid_tgid();
  int state = state_of(tid);
  if (state < 0) return 0;
  if (id < 0 || id >= LEARN_MAX_SYSCALLS) return 0;
  __s32 nr = (__s32)id;
  if (state == LEARN_PENDING) {
    /* The launcher's setup is not the program's: recording starts at the
     * program's execve, where the notify backend's filter starts too. */
    if (nr != NR_EXECVE && nr != NR_EXECVEAT) return 0;
    set_state(tid, LEARN_RECORDING);
  }
  __u32 key = (__u32)nr;
  const struct learn_spec* spec = bpf_map_lookup_elem(&specs, &key);
  if (!spec || !spec->capture) {
    if (spec && spec->value_args) add_values(nr, spec->value_args, regs);
    add_count(nr);
    return 0;
  }
  __u64 args[6] = {regs->di, regs->si, regs->dx, regs->r10, regs->r8, regs->r9};
  /* execve replaces the memory the strings are in: no second chance. */
  int may_retry = nr != NR_EXECVE && nr != NR_EXECVEAT;
  int r = capture(tid, nr, args, spec, may_retry);
  if (r == 1) return 0;
  if (r < 0) {
    struct retry later = {.nr = nr};
    for (int i = 0; i < 6; i++) later.args[i] = args[i];
    /* NOEXIST: a thread has one call in flight, and the count stays true. */
    if (bpf_map_update_elem(&retries, &tid, &later, BPF_NOEXIST) == 0) {
      add_pending(1);
      return 0;
    }
    add_loss(LEARN_LOST_RETRY);
  }
  add_count(nr);
  return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(on_sys_exit, struct pt_regs* regs, long ret) {
  __u32 zero = 0;
  __s64* n = bpf_map_lookup_elem(&pending, &zero);
  if (!n || *n <= 0) return 0;
  __u32 tid = (__u32)bpf_get_current_pid_tgid();
  struct retry* later = bpf_map_lookup_elem(&retries, &tid);
  if (!later) return 0;
  struct retry copy = *later;
  if (bpf_map_delete_elem(&retries, &tid) == 0) add_pending(-1);
  if (copy.nr < 0 || copy.nr >= LEARN_MAX_SYSCALLS) return 0;
  __u32 key = (__u32)copy.nr;
  const struct learn_spec* spec = bpf_map_lookup_elem(&specs, &key);
  if (!spec) return 0;
  if (capture(tid, copy.nr, copy.args, spec, 0) != 1) add_count(copy.nr);
  return 0;
}

/* Processes and threads alike: a child of a tracked thread is tracked, in
 * its parent's state. The hook runs in the parent. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct* parent, struct task_struct* child) {
  int state = state_of((__u32)BPF_CORE_READ(parent, pid));
  if (state < 0) return 0;
  set_state((__u32)BPF_CORE_READ(child, pid), state);
  return 0;
}

/* A thread other than the leader that calls execve takes the leader's id. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct* p, int old_pid, void* bprm) {
  __u32 old_tid = (__u32)old_pid, tid = (__u32)BPF_CORE_READ(p, pid);
  if (old_tid == tid) return 0;
  int state = state_of(old_tid);
  if (state < 0) return 0;
  set_state(tid, state);
  set_state(old_tid, -1);
  return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct* p) {
  __u32 tid = (__u32)BPF_CORE_READ(p, pid);
  if (state_of(tid) < 0) return 0;
  set_state(tid, -1);
  if (bpf_map_delete_elem(&retries, &tid) == 0) add_pending(-1);
  return 0;
}
