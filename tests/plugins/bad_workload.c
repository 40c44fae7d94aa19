/* A plugin whose workload parameter has its default outside its range (tests/
 * c_workload_test.cpp: the load fails with one message). */
#include <vcpusim/guest.h>

static void run(const int64_t* p) {}
static const struct vcpusim_param params[] = {
    {"spins", VCPUSIM_PARAM_INT, "count", 1, 10, 20, "spins per round"},
};
static const struct vcpusim_workload_ops ops = {"c:bad", "a bad default", params, 1, run};

int vcpusim_plugin_init(const struct vcpusim_host_api* api, unsigned abi_version) {
  if (vcpusim_begin(api, abi_version) != 0) return 1;
  return api->register_workload(&ops);
}
