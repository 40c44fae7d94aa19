/* Workloads that exercise one C guest feature each (tests/c_workload_test.cpp): per-CPU data,
 * allocation and use after free, the preemption count, trace notes and spans, and a pv_wait
 * whose kick is lost. The `variant` parameter picks the right or the wrong use. */
#include <vcpusim/linux.h>

DEFINE_PER_CPU(uint64_t, hits);
DEFINE_PER_CPU(uint64_t, misses); /* the next variable: the same area, the same line */

static const struct vcpusim_metric hits_total = {"features.hits", "count",
                                                 "per-CPU increments, over all vCPUs"};

enum { P_ROUNDS, P_VARIANT };

static void percpu(const int64_t* p) {
  for (int64_t i = 0; i < p[P_ROUNDS]; ++i) {
    uint64_t* mine = this_cpu_ptr(&hits);
    WRITE_ONCE(*mine, READ_ONCE(*mine) + 1);
    this_cpu_write(misses, this_cpu_read(misses) + 2);
    vcpusim_metric_add(&hits_total, 1);
    ndelay(100);
  }
  /* Every vCPU's copy stayed its own: this vCPU's count is exactly its own increments. */
  VCPUSIM_ASSERT(READ_ONCE(per_cpu(hits, smp_processor_id())) == (uint64_t)p[P_ROUNDS],
                 "per-CPU copies are shared");
  VCPUSIM_ASSERT(this_cpu_read(misses) == 2 * (uint64_t)p[P_ROUNDS], "per-CPU neighbour clobbered");
  /* One look at the next vCPU's copy: its line moves here once, and only that line. */
  (void)READ_ONCE(per_cpu(hits, (smp_processor_id() + 1) % num_possible_cpus()));
}

struct node {
  uint64_t key;
  uint64_t value;
};
static struct node* shared_node;

/* variant 0: allocate, use, free; 1: use the object after freeing it. */
static void alloc(const int64_t* p) {
  struct node* n = kmalloc(sizeof *n, GFP_KERNEL);
  VCPUSIM_ASSERT(n && READ_ONCE(n->value) == 0, "kmalloc gave no zeroed object");
  WRITE_ONCE(n->value, 42);
  WRITE_ONCE(shared_node, n);
  kfree(n);
  if (p[P_VARIANT] == 1) (void)READ_ONCE(n->value);
}

/* variant 0: balanced; 1: returns with preemption disabled; 2: one enable too many;
 * 3: might_sleep (a GFP_KERNEL kmalloc) with preemption disabled. */
static void preempt(const int64_t* p) {
  preempt_disable();
  ndelay(1000);
  if (p[P_VARIANT] == 3) kfree(kmalloc(8, GFP_KERNEL));
  if (p[P_VARIANT] != 1) preempt_enable();
  if (p[P_VARIANT] == 2) preempt_enable();
  VCPUSIM_ASSERT(preempt_count() == (p[P_VARIANT] == 1 ? 1 : 0), "preempt_count is off");
}

static void trace(const int64_t* p) {
  for (int64_t i = 0; i < p[P_ROUNDS]; ++i) {
    vcpusim_span_begin("c work");
    ndelay(1000);
    vcpusim_span_end("c work");
    vcpusim_note("c checkpoint");
  }
}

/* vCPU 0 sets the flag (and kicks vCPU 1 unless variant is 1); the others pv_wait for it. */
static int flag;
static void wakeup(const int64_t* p) {
  if (smp_processor_id() == 0) {
    ndelay(50000);
    WRITE_ONCE(flag, 1);
    if (p[P_VARIANT] != 1) pv_kick(1);
    return;
  }
  while (READ_ONCE(flag) == 0) pv_wait(&flag, 0);
}

static const struct vcpusim_param params[] = {
    {"rounds", VCPUSIM_PARAM_INT, "count", 0, 1000000, 100, "rounds"},
    {"variant", VCPUSIM_PARAM_INT, "variant", 0, 3, 0,
     "0: right; 1 to 3: a wrong use (see the source)"},
};
#define WORKLOAD(n, f, d) \
  { n, d, params, 2, f }
static const struct vcpusim_workload_ops workloads[] = {
    WORKLOAD("t:percpu", percpu, "increments of per-CPU counters"),
    WORKLOAD("t:alloc", alloc, "kmalloc, kfree, and (variant 1) a use after free"),
    WORKLOAD("t:preempt", preempt, "a preempt_disable section, right or wrong"),
    WORKLOAD("t:trace", trace, "trace spans and notes"),
    WORKLOAD("t:wakeup", wakeup, "pv_wait for a flag; variant 1 forgets the kick"),
};

int vcpusim_plugin_init(const struct vcpusim_host_api* api, unsigned abi_version) {
  if (vcpusim_begin(api, abi_version) != 0) return 1;
  for (size_t i = 0; i < sizeof workloads / sizeof workloads[0]; ++i)
    if (api->register_workload(&workloads[i])) return 1;
  return api->register_metric(&hits_total);
}
