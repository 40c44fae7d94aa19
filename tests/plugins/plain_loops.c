/* Plain loops for instrumented mode (tests/instrumented_plugin_test.cpp): which loops vcpusim may
 * wait out as spins (cpu/vm/plain_loop.hpp) and which it must run pass by pass.
 *
 * c:flag_wait: vCPU 0 computes for `delay`, then sets a flag with a plain store; every other
 * vCPU spins on it with a plain volatile load and no cpu_relax (with `count_passes`, counting
 * its passes in a volatile local), then records when it saw it.
 * c:counted_reads: each vCPU reads an unchanging word `reads` times, the count in a register
 * (or, with `on_stack`, in a volatile local), and records how long that took. */
#include <vcpusim/linux.h>

static int flag;
int plain_loops_word = 1; /* not static: a never-written static may be placed read-only */

static const struct vcpusim_metric seen_ns = {
    "plain_loops.seen_ns", "ns", "when each waiter saw the flag, from the run's start, summed"};
static const struct vcpusim_metric passes = {
    "plain_loops.passes", "count", "passes of the counting waiters' loops, summed"};
static const struct vcpusim_metric read_ns = {
    "plain_loops.read_ns", "ns", "time the counted reads took, summed over the vCPUs"};
static const struct vcpusim_metric sum = {
    "plain_loops.sum", "count", "what the counted reads added up to, over the vCPUs"};

static int64_t now_ns(void) {
  return (int64_t)(rdtsc_ordered() * 1000000000.0 / (double)vcpusim_tsc_hz());
}

enum { P_DELAY, P_COUNT };

static void flag_wait(const int64_t *p) {
  if (smp_processor_id() == 0) {
    ndelay((unsigned long)p[P_DELAY]);
    flag = 1;
    return;
  }
  if (p[P_COUNT]) {
    volatile long n = 0; /* on the stack: the loop's state moves every pass */
    while (!*(volatile int *)&flag) n++;
    vcpusim_metric_add(&passes, n);
  } else {
    while (!*(volatile int *)&flag)
      ; /* plain volatile spin, no cpu_relax */
  }
  vcpusim_metric_add(&seen_ns, now_ns());
}

enum { P_READS, P_ON_STACK };

static void counted_reads(const int64_t *p) {
  const int64_t start = now_ns();
  long total = 0;
  if (p[P_ON_STACK]) {
    for (volatile long i = 0; i < p[P_READS]; i++) total += *(volatile int *)&plain_loops_word;
  } else {
    for (long i = 0; i < p[P_READS]; i++) total += *(volatile int *)&plain_loops_word;
  }
  vcpusim_metric_add(&read_ns, now_ns() - start);
  vcpusim_metric_add(&sum, total);
}

static const struct vcpusim_param flag_params[] = {
    {"delay", VCPUSIM_PARAM_DURATION, "ns", 0, 100000000, 1000, "vCPU 0's computation first"},
    {"count_passes", VCPUSIM_PARAM_INT, "0 or 1", 0, 1, 0, "waiters count their loop's passes"},
};
static const struct vcpusim_param counted_params[] = {
    {"reads", VCPUSIM_PARAM_INT, "count", 1, 100000000, 1000, "reads per vCPU"},
    {"on_stack", VCPUSIM_PARAM_INT, "0 or 1", 0, 1, 0, "keep the count in a volatile local"},
};

static const struct vcpusim_workload_ops flag_ops = {
    .name = "c:flag_wait",
    .doc = "vCPU 0 sets a flag after a delay; the others spin on it without cpu_relax",
    .params = flag_params,
    .param_count = 2,
    .run = flag_wait,
};
static const struct vcpusim_workload_ops counted_ops = {
    .name = "c:counted_reads",
    .doc = "each vCPU reads one unchanging word a counted number of times",
    .params = counted_params,
    .param_count = 2,
    .run = counted_reads,
};

int vcpusim_plugin_init(const struct vcpusim_host_api *api, unsigned abi_version) {
  if (vcpusim_begin(api, abi_version) != 0) return 1;
  if (api->register_workload(&flag_ops) || api->register_workload(&counted_ops)) return 1;
  if (api->register_metric(&seen_ns) || api->register_metric(&passes) ||
      api->register_metric(&read_ns))
    return 1;
  return api->register_metric(&sum);
}
