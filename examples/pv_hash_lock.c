/* A paravirt spinlock whose halted waiter is found through a lock -> waiter hash table, in the
 * shape of the Linux pv qspinlock's pv_hash / pv_unhash (kernel/locking/qspinlock_paravirt.h),
 * as C guest code. Compiled with -DSTOP_AT_EMPTY, the unlocker's lookup stops at the first empty
 * entry: the bug of vcpusim's built-in `pv_hash_lookup = "stop-at-empty"` (docs/locks.md).
 *
 * The lock word is 0 (free), PV_LOCKED, or PV_SLOW (locked, and a waiter is halted in pv_wait).
 * One waiter at a time is the lock's head (the others spin on the word). The head polls the word
 * for a while; then, instead of burning its host CPU, it records (lock -> its vCPU) in the hash
 * table, turns PV_LOCKED into PV_SLOW and halts. An unlocker that finds PV_SLOW removes the
 * lock's entry from the table (pv_unhash), frees the lock and kicks the vCPU the entry named.
 *
 * The table is open-addressed with linear probing and no tombstones: removing an entry writes 0
 * into it. An entry can therefore sit behind an emptied one (inserted while an earlier entry of
 * its chain was in use, which was removed since). A lookup that stops at the first empty entry
 * misses it: the unlocker finds no entry (the kernel's BUG(); VCPUSIM_ASSERT here, a
 * guest_assert violation) and the halted head is never kicked. A lookup that probes until it
 * finds the lock is right, since PV_SLOW is set only after the entry is in the table.
 *
 * The table has one bucket of PV_HASH_ENTRIES entries, so every lock's chain starts at entry 0:
 * a small table standing in for a large one with long chains, as scenarios/pv-hash-stop-at-empty
 * does for the built-in lock. Locks are named by an id init gives them, not by their address,
 * so the probe order never depends on where vcpusim allocated the lock.
 *
 * Build and run (docs/c-guest-code.md):
 *   vcpusim cc pv_hash_lock.c -o pv_hash_lock.so                      (probe until found)
 *   vcpusim cc -DSTOP_AT_EMPTY pv_hash_lock.c -o pv_hash_stop.so      (the bug)
 *   vcpusim explore examples/pv_hash_lock.json --plugin ./pv_hash_stop.so */
#include <vcpusim/linux.h>

#define PV_LOCKED 1u
#define PV_SLOW 3u

#define PV_HASH_ENTRIES 4    /* a power of two */
#define PV_HASH_BUCKET 4     /* entries per bucket: a chain starts at a bucket's first entry */
#define PV_HEAD_POLLS 16     /* the head polls the word this many times ... */
#define PV_HEAD_POLL_NS 1000 /* ... this far apart, then halts */

struct pv_lock {
  uint32_t val;  /* 0, PV_LOCKED or PV_SLOW */
  uint32_t head; /* the head waiter's vCPU + 1; 0: none */
  uint32_t id;   /* 1, 2, ...: the lock's name in the hash table */
};

struct pv_hash_entry {
  uint32_t lock; /* the id of the lock; 0: a free entry */
  uint32_t cpu;  /* the halted vCPU waiting for it */
};

static struct pv_hash_entry pv_hash_table[PV_HASH_ENTRIES] __attribute__((aligned(64)));
static uint32_t lock_ids; /* written by init only, before any vCPU runs: plain C */

static unsigned pv_hash_first(uint32_t id) {
  return (id * 0x9e3779b1u) & (PV_HASH_ENTRIES - 1) & ~(unsigned)(PV_HASH_BUCKET - 1);
}

/* Claims a free entry for the lock and records the waiting vCPU in it. */
static struct pv_hash_entry* pv_hash(const struct pv_lock* lock, int cpu) {
  const unsigned first = pv_hash_first(lock->id);
  for (unsigned i = 0; i < PV_HASH_ENTRIES; i++) {
    struct pv_hash_entry* e = &pv_hash_table[(first + i) & (PV_HASH_ENTRIES - 1)];
    if (cmpxchg(&e->lock, 0u, lock->id) == 0) {
      WRITE_ONCE(e->cpu, (uint32_t)cpu);
      return e;
    }
  }
  VCPUSIM_ASSERT(0, "pv_hash: the hash table is full");
  return 0;
}

/* Removes the lock's entry and returns the vCPU it named; -1 when the lookup fails. */
static int pv_unhash(const struct pv_lock* lock) {
  const unsigned first = pv_hash_first(lock->id);
  for (unsigned i = 0; i < PV_HASH_ENTRIES; i++) {
    struct pv_hash_entry* e = &pv_hash_table[(first + i) & (PV_HASH_ENTRIES - 1)];
    const uint32_t l = READ_ONCE(e->lock);
    if (l == lock->id) {
      const int cpu = (int)READ_ONCE(e->cpu);
      WRITE_ONCE(e->lock, 0u);
      return cpu;
    }
#ifdef STOP_AT_EMPTY
    if (l == 0) break; /* wrong: the entry may lie behind one emptied since it was inserted */
#endif
  }
  VCPUSIM_ASSERT(0, "pv_unhash: no hash entry for a lock whose waiter is halted");
  return -1;
}

/* The head: polls the word, then hashes itself, marks the lock PV_SLOW and halts until the
 * unlocker kicks it; returns holding the lock. */
static void pv_wait_head(struct pv_lock* lock, int cpu) {
  for (;;) {
    for (int i = 0; i < PV_HEAD_POLLS; i++) {
      if (cmpxchg(&lock->val, 0u, PV_LOCKED) == 0) return;
      ndelay(PV_HEAD_POLL_NS);
    }
    struct pv_hash_entry* e = pv_hash(lock, cpu);
    if (!e) continue;
    /* The entry first, then PV_SLOW: an unlocker that sees PV_SLOW finds the entry. */
    if (cmpxchg(&lock->val, PV_LOCKED, PV_SLOW) != PV_LOCKED) {
      WRITE_ONCE(e->lock, 0u); /* freed meanwhile: take the entry back and try again */
      continue;
    }
    while (READ_ONCE(lock->val) == PV_SLOW) pv_wait(&lock->val, PV_SLOW);
  }
}

static void pv_init(void* object) {
  struct pv_lock* lock = object;
  lock->id = ++lock_ids;
}

static void pv_lock(void* object) {
  struct pv_lock* lock = object;
  const int cpu = smp_processor_id();
  for (;;) {
    if (cmpxchg(&lock->val, 0u, PV_LOCKED) == 0) return;
    if (cmpxchg(&lock->head, 0u, (uint32_t)cpu + 1) == 0) {
      pv_wait_head(lock, cpu);
      WRITE_ONCE(lock->head, 0u);
      return;
    }
    smp_cond_load_relaxed(&lock->val, VAL == 0); /* not the head: spin until it looks free */
  }
}

static void pv_unlock(void* object) {
  struct pv_lock* lock = object;
  if (cmpxchg(&lock->val, PV_LOCKED, 0u) == PV_LOCKED) return;
  /* PV_SLOW: the head is halted; its entry says which vCPU to kick. */
  const int cpu = pv_unhash(lock);
  smp_store_release(&lock->val, 0u);
  if (cpu >= 0) pv_kick(cpu);
}

static const struct vcpusim_lock_ops pv_hash_ops = {
    /* One name for both builds: a scenario runs either, and a replay names the build it ran
     * by its content hash. */
    .name = "c:pv-hash",
#ifdef STOP_AT_EMPTY
    .doc =
        "pv lock in C with a lock -> waiter hash whose lookup stops at an empty entry (the "
        "bug; examples/pv_hash_lock.c)",
#else
    .doc =
        "pv lock in C with a lock -> waiter hash whose lookup probes until found "
        "(examples/pv_hash_lock.c)",
#endif
    .size = sizeof(struct pv_lock),
    .fair = 0,
    .init = pv_init,
    .lock = pv_lock,
    .unlock = pv_unlock,
};

int vcpusim_plugin_init(const struct vcpusim_host_api* api, unsigned abi_version) {
  if (vcpusim_begin(api, abi_version) != 0) return 1;
  return api->register_lock(&pv_hash_ops);
}
