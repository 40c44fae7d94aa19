/* Guest code that breaks its rules, one way per lock kind (tests/c_plugin_test.cpp): an
 * assertion that fails, and an unaligned atomic. */
#include <vcpusim/linux.h>

struct word_lock {
  atomic_t taken;
};

static void tas_lock(void *object) {
  struct word_lock *lock = object;
  while (atomic_xchg(&lock->taken, 1) != 0)
    while (atomic_read(&lock->taken) != 0) cpu_relax();
}

static void tas_unlock(void *object) {
  struct word_lock *lock = object;
  WARN_ON(atomic_read(&lock->taken) == 1); /* always true: the assertion under test */
  atomic_set(&lock->taken, 0);
}

static void unaligned_lock(void *object) {
  (void)cmpxchg((uint32_t *)((char *)object + 2), 0u, 1u);
}

static void unaligned_unlock(void *object) {}

static const struct vcpusim_lock_ops warn_ops = {
    "c:warn", "a test-and-set lock whose unlock always warns", sizeof(struct word_lock), 0, 0,
    tas_lock, tas_unlock};
static const struct vcpusim_lock_ops unaligned_ops = {
    "c:unaligned", "a cmpxchg on a misaligned word", 8, 0, 0, unaligned_lock, unaligned_unlock};

int vcpusim_plugin_init(const struct vcpusim_host_api *api, unsigned abi_version) {
  if (vcpusim_begin(api, abi_version) != 0) return 1;
  if (api->register_lock(&warn_ops) != 0) return 1;
  return api->register_lock(&unaligned_ops);
}
