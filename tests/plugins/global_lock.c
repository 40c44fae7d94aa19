/* A test-and-set lock on a global word, shared by every lock of this kind (tests/c_plugin_test.cpp):
 * its state lives in the plugin's own data, which must start afresh at every run and whose
 * address must not matter. */
#include <vcpusim/linux.h>

static atomic_t global_word;
static atomic_t acquisitions = ATOMIC_INIT(0);

static void global_lock(void *object) {
  while (atomic_xchg(&global_word, 1) != 0)
    while (atomic_read(&global_word) != 0) cpu_relax();
  atomic_inc(&acquisitions);
}

static void global_unlock(void *object) {
  atomic_set(&global_word, 0);
}

static const struct vcpusim_lock_ops global_ops = {
    "c:global", "one test-and-set lock word in the plugin's globals", 4, 0, 0, global_lock,
    global_unlock};

int vcpusim_plugin_init(const struct vcpusim_host_api *api, unsigned abi_version) {
  if (vcpusim_begin(api, abi_version) != 0) return 1;
  return api->register_lock(&global_ops);
}
