/* vcpusim guest ABI: C guest code (lock algorithms, workloads) loaded into vcpusim as a plugin.
 *
 * A plugin is a shared object that includes this header and defines
 *
 *   int vcpusim_plugin_init(const struct vcpusim_host_api *api, unsigned abi_version);
 *
 * vcpusim calls it once after dlopen; it calls vcpusim_begin(api, abi_version) and then registers
 * what it provides (api->register_lock, api->register_workload, api->register_metric) and returns 0 (nonzero: the load fails). From then on the
 * plugin's guest code runs on simulated vCPUs: every shared-memory access it makes through the
 * functions below is one guest operation, charged by vcpusim's cost and coherence model and done
 * at its simulated completion time. Plain C loads and stores are NOT seen by vcpusim: shared data
 * must be read and written through this API (or <vcpusim/linux.h> on top of it).
 *
 * Memory model: sequentially consistent. Accesses happen in simulated-time order; barriers cost
 * time but reorder nothing. A run without violations says nothing about x86 (TSO) or arm64.
 *
 * Addresses: an access names an address and a size of 1, 2, 4 or 8 bytes inside the plugin's own
 * writable data (globals) or inside an object vcpusim allocated for it (a lock). No access may
 * cross a 64-byte line; atomics must be naturally aligned. A bad address ends the run with a
 * message naming the vCPU, the simulated time and the line (exit code 2).
 *
 * The ABI is versioned: a table or a struct changes only with VCPUSIM_GUEST_ABI_VERSION, and
 * vcpusim refuses a plugin built for another version. docs/c-guest-code.md is the tutorial. */
#ifndef VCPUSIM_GUEST_H
#define VCPUSIM_GUEST_H

#include <stddef.h>
#include <stdint.h>

/* 2: workloads, metrics, per-CPU data, preemption count, allocation, trace notes. */
#define VCPUSIM_GUEST_ABI_VERSION 2u

#ifdef __cplusplus
extern "C" {
#endif

/* A lock algorithm, usable as guest.locks.kind by its name. vcpusim allocates each lock object:
 * `size` bytes, zeroed, 64-byte aligned, then calls init (if any) on the vCPU-less boot path,
 * where it may only write the object with plain C stores. lock and unlock run on a vCPU. */
struct vcpusim_lock_ops {
  const char *name; /* [a-z0-9_:.-], at most 64 bytes; "c:ticket" style names avoid clashes */
  const char *doc;  /* one line for --help and the schema */
  size_t size;      /* bytes of one lock object (1 .. 4096) */
  int fair;         /* nonzero: waiters get the lock in arrival order (lock-waiter preemption) */
  void (*init)(void *lock);
  void (*lock)(void *lock);
  void (*unlock)(void *lock);
};

/* The type of a workload parameter. Its value reaches run() as an int64_t: an integer as written,
 * a duration in nanoseconds (written as the scenario's other durations: "10us", "1ms"), a
 * boolean as 0 or 1. */
enum vcpusim_param_type {
  VCPUSIM_PARAM_INT = 1,
  VCPUSIM_PARAM_DURATION = 2,
  VCPUSIM_PARAM_BOOL = 3
};

/* One typed parameter of a workload: a key of its guest.workloads[] entry, checked by the
 * scenario loader (a wrong type or a value outside [min, max] is one message and exit 2). */
struct vcpusim_param {
  const char *name; /* [a-z0-9_], at most 64 bytes; not a built-in workload key */
  int type;         /* enum vcpusim_param_type */
  const char *unit; /* what the value counts ("count", "bytes"; durations: "ns") */
  int64_t min, max; /* inclusive (durations in ns; booleans ignore them) */
  int64_t def;      /* the value when the scenario leaves it out */
  const char *doc;  /* one line for the schema */
};

/* A workload kind, usable as guest.workloads[].kind by its name. On each vCPU the workload
 * lists, vcpusim starts a guest task that calls run(params): params[i] is the value of
 * params_list[i]. When run returns the task ends (the vCPU idles). */
struct vcpusim_workload_ops {
  const char *name; /* as a lock's name */
  const char *doc;  /* one line for --help and the schema */
  const struct vcpusim_param *params;
  size_t param_count; /* at most 32 */
  void (*run)(const int64_t *params);
};

/* A metric the plugin counts (metric_add), emitted in the result's "metrics" as `name` and
 * listed by `vcpusim metrics` under the plugin. Starts at 0 each run. */
struct vcpusim_metric {
  const char *name; /* [a-z0-9_.], at most 64 bytes, not a built-in metric's name */
  const char *unit; /* "count", "ns", ... */
  const char *doc;
};

/* What vcpusim provides. Sizes are 1, 2, 4 or 8; values travel in the low bytes of a uint64_t. */
struct vcpusim_host_api {
  unsigned abi_version;
  /* Shared memory, by address. */
  uint64_t (*load)(const volatile void *addr, int size);
  void (*store)(volatile void *addr, int size, uint64_t value);
  /* Returns the old value; stores `desired` only when it equalled `expected`. */
  uint64_t (*cmpxchg)(volatile void *addr, int size, uint64_t expected, uint64_t desired);
  uint64_t (*xchg)(volatile void *addr, int size, uint64_t value);
  uint64_t (*fetch_add)(volatile void *addr, int size, uint64_t delta);
  /* One spin-loop iteration. Waits until a line this vCPU loaded since its last cpu_relax (or
   * since vcpusim called into the plugin) is written: a loop re-reading unchanged memory costs
   * no simulated event per iteration. */
  void (*cpu_relax)(void);
  /* Full barrier: costs.barrier of time, orders nothing more (the model is SC). */
  void (*smp_mb)(void);
  /* Computation of `ns` nanoseconds (ndelay, udelay, a critical section's work). */
  void (*compute_ns)(uint64_t ns);
  int (*smp_processor_id)(void);
  int (*nr_cpu_ids)(void);
  /* KVM pv spinlock hypercalls: halt while the bytes at addr still equal val (may return
   * spuriously); wake vCPU cpu. */
  void (*pv_wait)(const volatile void *addr, int size, uint64_t val);
  void (*pv_kick)(int cpu);
  /* A violation of check "guest_assert" with this message, at the current time and vCPU; the
   * guest code goes on. */
  void (*report)(const char *file, int line, const char *message);
  /* Registration, only from vcpusim_plugin_init: 0 on success, -1 (and vcpusim's message) on a
   * bad or duplicate name. `ops` must stay valid (a static object). */
  int (*register_lock)(const struct vcpusim_lock_ops *ops);
  /* Interrupt flag of this vCPU: irq_save disables interrupts and returns whether they were
   * enabled (1) or not (0); irq_restore(1) enables them again, and pending interrupts are taken
   * there. */
  unsigned long (*irq_save)(void);
  void (*irq_restore)(unsigned long flags);
  int (*irqs_disabled)(void);

  /* ABI 2. Registration, only from vcpusim_plugin_init, as register_lock. */
  int (*register_workload)(const struct vcpusim_workload_ops *ops);
  int (*register_metric)(const struct vcpusim_metric *metric);
  /* Adds `delta` to a registered metric (this run's value). */
  void (*metric_add)(const struct vcpusim_metric *metric, int64_t delta);
  /* Per-CPU data: the copy for vCPU `cpu` of the per-CPU variable at `var`, which lies in the
   * plugin's per-CPU section [start, stop) (<vcpusim/linux.h> DEFINE_PER_CPU). Each vCPU's copy
   * lives in a vcpusim-owned area of its own, made at the run's first use from the section's
   * bytes after init. No guest operation: an address computation. */
  void *(*per_cpu_ptr)(const void *start, const void *stop, const void *var, int cpu);
  /* Preemption count of this vCPU: disable adds one, enable takes one away (below 0 is a
   * violation). */
  void (*preempt_disable)(void);
  void (*preempt_enable)(void);
  int (*preempt_count)(void);
  /* Guest memory: `size` bytes (1 .. 1 MiB), zeroed, 64-byte aligned, in an object of its own;
   * null when size is out of range. free ends its life: a later access is a use_after_free
   * violation naming where it was freed; free of something not allocated ends the run. No
   * guest operation (allocation costs no simulated time). */
  void *(*alloc)(size_t size);
  void (*free)(const void *object, const char *file, int line);
  /* The trace: a note (an instant with its text) and a named span on this vCPU's lane. A span
   * ends with span_end of the same name; names and texts are interned, so they must not change
   * under the same pointer. */
  void (*trace_note)(const char *text);
  void (*trace_span_begin)(const char *name);
  void (*trace_span_end)(const char *name);
  /* Sleeping-context check (might_sleep): a violation when preemption or interrupts are
   * disabled here. */
  void (*might_sleep)(const char *file, int line);
  /* The vCPU's TSC (one guest operation, as RDTSC) and its frequency in Hz. */
  uint64_t (*rdtsc)(void);
  int64_t (*tsc_hz)(void);
};

#ifndef VCPUSIM_HOST /* vcpusim itself includes this header for the types only */

/* The table the guest code calls through: set by vcpusim_begin. Hidden, so two plugins never
 * share it; weak, so every file of a plugin may include this header. */
__attribute__((weak, visibility("hidden"))) const struct vcpusim_host_api *vcpusim_api;

/* Which ABI this plugin was built for: vcpusim reads it before calling anything. */
#ifdef __cplusplus
#define VCPUSIM_EXTERN_CONST extern
#else
#define VCPUSIM_EXTERN_CONST
#endif
__attribute__((weak, visibility("default"))) VCPUSIM_EXTERN_CONST const unsigned
    vcpusim_plugin_abi_version = VCPUSIM_GUEST_ABI_VERSION;

/* The plugin's entry point (define it). */
int vcpusim_plugin_init(const struct vcpusim_host_api *api, unsigned abi_version);

/* For vcpusim_plugin_init: keeps the table; -1 when vcpusim speaks another ABI version. */
static inline int vcpusim_begin(const struct vcpusim_host_api *api, unsigned abi_version) {
  if (abi_version != VCPUSIM_GUEST_ABI_VERSION || api->abi_version != VCPUSIM_GUEST_ABI_VERSION)
    return -1;
  vcpusim_api = api;
  return 0;
}

#endif /* VCPUSIM_HOST */

#ifdef __cplusplus
}
#endif

#endif /* VCPUSIM_GUEST_H */
