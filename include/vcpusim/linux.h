/* Kernel-flavoured guest code on <vcpusim/guest.h>: the Linux names for what the vcpusim guest ABI
 * provides, so kernel-style C compiles with few changes. Header-only; every macro is one or a few
 * guest operations. Written for vcpusim, after the interfaces of include/linux/compiler.h,
 * include/asm-generic/barrier.h, include/linux/atomic/atomic-instrumented.h and
 * arch/x86/include/asm/cmpxchg.h (Linux 6.x); none of their code is used.
 *
 * Memory model: sequentially consistent. smp_mb/smp_rmb/smp_wmb/barrier and the acquire/release
 * forms cost time (smp_mb: costs.barrier) but reorder nothing, because nothing is reordered.
 *
 * Per-CPU data, preemption, allocation and trace notes are here too; docs/c-guest-code.md lists
 * what is not yet. */
#ifndef VCPUSIM_LINUX_H
#define VCPUSIM_LINUX_H

#include <vcpusim/guest.h>

#define __vcpusim_size(x) ((int)sizeof(x))
#define __vcpusim_check_size(x)                                                         \
  _Static_assert(sizeof(x) == 1 || sizeof(x) == 2 || sizeof(x) == 4 || sizeof(x) == 8, \
                 "vcpusim: shared accesses are 1, 2, 4 or 8 bytes")

/* The value of `bits` read as the type of `x` (sign included). */
#define __vcpusim_as(x, bits) ((__typeof__(x))(bits))

#define READ_ONCE(x)                                                       \
  ({                                                                       \
    __vcpusim_check_size(x);                                               \
    __vcpusim_as(x, vcpusim_api->load(&(x), __vcpusim_size(x)));           \
  })
#define WRITE_ONCE(x, val)                                                 \
  do {                                                                     \
    __vcpusim_check_size(x);                                               \
    __typeof__(x) __v = (val);                                             \
    uint64_t __bits = 0;                                                   \
    __builtin_memcpy(&__bits, &__v, sizeof(__v));                          \
    vcpusim_api->store(&(x), __vcpusim_size(x), __bits);                   \
  } while (0)

#define barrier() do { } while (0)
#define smp_mb() (vcpusim_api->smp_mb)()
#define smp_rmb() barrier() /* x86: loads are not reordered with loads */
#define smp_wmb() barrier() /* x86: stores are not reordered with stores */
#define smp_load_acquire(p) READ_ONCE(*(p))
#define smp_store_release(p, v) WRITE_ONCE(*(p), v)
#define smp_mb__before_atomic() barrier()
#define smp_mb__after_atomic() barrier()

static inline void cpu_relax(void) { vcpusim_api->cpu_relax(); }
static inline int smp_processor_id(void) { return vcpusim_api->smp_processor_id(); }
static inline int num_possible_cpus(void) { return vcpusim_api->nr_cpu_ids(); }
static inline void ndelay(unsigned long ns) { vcpusim_api->compute_ns(ns); }
static inline void udelay(unsigned long us) { vcpusim_api->compute_ns((uint64_t)us * 1000u); }

/* smp_cond_load_acquire(ptr, cond): VAL is the value read; spins (event-driven) until cond. */
#define smp_cond_load_relaxed(ptr, cond_expr)          \
  ({                                                   \
    __typeof__(*(ptr)) VAL;                            \
    for (;;) {                                         \
      VAL = READ_ONCE(*(ptr));                         \
      if (cond_expr) break;                            \
      cpu_relax();                                     \
    }                                                  \
    VAL;                                               \
  })
#define smp_cond_load_acquire(ptr, cond_expr) smp_cond_load_relaxed(ptr, cond_expr)

/* cmpxchg / xchg on 1, 2, 4 and 8-byte objects: return the old value. */
#define cmpxchg(ptr, old, new_)                                                              \
  ({                                                                                         \
    __vcpusim_check_size(*(ptr));                                                            \
    __typeof__(*(ptr)) __o = (old), __n = (new_);                                            \
    uint64_t __ob = 0, __nb = 0;                                                             \
    __builtin_memcpy(&__ob, &__o, sizeof(__o));                                              \
    __builtin_memcpy(&__nb, &__n, sizeof(__n));                                              \
    __vcpusim_as(*(ptr), (vcpusim_api->cmpxchg)((ptr), __vcpusim_size(*(ptr)), __ob, __nb));   \
  })
#define xchg(ptr, v)                                                                         \
  ({                                                                                         \
    __vcpusim_check_size(*(ptr));                                                            \
    __typeof__(*(ptr)) __x = (v);                                                            \
    uint64_t __xb = 0;                                                                       \
    __builtin_memcpy(&__xb, &__x, sizeof(__x));                                              \
    __vcpusim_as(*(ptr), (vcpusim_api->xchg)((ptr), __vcpusim_size(*(ptr)), __xb));            \
  })
/* try_cmpxchg(ptr, &old, new): true on success; on failure *old is what was there. */
#define try_cmpxchg(ptr, oldp, new_)                        \
  ({                                                        \
    __typeof__(*(ptr)) __e = *(oldp);                       \
    __typeof__(*(ptr)) __r = cmpxchg((ptr), __e, (new_));   \
    if (__r != __e) *(oldp) = __r;                          \
    __r == __e;                                             \
  })

/* atomic_t: a 32-bit counter. */
typedef struct {
  int counter;
} atomic_t;
#define ATOMIC_INIT(i) { (i) }

static inline int atomic_read(const atomic_t *v) {
  return (int)vcpusim_api->load(&v->counter, 4);
}
static inline void atomic_set(atomic_t *v, int i) { vcpusim_api->store(&v->counter, 4, (uint32_t)i); }
static inline int atomic_fetch_add(int i, atomic_t *v) {
  return (int)vcpusim_api->fetch_add(&v->counter, 4, (uint32_t)i);
}
static inline int atomic_fetch_sub(int i, atomic_t *v) { return atomic_fetch_add(-i, v); }
static inline int atomic_fetch_inc(atomic_t *v) { return atomic_fetch_add(1, v); }
static inline int atomic_fetch_dec(atomic_t *v) { return atomic_fetch_add(-1, v); }
static inline int atomic_add_return(int i, atomic_t *v) { return atomic_fetch_add(i, v) + i; }
static inline int atomic_sub_return(int i, atomic_t *v) { return atomic_fetch_add(-i, v) - i; }
static inline int atomic_inc_return(atomic_t *v) { return atomic_add_return(1, v); }
static inline int atomic_dec_return(atomic_t *v) { return atomic_sub_return(1, v); }
static inline void atomic_add(int i, atomic_t *v) { (void)atomic_fetch_add(i, v); }
static inline void atomic_sub(int i, atomic_t *v) { (void)atomic_fetch_add(-i, v); }
static inline void atomic_inc(atomic_t *v) { (void)atomic_fetch_add(1, v); }
static inline void atomic_dec(atomic_t *v) { (void)atomic_fetch_add(-1, v); }
static inline int atomic_dec_and_test(atomic_t *v) { return atomic_dec_return(v) == 0; }
static inline int atomic_inc_and_test(atomic_t *v) { return atomic_inc_return(v) == 0; }
static inline int atomic_cmpxchg(atomic_t *v, int old, int new_) {
  return (int)(vcpusim_api->cmpxchg)(&v->counter, 4, (uint32_t)old, (uint32_t)new_);
}
static inline int atomic_try_cmpxchg(atomic_t *v, int *old, int new_) {
  const int r = atomic_cmpxchg(v, *old, new_);
  if (r == *old) return 1;
  *old = r;
  return 0;
}
static inline int atomic_xchg(atomic_t *v, int i) {
  return (int)(vcpusim_api->xchg)(&v->counter, 4, (uint32_t)i);
}

/* atomic64_t: a 64-bit counter (arch/x86 names; s64 as long long). */
typedef struct {
  long long counter;
} atomic64_t;
#define ATOMIC64_INIT(i) { (i) }

static inline long long atomic64_read(const atomic64_t *v) {
  return (long long)vcpusim_api->load(&v->counter, 8);
}
static inline void atomic64_set(atomic64_t *v, long long i) {
  vcpusim_api->store(&v->counter, 8, (uint64_t)i);
}
static inline long long atomic64_fetch_add(long long i, atomic64_t *v) {
  return (long long)vcpusim_api->fetch_add(&v->counter, 8, (uint64_t)i);
}
static inline long long atomic64_fetch_sub(long long i, atomic64_t *v) {
  return atomic64_fetch_add(-i, v);
}
static inline long long atomic64_fetch_inc(atomic64_t *v) { return atomic64_fetch_add(1, v); }
static inline long long atomic64_fetch_dec(atomic64_t *v) { return atomic64_fetch_add(-1, v); }
static inline long long atomic64_add_return(long long i, atomic64_t *v) {
  return atomic64_fetch_add(i, v) + i;
}
static inline long long atomic64_sub_return(long long i, atomic64_t *v) {
  return atomic64_fetch_add(-i, v) - i;
}
static inline long long atomic64_inc_return(atomic64_t *v) { return atomic64_add_return(1, v); }
static inline long long atomic64_dec_return(atomic64_t *v) { return atomic64_sub_return(1, v); }
static inline void atomic64_add(long long i, atomic64_t *v) { (void)atomic64_fetch_add(i, v); }
static inline void atomic64_sub(long long i, atomic64_t *v) { (void)atomic64_fetch_add(-i, v); }
static inline void atomic64_inc(atomic64_t *v) { (void)atomic64_fetch_add(1, v); }
static inline void atomic64_dec(atomic64_t *v) { (void)atomic64_fetch_add(-1, v); }
static inline int atomic64_dec_and_test(atomic64_t *v) { return atomic64_dec_return(v) == 0; }
static inline long long atomic64_cmpxchg(atomic64_t *v, long long old, long long new_) {
  return (long long)(vcpusim_api->cmpxchg)(&v->counter, 8, (uint64_t)old, (uint64_t)new_);
}
static inline int atomic64_try_cmpxchg(atomic64_t *v, long long *old, long long new_) {
  const long long r = atomic64_cmpxchg(v, *old, new_);
  if (r == *old) return 1;
  *old = r;
  return 0;
}
static inline long long atomic64_xchg(atomic64_t *v, long long i) {
  return (long long)(vcpusim_api->xchg)(&v->counter, 8, (uint64_t)i);
}

/* Assertions: a violation of check "guest_assert" with the file, line and condition; the code
 * goes on (as WARN_ON does; BUG_ON's halt is not modelled). Both return the condition. */
#define __vcpusim_stringify(x) #x
#define WARN_ON(cond)                                                               \
  ({                                                                                \
    int __c = !!(cond);                                                             \
    if (__c) vcpusim_api->report(__FILE__, __LINE__, "WARN_ON(" #cond ")");         \
    __c;                                                                            \
  })
#define BUG_ON(cond)                                                                \
  do {                                                                              \
    if (cond) vcpusim_api->report(__FILE__, __LINE__, "BUG_ON(" #cond ")");         \
  } while (0)
#define VCPUSIM_ASSERT(cond, message)                                               \
  do {                                                                              \
    if (!(cond)) vcpusim_api->report(__FILE__, __LINE__, (message));                \
  } while (0)

/* The vCPU's interrupt flag (include/linux/irqflags.h names). */
#define local_irq_save(flags) ((flags) = vcpusim_api->irq_save())
#define local_irq_restore(flags) vcpusim_api->irq_restore(flags)
#define local_irq_disable() ((void)vcpusim_api->irq_save())
#define local_irq_enable() vcpusim_api->irq_restore(1)
static inline int irqs_disabled(void) { return vcpusim_api->irqs_disabled(); }

/* KVM pv spinlock hypercalls (arch/x86/kernel/kvm.c kvm_wait, kvm_kick_cpu). */
#define pv_wait(ptr, val) (vcpusim_api->pv_wait)((ptr), __vcpusim_size(*(ptr)), (uint64_t)(val))
static inline void pv_kick(int cpu) { vcpusim_api->pv_kick(cpu); }

/* Per-CPU data (include/linux/percpu-defs.h names). DEFINE_PER_CPU puts the variable in the
 * plugin's per-CPU section, the template; each vCPU's copy lives in an area of its own that
 * vcpusim makes at the run's first per-CPU access, from the template as init left it. So two
 * vCPUs' copies never share a cacheline, and a vCPU's copies of neighbouring variables do.
 * Access the copies through READ_ONCE / WRITE_ONCE / atomics as any shared data. */
extern char __start_vcpusim_percpu[] __attribute__((weak, visibility("hidden")));
extern char __stop_vcpusim_percpu[] __attribute__((weak, visibility("hidden")));
#define DEFINE_PER_CPU(type, name) \
  __attribute__((section("vcpusim_percpu"), used)) __typeof__(type) name
#define DECLARE_PER_CPU(type, name) extern __typeof__(type) name
#define per_cpu_ptr(ptr, cpu)                                                              \
  ((__typeof__(ptr))vcpusim_api->per_cpu_ptr(__start_vcpusim_percpu, __stop_vcpusim_percpu, \
                                             (ptr), (cpu)))
#define this_cpu_ptr(ptr) per_cpu_ptr(ptr, smp_processor_id())
#define per_cpu(var, cpu) (*per_cpu_ptr(&(var), (cpu)))
#define this_cpu_read(var) READ_ONCE(*this_cpu_ptr(&(var)))
#define this_cpu_write(var, val) WRITE_ONCE(*this_cpu_ptr(&(var)), (val))

/* Preemption (include/linux/preempt.h names): a per-vCPU count. An enable without its disable,
 * or a workload's run returning with the count above 0, is a preempt_count violation; so is
 * might_sleep() with preemption or interrupts disabled. pv_wait with preemption disabled is
 * not (a pv spinlock halts so). */
#define preempt_disable() (vcpusim_api->preempt_disable)()
#define preempt_enable() (vcpusim_api->preempt_enable)()
#define preempt_count() ((vcpusim_api->preempt_count)())
#define might_sleep() (vcpusim_api->might_sleep)(__FILE__, __LINE__)

/* Guest allocation (include/linux/slab.h names): memory vcpusim owns, zeroed, 64-byte aligned,
 * an object of its own ("kmalloc<N>+0x..", N counting this run's allocations). An access after
 * kfree is a use_after_free violation naming where it was freed; the memory is never reused.
 * A GFP_KERNEL allocation may sleep (might_sleep); GFP_ATOMIC may not. */
typedef unsigned gfp_t;
#define GFP_ATOMIC 0u
#define GFP_KERNEL 1u
#define kmalloc(size, flags)                              \
  ({                                                      \
    if ((flags) & GFP_KERNEL) might_sleep();              \
    vcpusim_api->alloc(size);                             \
  })
#define kzalloc(size, flags) kmalloc(size, flags) /* vcpusim's memory is always zeroed */
#define kfree(p) (vcpusim_api->free)((p), __FILE__, __LINE__)

/* The TSC (as arch/x86's rdtsc_ordered) and its frequency. */
static inline uint64_t rdtsc_ordered(void) { return vcpusim_api->rdtsc(); }
static inline int64_t vcpusim_tsc_hz(void) { return vcpusim_api->tsc_hz(); }

/* The trace (--trace): a note on this vCPU's lane, and a named span from begin to end. */
static inline void vcpusim_note(const char *text) { vcpusim_api->trace_note(text); }
static inline void vcpusim_span_begin(const char *name) { vcpusim_api->trace_span_begin(name); }
static inline void vcpusim_span_end(const char *name) { vcpusim_api->trace_span_end(name); }
/* A registered metric (struct vcpusim_metric) moves on by delta. */
static inline void vcpusim_metric_add(const struct vcpusim_metric *m, int64_t delta) {
  vcpusim_api->metric_add(m, delta);
}

#endif /* VCPUSIM_LINUX_H */
