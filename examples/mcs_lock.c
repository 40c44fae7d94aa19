/* An MCS queue lock (Mellor-Crummey and Scott, 1991) as C guest code.
 *
 * Each waiter spins on a flag in its own queue node instead of on the lock word, so a release
 * moves one cacheline to one waiter rather than to every spinner. The lock word holds only the
 * tail of the queue. A node is named by a 32-bit code rather than by its address, as the Linux
 * qspinlock encodes its tail: (cpu + 1) << 2 | nesting level. The values stored in shared memory
 * then do not depend on where the plugin was loaded.
 *
 * The nodes are per-CPU: nodes[cpu][level], indexed by smp_processor_id(), one cacheline each.
 * `level` counts the MCS locks this CPU holds or waits for at once (a lock taken inside an
 * interrupt handler nests one deeper); locks are released in the reverse order they were taken.
 * The nesting count is private to its CPU, so it is plain C, not a guest access.
 *
 * Build and run (docs/c-guest-code.md):
 *   vcpusim cc mcs_lock.c -o mcs_lock.so
 *   vcpusim run SCENARIO --plugin mcs_lock.so --set guest.locks.kind=c:mcs */
#include <vcpusim/linux.h>

#define MCS_MAX_CPUS 1024 /* vcpusim's most vCPUs */
#define MCS_MAX_NESTING 4

struct mcs_node {
  uint32_t next;   /* code of the node queued behind this one; 0: none yet */
  uint32_t locked; /* set by the predecessor when it hands the lock over */
} __attribute__((aligned(64)));

struct mcs_lock {
  uint32_t tail; /* code of the last queued node; 0: the lock is free */
};

static struct mcs_node nodes[MCS_MAX_CPUS][MCS_MAX_NESTING];
static int nesting[MCS_MAX_CPUS];

static uint32_t node_code(int cpu, int level) {
  return (uint32_t)(cpu + 1) << 2 | (uint32_t)level;
}

static struct mcs_node* node_of(uint32_t code) {
  return &nodes[(code >> 2) - 1][code & 3];
}

static void mcs_lock(void* object) {
  struct mcs_lock* lock = object;
  const int cpu = smp_processor_id();
  BUG_ON(nesting[cpu] >= MCS_MAX_NESTING); /* reported; the mask below keeps the index in range */
  const int level = nesting[cpu]++ & (MCS_MAX_NESTING - 1);
  struct mcs_node* node = &nodes[cpu][level];
  WRITE_ONCE(node->locked, 0);
  WRITE_ONCE(node->next, 0);
  /* Queue behind the current tail; a free lock (tail 0) is ours at once. */
  const uint32_t prev = xchg(&lock->tail, node_code(cpu, level));
  if (prev == 0) return;
  WRITE_ONCE(node_of(prev)->next, node_code(cpu, level));
  smp_cond_load_acquire(&node->locked, VAL != 0); /* only our own line: event-driven */
}

static void mcs_unlock(void* object) {
  struct mcs_lock* lock = object;
  const int cpu = smp_processor_id();
  const int level = --nesting[cpu] & (MCS_MAX_NESTING - 1);
  struct mcs_node* node = &nodes[cpu][level];
  const uint32_t me = node_code(cpu, level);
  uint32_t next = READ_ONCE(node->next);
  if (next == 0) {
    /* No successor seen: free the lock, unless one is between its xchg and its link. */
    if (cmpxchg(&lock->tail, me, 0) == me) return;
    next = smp_cond_load_acquire(&node->next, VAL != 0);
  }
  smp_store_release(&node_of(next)->locked, 1);
}

static const struct vcpusim_lock_ops mcs_ops = {
    .name = "c:mcs",
    .doc = "MCS queue lock in C, per-CPU nodes (examples/mcs_lock.c)",
    .size = sizeof(struct mcs_lock),
    .fair = 1,
    .init = 0,
    .lock = mcs_lock,
    .unlock = mcs_unlock,
};

int vcpusim_plugin_init(const struct vcpusim_host_api* api, unsigned abi_version) {
  if (vcpusim_begin(api, abi_version) != 0) return 1;
  return api->register_lock(&mcs_ops);
}
