/* A counter that several vCPUs bump, as C guest code for instrumented mode
 * (docs/c-guest-code.md "Data races").
 *
 * Each vCPU adds `increments` to one shared counter, `gap` of computation apart, then
 * checks nothing: the bug is not a wrong result the code can see but a data race. The plain
 * `hits++` is a load and a store that another vCPU's increment can fall between; nothing orders
 * the two vCPUs' accesses, so in instrumented mode the data_race check reports the line.
 * Built with -DFIXED the counter is an atomic_t and `atomic_inc` is one marked read-modify-write:
 * clean. The `racy_counter.lost` metric counts the increments lost by the end of the run.
 *
 * Build and run (instrumented, so plain accesses are guest accesses):
 *   vcpusim cc --instrument racy_counter.c -o racy_counter.so
 *   vcpusim run racy-counter.json --plugin ./racy_counter.so */
#include <vcpusim/linux.h>

#ifdef FIXED
static atomic_t hits = ATOMIC_INIT(0);
#define BUMP() atomic_inc(&hits)
#define HITS() atomic_read(&hits)
#else
static int hits;
#define BUMP() hits++ /* racy: a plain load and store */
#define HITS() READ_ONCE(hits)
#endif
static atomic_t done = ATOMIC_INIT(0);

static const struct vcpusim_metric lost = {
    "racy_counter.lost", "count", "increments lost: the vCPUs' sum minus the final counter"};

enum { P_INCREMENTS, P_GAP };

static void bump(const int64_t *p) {
  for (int64_t i = 0; i < p[P_INCREMENTS]; i++) {
    BUMP();
    ndelay((unsigned long)p[P_GAP]);
  }
  /* The last vCPU to finish compares the counter with what all of them added. */
  if (atomic_inc_return(&done) == num_possible_cpus())
    vcpusim_metric_add(&lost, (int64_t)p[P_INCREMENTS] * num_possible_cpus() - HITS());
}

static const struct vcpusim_param params[] = {
    {"increments", VCPUSIM_PARAM_INT, "count", 1, 1000000, 1000, "increments per vCPU"},
    {"gap", VCPUSIM_PARAM_DURATION, "ns", 0, 1000000, 50, "computation between two increments"},
};

static const struct vcpusim_workload_ops ops = {
    .name = "c:racy_counter",
    .doc = "every listed vCPU bumps one shared counter (examples/racy_counter.c)",
    .params = params,
    .param_count = sizeof params / sizeof params[0],
    .run = bump,
};

int vcpusim_plugin_init(const struct vcpusim_host_api *api, unsigned abi_version) {
  if (vcpusim_begin(api, abi_version) != 0) return 1;
  if (api->register_workload(&ops) || api->register_metric(&lost)) return 1;
  return 0;
}
