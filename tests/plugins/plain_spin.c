/* A test-and-set lock whose waiter spins on a plain volatile load with no cpu_relax
 * (tests/instrumented_plugin_test.cpp), for instrumented mode: each load is a guest operation,
 * and the test measures that it costs no kernel event per iteration. */
#include <vcpusim/linux.h>
static void spin_lock(void *o) {
  volatile int *w = o;
  for (;;) {
    while (*w) ; /* plain volatile spin, no cpu_relax */
    if (__atomic_exchange_n((int *)o, 1, __ATOMIC_ACQUIRE) == 0) return;
  }
}
static void spin_unlock(void *o) { __atomic_store_n((int *)o, 0, __ATOMIC_RELEASE); }
static const struct vcpusim_lock_ops ops = {"c:plainspin", "plain volatile spin", 4, 0, 0, spin_lock, spin_unlock};
int vcpusim_plugin_init(const struct vcpusim_host_api *api, unsigned v) {
  if (vcpusim_begin(api, v) != 0) return 1;
  return api->register_lock(&ops);
}
