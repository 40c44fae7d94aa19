/* A test-and-set lock written with the compiler's own atomics, and plain globals the lock
 * protects (tests/instrumented_plugin_test.cpp). Only an instrumented build
 * (`vcpusim cc --instrument`) makes its accesses guest accesses: its atomics through
 * __tsan_atomic32_*, its plain loads and stores through __tsan_read4 / __tsan_write4.
 * With -DRACY the acquisition counter is bumped before the lock is taken: a data race that the
 * data_race check must report at that line. */
#include <vcpusim/linux.h>

static int acquisitions; /* plain, protected by the lock */
static int owner = -1;   /* plain, protected by the lock */

static void counted_lock(void *object) {
  int *word = object;
#ifdef RACY
  acquisitions++; /* racy: outside the lock */
#endif
  while (__atomic_exchange_n(word, 1, __ATOMIC_ACQUIRE) != 0)
    while (__atomic_load_n(word, __ATOMIC_RELAXED) != 0) cpu_relax();
#ifndef RACY
  acquisitions++;
#endif
  owner = smp_processor_id();
}

static void counted_unlock(void *object) {
  BUG_ON(owner != smp_processor_id());
  owner = -1;
  __atomic_store_n((int *)object, 0, __ATOMIC_RELEASE);
}

static const struct vcpusim_lock_ops counted_ops = {
    "c:counted", "test-and-set with compiler atomics and plain protected data", 4, 0, 0,
    counted_lock, counted_unlock};

int vcpusim_plugin_init(const struct vcpusim_host_api *api, unsigned abi_version) {
  if (vcpusim_begin(api, abi_version) != 0) return 1;
  return api->register_lock(&counted_ops);
}
