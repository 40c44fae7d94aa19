/* A ticket spinlock as C guest code: the C port of vcpusim's built-in "ticket" lock
 * (guest/locks/ticket_lock.cpp), doing the same guest operations in the same order, so
 * `guest.locks.kind = "c:ticket"` gives the same results as "ticket" (tests/c_plugin_test.cpp).
 *
 * The lock word holds two 16-bit tickets, as x86's ticket lock did before Linux 4.2
 * (arch/x86/include/asm/spinlock.h): `head` is served, `tail` is the next ticket to hand out.
 * lock() takes a ticket with one atomic add on the tail and spins until the head reaches it;
 * unlock() moves the head on with a plain 16-bit store, as only the holder writes it.
 *
 * Build and run (docs/c-guest-code.md):
 *   vcpusim cc ticket_lock.c -o ticket_lock.so
 *   vcpusim run SCENARIO --plugin ticket_lock.so --set guest.locks.kind=c:ticket */
#include <vcpusim/linux.h>

struct ticket_lock {
  union {
    atomic_t tickets; /* head in bits 0-15, tail in bits 16-31 */
    struct {
      uint16_t head;
      uint16_t tail;
    } half;
  };
  uint16_t owner; /* the holder's ticket: its own knowledge, plain C, never shared */
};

#define TICKET_TAIL_ONE (1 << 16)

static void ticket_lock(void *object) {
  struct ticket_lock *lock = object;
  const uint32_t old = (uint32_t)atomic_fetch_add(TICKET_TAIL_ONE, &lock->tickets);
  const uint16_t me = (uint16_t)(old >> 16);
  if ((uint16_t)old != me)
    smp_cond_load_acquire(&lock->half.head, VAL == me); /* event-driven: no event per spin */
  lock->owner = me;
}

static void ticket_unlock(void *object) {
  struct ticket_lock *lock = object;
  smp_store_release(&lock->half.head, (uint16_t)(lock->owner + 1));
}

static const struct vcpusim_lock_ops ticket_ops = {
    .name = "c:ticket",
    .doc = "FIFO ticket lock in C (examples/ticket_lock.c)",
    .size = sizeof(struct ticket_lock),
    .fair = 1,
    .init = 0,
    .lock = ticket_lock,
    .unlock = ticket_unlock,
};

int vcpusim_plugin_init(const struct vcpusim_host_api *api, unsigned abi_version) {
  if (vcpusim_begin(api, abi_version) != 0) return 1;
  return api->register_lock(&ticket_ops);
}
