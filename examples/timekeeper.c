/* A timekeeper and its vDSO readers as C guest code: seed 001 (docs/timekeeping.md), the
 * split publish that lets time go backwards when the host preempts the timekeeping vCPU.
 *
 * The clock is a line through (cycle_last, base): now = base + (tsc - cycle_last) * mult,
 * with base kept in ns << SHIFT as the kernel keeps xtime_nsec. Every `tick` the writer
 * (workload c:tk_writer, on the timekeeping vCPU) reads the TSC (c0), moves the line's anchor to
 * c0 and sets a new mult: one update in two lowers it by `adjust_ppm`, the next puts it back, as
 * an NTP frequency step does. The new line meets the old one at c0, so time stays monotonic, but
 * only for readers that never extrapolated the old line past c0.
 *
 * Buggy (default): c0 is read, the update computed (`update` of work), and the result published
 * in two steps, each its own seqcount write section: first the anchor (base, cycle_last), then
 * mult. Between c0 and the second step readers keep using the old mult past c0. If the host
 * preempts the writer there for D, a reader's time runs ahead at the old rate and falls back by
 * about D x (delta mult / mult) when the new mult lands: a backward step of ~15 us for a 30 ms
 * preemption at 500 ppm. Without preemption D is a few microseconds and the step is below a ns.
 *
 * FIXED: one seqcount write section from before c0 to after the last store, so no reader reads
 * the clock between c0 and the publish (they retry, spinning, while the writer is preempted).
 *
 * Readers (workload c:tk_reader): the vDSO's seqcount read side, then an assertion that their
 * own time (a per-CPU variable) never goes backwards.
 *
 * Build and run (docs/c-guest-code.md):
 *   vcpusim cc timekeeper.c -o timekeeper.so            (or -DFIXED)
 *   vcpusim run tests/inputs/c-timekeeper.json --plugin timekeeper.so */
#include <vcpusim/linux.h>

#define SHIFT 24

/* The published clock (the vDSO data page): read by every reader, written by the writer. */
static struct {
  unsigned seq;
  uint64_t cycle_last;
  uint64_t base; /* ns << SHIFT at cycle_last */
  uint64_t mult; /* ns << SHIFT per TSC cycle */
} vdso;

/* The writer's own copy (the kernel's timekeeper): plain C, only the writer touches it. */
static uint64_t tk_cycle_last, tk_base, tk_mult, nominal_mult;

DEFINE_PER_CPU(uint64_t, last_ns); /* each reader's latest time */

static const struct vcpusim_metric updates = {"timekeeper.updates", "count",
                                              "clock updates the writer published"};
static const struct vcpusim_metric retries = {"timekeeper.retries", "count",
                                              "reader seqcount retries"};
static const struct vcpusim_metric backward = {"timekeeper.backward_steps", "count",
                                               "reads that returned less than the reader's last"};

static void publish_begin(void) {
  WRITE_ONCE(vdso.seq, vdso.seq + 1);
  smp_wmb();
}
static void publish_end(void) {
  smp_wmb();
  WRITE_ONCE(vdso.seq, vdso.seq + 1);
}

enum { P_TICK, P_UPDATE, P_ADJUST };

static void writer(const int64_t* p) {
  const uint64_t hz = (uint64_t)vcpusim_tsc_hz();
  const uint64_t period = (uint64_t)p[P_TICK] * hz / 1000000000u; /* in cycles */
  /* Boot: the clock reads 0 now and runs at 1 ns per ns. */
  nominal_mult = ((uint64_t)1000000000u << SHIFT) / hz;
  const uint64_t lowered = nominal_mult - nominal_mult * (uint64_t)p[P_ADJUST] / 1000000u;
  tk_mult = nominal_mult;
  tk_cycle_last = rdtsc_ordered();
  publish_begin();
  WRITE_ONCE(vdso.cycle_last, tk_cycle_last);
  WRITE_ONCE(vdso.mult, tk_mult);
  publish_end();
  uint64_t next = tk_cycle_last + period; /* updates on the period's grid from boot */
  for (uint64_t n = 1;; ++n) {
    uint64_t now = rdtsc_ordered();
    if (now < next)
      ndelay((unsigned long)((next - now) * 1000000000u / hz));
    else
      next += (now - next) / period * period; /* late (preempted): the ticks missed are one */
    next += period;
    vcpusim_span_begin("tk update");
#ifdef FIXED
    publish_begin();
#endif
    const uint64_t c0 = rdtsc_ordered();
    tk_base += (c0 - tk_cycle_last) * tk_mult;
    tk_cycle_last = c0;
    tk_mult = (n % 2 == 1) ? lowered : nominal_mult; /* the NTP step, then back */
    ndelay((unsigned long)p[P_UPDATE]);              /* the rest of the update */
#ifdef FIXED
    WRITE_ONCE(vdso.base, tk_base);
    WRITE_ONCE(vdso.cycle_last, tk_cycle_last);
    WRITE_ONCE(vdso.mult, tk_mult);
    publish_end();
#else
    publish_begin(); /* step 1: the anchor */
    WRITE_ONCE(vdso.base, tk_base);
    WRITE_ONCE(vdso.cycle_last, tk_cycle_last);
    publish_end();
    publish_begin(); /* step 2: the rate, long after c0 if the host preempted us */
    WRITE_ONCE(vdso.mult, tk_mult);
    publish_end();
#endif
    vcpusim_span_end("tk update");
    vcpusim_metric_add(&updates, 1);
  }
}

/* clock_gettime through the vDSO: ns since boot (0 until the writer's first publish). */
static uint64_t read_clock(void) {
  for (;;) {
    const unsigned seq = READ_ONCE(vdso.seq);
    if (seq & 1) {
      cpu_relax();
      continue;
    }
    smp_rmb();
    const uint64_t cycles = rdtsc_ordered();
    const uint64_t last = READ_ONCE(vdso.cycle_last);
    const uint64_t base = READ_ONCE(vdso.base);
    const uint64_t mult = READ_ONCE(vdso.mult);
    smp_rmb();
    if (READ_ONCE(vdso.seq) == seq)
      return (base + (cycles > last ? cycles - last : 0) * mult) >> SHIFT;
    vcpusim_metric_add(&retries, 1);
  }
}

enum { P_PAUSE };

static void reader(const int64_t* p) {
  uint64_t* mine = this_cpu_ptr(&last_ns);
  for (;;) {
    const uint64_t now = read_clock();
    const uint64_t before = READ_ONCE(*mine);
    if (now < before) {
      vcpusim_metric_add(&backward, 1);
      vcpusim_note("time went backwards");
    }
    VCPUSIM_ASSERT(now >= before, "vDSO time went backwards");
    WRITE_ONCE(*mine, now);
    ndelay((unsigned long)p[P_PAUSE]);
  }
}

static const struct vcpusim_param writer_params[] = {
    {"tick", VCPUSIM_PARAM_DURATION, "ns", 10000, 1000000000, 4000000,
     "time between two clock updates (the tick)"},
    {"update", VCPUSIM_PARAM_DURATION, "ns", 0, 1000000, 10000,
     "work between reading c0 and publishing"},
    {"adjust_ppm", VCPUSIM_PARAM_INT, "ppm", 0, 500, 500,
     "how much every other update lowers mult (an NTP frequency step)"},
};
static const struct vcpusim_workload_ops writer_ops = {
    .name = "c:tk_writer",
    .doc = "the timekeeper: clock updates every `tick` (examples/timekeeper.c)",
    .params = writer_params,
    .param_count = sizeof writer_params / sizeof writer_params[0],
    .run = writer,
};
static const struct vcpusim_param reader_params[] = {
    {"pause", VCPUSIM_PARAM_DURATION, "ns", 0, 1000000000, 200, "computation between two reads"},
};
static const struct vcpusim_workload_ops reader_ops = {
    .name = "c:tk_reader",
    .doc = "clock_gettime through the vDSO in a loop, asserting time never goes backwards",
    .params = reader_params,
    .param_count = 1,
    .run = reader,
};

int vcpusim_plugin_init(const struct vcpusim_host_api* api, unsigned abi_version) {
  if (vcpusim_begin(api, abi_version) != 0) return 1;
  if (api->register_workload(&writer_ops) || api->register_workload(&reader_ops)) return 1;
  if (api->register_metric(&updates) || api->register_metric(&retries) ||
      api->register_metric(&backward))
    return 1;
  return 0;
}
