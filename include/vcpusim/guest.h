/* vcpusim guest ABI: C guest code (a lock algorithm today) loaded into vcpusim as a plugin.
 *
 * A plugin is a shared object that includes this header and defines
 *
 *   int vcpusim_plugin_init(const struct vcpusim_host_api *api, unsigned abi_version);
 *
 * vcpusim calls it once after dlopen; it calls vcpusim_begin(api, abi_version) and then registers
 * what it provides (api->register_lock) and returns 0 (nonzero: the load fails). From then on the
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

#define VCPUSIM_GUEST_ABI_VERSION 1u

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
