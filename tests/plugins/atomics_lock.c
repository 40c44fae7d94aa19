/* Checks <vcpusim/linux.h>'s operations on every size (and the interrupt flag), from guest code (tests/c_plugin_test.cpp):
 * each lock() runs them on its own object under a test-and-set lock and asserts every result,
 * so a wrong width, sign or return value is a guest_assert violation. */
#include <vcpusim/linux.h>

struct object {
  atomic_t taken;
  uint8_t byte;
  int8_t signed_byte;
  uint16_t half;
  uint32_t word;
  atomic64_t big;
  uint64_t quad;
};

static void check_sizes(struct object *o) {
  WRITE_ONCE(o->byte, 0xfe);
  VCPUSIM_ASSERT(cmpxchg(&o->byte, 0xfe, 0x01) == 0xfe, "1-byte cmpxchg returns the old value");
  VCPUSIM_ASSERT(READ_ONCE(o->byte) == 0x01, "1-byte cmpxchg stored");
  VCPUSIM_ASSERT(xchg(&o->byte, 0x80) == 0x01, "1-byte xchg");
  WRITE_ONCE(o->signed_byte, -3);
  VCPUSIM_ASSERT(READ_ONCE(o->signed_byte) == -3, "a signed byte reads back negative");
  WRITE_ONCE(o->half, 0xbeef);
  uint16_t expect = 0x1234;
  VCPUSIM_ASSERT(!try_cmpxchg(&o->half, &expect, 7), "2-byte try_cmpxchg fails on a mismatch");
  VCPUSIM_ASSERT(expect == 0xbeef, "try_cmpxchg returns what was there");
  VCPUSIM_ASSERT(try_cmpxchg(&o->half, &expect, 7), "2-byte try_cmpxchg succeeds");
  VCPUSIM_ASSERT(smp_load_acquire(&o->half) == 7, "2-byte value");
  smp_store_release(&o->word, 0xffffffffu);
  VCPUSIM_ASSERT(cmpxchg(&o->word, 0xffffffffu, 0u) == 0xffffffffu, "4-byte cmpxchg");
  WRITE_ONCE(o->quad, 0x0123456789abcdefULL);
  VCPUSIM_ASSERT(xchg(&o->quad, 1) == 0x0123456789abcdefULL, "8-byte xchg");
  atomic64_set(&o->big, -5);
  VCPUSIM_ASSERT(atomic64_add_return(7, &o->big) == 2, "atomic64_add_return");
  VCPUSIM_ASSERT(atomic64_fetch_sub(3, &o->big) == 2, "atomic64_fetch_sub");
  VCPUSIM_ASSERT(atomic64_read(&o->big) == -1, "atomic64 is signed");
  VCPUSIM_ASSERT(atomic64_cmpxchg(&o->big, -1, 1LL << 40) == -1, "atomic64_cmpxchg");
  VCPUSIM_ASSERT(atomic64_xchg(&o->big, 0) == 1LL << 40, "atomic64_xchg keeps 64 bits");
  VCPUSIM_ASSERT(atomic64_inc_return(&o->big) == 1 && atomic64_dec_and_test(&o->big),
                 "atomic64_inc_return, atomic64_dec_and_test");
}

static void lock(void *p) {
  struct object *o = p;
  while (atomic_cmpxchg(&o->taken, 0, 1) != 0) smp_cond_load_acquire(&o->taken.counter, VAL == 0);
  VCPUSIM_ASSERT(atomic_inc_return(&o->taken) == 2 && atomic_dec_return(&o->taken) == 1,
                 "atomic_t inc/dec return");
  VCPUSIM_ASSERT(atomic_fetch_add(-2, &o->taken) == 1 && atomic_read(&o->taken) == -1,
                 "atomic_t is signed");
  atomic_set(&o->taken, 1);
  check_sizes(o);
}

static void unlock(void *p) {
  struct object *o = p;
  unsigned long flags;
  local_irq_save(flags);
  VCPUSIM_ASSERT(irqs_disabled(), "local_irq_save disables interrupts");
  local_irq_restore(flags);
  VCPUSIM_ASSERT(irqs_disabled() == !flags, "local_irq_restore puts the flag back");
  int one = 1;
  VCPUSIM_ASSERT(atomic_try_cmpxchg(&o->taken, &one, 0), "atomic_try_cmpxchg releases");
}

static const struct vcpusim_lock_ops ops = {
    "c:atomics", "checks linux.h's operations of every size", sizeof(struct object), 0, 0, lock,
    unlock};

int vcpusim_plugin_init(const struct vcpusim_host_api *api, unsigned abi_version) {
  if (vcpusim_begin(api, abi_version) != 0) return 1;
  return api->register_lock(&ops);
}
